{
    "name": "Order Management",
    "version": "18.0.1.0.0",
    "depends": ["sale_management", "sale_stock", "stock_delivery", "account", "portal"],
    "license": "LGPL-3",
    "installable": True,
}
