# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Order Management",
    "summary": "Order entry, review, execution, tracking and completion "
    "as a company's order-management regulation asks",
    "version": "18.0.1.0.0",
    "development_status": "Alpha",
    "category": "Sales/Sales",
    "website": "https://github.com/order-management/order_management",
    "author": "Order Management Contributors",
    "license": "LGPL-3",
    "depends": [
        "sale_management",
        "sale_stock",
        # carrier and tracking number on deliveries
        "stock_delivery",
        "account",
        "portal",
    ],
    "external_dependencies": {"python": ["openpyxl", "xlsxwriter"]},
    "data": [
        "security/order_management_groups.xml",
        "security/ir.model.access.csv",
        "security/order_management_security.xml",
        "data/mail_activity_type_data.xml",
        "data/order_review_policy_data.xml",
        "data/order_rejection_reason_data.xml",
        "data/order_special_type_data.xml",
        "data/ir_cron_data.xml",
        "wizards/sale_order_reject_wizard_views.xml",
        "views/order_import_job_views.xml",
        "views/sale_order_views.xml",
        "views/sale_order_portal_templates.xml",
        "views/stock_picking_views.xml",
        "views/order_audit_event_views.xml",
        "views/order_review_policy_views.xml",
        "views/order_legality_rule_views.xml",
        "views/order_rejection_reason_views.xml",
        "views/order_special_type_views.xml",
        "views/res_partner_views.xml",
        "views/res_config_settings_views.xml",
        "views/order_management_menus.xml",
    ],
    "demo": [
        "demo/res_users_demo.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "order_management/static/tests/tours/*.js",
        ],
    },
    "installable": True,
}
