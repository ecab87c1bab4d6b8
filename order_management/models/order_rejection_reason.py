from odoo import fields, models


class OrderRejectionReason(models.Model):
    """Why reviewers send orders back: a short list kept by the Order Manager."""

    _name = "order.rejection.reason"
    _description = "Order Rejection Reason"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(required=True, help="Short code used in reports.")
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)

    _sql_constraints = [
        ("code_unique", "unique(code)", "Each rejection reason needs its own code."),
    ]
