from odoo import fields, models

DECISIONS = [
    ("pending", "Pending"),
    ("approved", "Approved"),
    ("rejected", "Rejected"),
    ("superseded", "Superseded"),
]


class SaleOrderReview(models.Model):
    """One review round of an order: asked once, decided once."""

    _name = "sale.order.review"
    _description = "Order Review Round"
    _order = "order_id, id desc"
    _rec_name = "order_id"

    order_id = fields.Many2one(
        "sale.order", required=True, readonly=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="order_id.company_id", store=True)
    round = fields.Integer(readonly=True, help="1 for the first review of the order.")
    requested_by_id = fields.Many2one("res.users", readonly=True)
    requested_date = fields.Datetime(readonly=True)
    decision = fields.Selection(
        DECISIONS, required=True, default="pending", readonly=True, index=True
    )
    reviewer_id = fields.Many2one("res.users", readonly=True)
    decision_date = fields.Datetime(readonly=True)
    reason = fields.Text(readonly=True, help="Why the order was rejected.")
    fingerprint = fields.Char(
        readonly=True, help="What the reviewer approved: see the order's gate."
    )
