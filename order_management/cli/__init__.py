from . import order_audit
from . import order_backup
from . import order_upgrade
