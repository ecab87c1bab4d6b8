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
        return values

    def set_values(self):
        super().set_values()
        self.env["order.audit.archive"]._set_retention_days(
            self.order_audit_retention_days
        )
