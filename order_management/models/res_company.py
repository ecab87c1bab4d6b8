from odoo import fields, models

from .res_partner import CREDIT_POLICIES


class ResCompany(models.Model):
    _inherit = "res.company"

    order_credit_policy = fields.Selection(
        CREDIT_POLICIES, string="When Over Credit", default="block", required=True
    )
    order_block_overdue = fields.Boolean(
        string="Overdue Invoices Fail the Credit Check", default=True
    )
    order_price_tolerance = fields.Float(
        string="Price Tolerance (%)",
        default=0.5,
        help="A line whose unit price is further than this from the price list "
        "gets an accuracy warning.",
    )
