from . import sale_order_reject_wizard
from . import res_users_handover
from . import order_kpi_dashboard
