from odoo import fields, models


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
