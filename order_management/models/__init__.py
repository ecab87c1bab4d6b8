from . import order_audit_event
from . import sale_order_review
from . import sale_order
from . import sale_order_line
from . import stock_picking
from . import account_move
from . import account_move_line
from . import order_importer
