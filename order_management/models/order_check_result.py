from odoo import fields, models

CHECKS = [
    ("completeness", "Completeness"),
    ("accuracy", "Accuracy"),
    ("legality", "Legality"),
    ("credit", "Credit"),
    ("duplicate", "Duplicate"),
    ("similar", "Similar Order"),
]

RESULTS = [
    ("passed", "Passed"),
    ("warning", "Warning"),
    ("failed", "Failed"),
]


class OrderCheckResult(models.Model):
    """The outcome of one automatic check of an order at its last submission."""

    _name = "order.check.result"
    _description = "Order Check Result"
    _order = "order_id, sequence, id"

    order_id = fields.Many2one(
        "sale.order", required=True, ondelete="cascade", index=True, readonly=True
    )
    sequence = fields.Integer(readonly=True)
    check = fields.Selection(CHECKS, required=True, readonly=True)
    result = fields.Selection(RESULTS, required=True, readonly=True)
    blocking = fields.Boolean(
        readonly=True, help="A failed blocking check holds the order."
    )
    needs_credit_review = fields.Boolean(
        readonly=True, help="Finance must review the order's credit."
    )
    message = fields.Char(readonly=True)
    related_order_id = fields.Many2one(
        "sale.order",
        string="Look-alike",
        readonly=True,
        ondelete="set null",
        help="The order this one duplicates or resembles.",
    )
    checked_at = fields.Datetime(readonly=True)

    def action_open_related_order(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "sale.order",
            "res_id": self.related_order_id.id,
            "views": [(False, "form")],
        }
