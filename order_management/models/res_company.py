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
    order_similar_window_days = fields.Integer(
        string="Similar Orders Within (Days)",
        default=30,
        help="Orders of the same customer ordered this many days apart or less "
        "are compared for similarity.",
    )
    order_similar_tolerance = fields.Float(
        string="Similar Quantity Tolerance (%)",
        default=10.0,
        help="Two quantities of a product this close count as the same when "
        "looking for similar orders.",
    )
