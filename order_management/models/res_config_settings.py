from odoo import api, fields, models
from odoo.exceptions import ValidationError

# Limits of the intrusion signals: none may be negative, 0 turns one off.
INTRUSION_SETTINGS = (
    "order_lockout_attempts",
    "order_lockout_minutes",
    "order_address_lockout_attempts",
    "order_address_lockout_minutes",
    "order_address_lockout_duration",
    "order_portal_rate_limit",
    "order_portal_rate_minutes",
    "order_session_idle_minutes",
)


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    order_credit_policy = fields.Selection(
        related="company_id.order_credit_policy", readonly=False
    )
    order_block_overdue = fields.Boolean(
        related="company_id.order_block_overdue", readonly=False
    )
    order_price_tolerance = fields.Float(
        related="company_id.order_price_tolerance", readonly=False
    )
    order_similar_window_days = fields.Integer(
        related="company_id.order_similar_window_days", readonly=False
    )
    order_similar_tolerance = fields.Float(
        related="company_id.order_similar_tolerance", readonly=False
    )
    order_audit_retention_days = fields.Integer(
        string="Order History Kept (Days)",
        help="Events older than this move each month from the order history to "
        "a compressed archive; 0 keeps them in the history forever.",
    )

    order_encrypt_bank_acc_number = fields.Boolean(
        string="Encrypt Customers' Bank Account Numbers",
        help="Stored encrypted with the key file named by order_field_key_file "
        "in the Odoo configuration; read by Finance and Order Managers only, "
        "masked for the others. Exact search by number still works; search by "
        "part of a number, sorting and grouping do not. Your own companies' "
        "accounts stay plain.",
    )
    order_encrypt_partner_mobile = fields.Boolean(
        string="Encrypt Contacts' Mobile Numbers",
        help="Stored encrypted with the key file named by order_field_key_file "
        "in the Odoo configuration; read by Order Entry Clerks, Logistics and "
        "Order Managers only, masked for the others. It can no longer be "
        "searched, sorted or grouped, and SMS no longer uses it.",
    )

    # Intrusion signals: system parameters, read where they act.
    order_lockout_attempts = fields.Integer(
        string="Failed Logins per Login",
        config_parameter="order_management.lockout_attempts",
        default=5,
        help="Failed logins for one login, within the minutes below, that lock "
        "it out until they age out; 0 turns the lockout of logins off.",
    )
    order_lockout_minutes = fields.Integer(
        string="Failed Logins Count For (Minutes)",
        config_parameter="order_management.lockout_minutes",
        default=15,
        help="How long a failed login counts towards the lockout of its login.",
    )
    order_address_lockout_attempts = fields.Integer(
        string="Failed Logins per Address",
        config_parameter="order_management.address_lockout_attempts",
        default=10,
        help="Failed logins from one IP address, whatever the logins, within "
        "the minutes below, that lock the address out; 0 turns it off.",
    )
    order_address_lockout_minutes = fields.Integer(
        string="Address Failures Count For (Minutes)",
        config_parameter="order_management.address_lockout_minutes",
        default=15,
        help="How long a failed login counts towards the lockout of its address.",
    )
    order_address_lockout_duration = fields.Integer(
        string="Address Locked For (Minutes)",
        config_parameter="order_management.address_lockout_duration",
        default=30,
        help="How long a locked-out address may not log in at all.",
    )
    order_portal_rate_limit = fields.Integer(
        string="Portal Requests per Customer",
        config_parameter="order_management.portal_rate_limit",
        default=20,
        help="Incident reports, signatures and declines one customer may send "
        "from the portal within the minutes below; the next ones are refused. "
        "0 turns the limit off.",
    )
    order_portal_rate_minutes = fields.Integer(
        string="Portal Requests Count For (Minutes)",
        config_parameter="order_management.portal_rate_minutes",
        default=10,
        help="How long a portal request counts towards the customer's limit.",
    )
    order_session_idle_minutes = fields.Integer(
        string="Idle Session Expiry (Minutes)",
        config_parameter="order_management.session_idle_minutes",
        default=30,
        help="A session without a request for this long is logged out; 0 keeps "
        "sessions until Odoo's own expiry.",
    )

    @api.constrains(
        "order_lockout_attempts",
        "order_lockout_minutes",
        "order_address_lockout_attempts",
        "order_address_lockout_minutes",
        "order_address_lockout_duration",
        "order_portal_rate_limit",
        "order_portal_rate_minutes",
        "order_session_idle_minutes",
    )
    def _check_intrusion_settings(self):
        for settings in self:
            for name in INTRUSION_SETTINGS:
                if settings[name] < 0:
                    raise ValidationError(
                        self.env._(
                            "%(setting)s cannot be negative: use 0 to turn it " "off.",
                            setting=self._fields[name]._description_string(self.env),
                        )
                    )

    @api.constrains("order_audit_retention_days")
    def _check_order_audit_retention_days(self):
        if any(settings.order_audit_retention_days < 0 for settings in self):
            raise ValidationError(
                self.env._(
                    "Order History Kept (Days) cannot be negative: use 0 to keep "
                    "the order history forever."
                )
            )

    @api.model
    def get_values(self):
        values = super().get_values()
        values["order_audit_retention_days"] = self.env[
            "order.audit.archive"
        ]._get_retention_days()
        encrypted = self.env["order.field.encryption"]._get_encrypted_fields()
        for candidate, enabled in encrypted.items():
            values[f"order_encrypt_{candidate}"] = enabled
        return values

    def set_values(self):
        super().set_values()
        self.env["order.audit.archive"]._set_retention_days(
            self.order_audit_retention_days
        )
        # Switching rewrites every value of the field: only when it changes.
        service = self.env["order.field.encryption"]
        for candidate in service._get_encrypted_fields():
            service._set_encrypted(candidate, self[f"order_encrypt_{candidate}"])
