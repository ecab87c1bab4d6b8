from . import sale_order_reject_wizard
from . import order_kpi_dashboard
