from . import order_audit
from . import order_backup
