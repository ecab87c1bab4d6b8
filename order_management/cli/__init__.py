from . import order_audit
