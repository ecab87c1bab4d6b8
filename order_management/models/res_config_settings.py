from odoo import api, fields, models
from odoo.exceptions import ValidationError


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
