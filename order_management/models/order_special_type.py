from odoo import fields, models


class OrderSpecialType(models.Model):
    """What makes an order special: rush, custom specification, special terms...

    Kept by the Order Manager. A type may ask for one more review level, by a
    group of its own, after the levels the review policy asks for.
    """

    _name = "order.special.type"
    _inherit = ["order.audited.mixin"]
    _description = "Special Order Type"
    _order = "sequence, id"
    _order_audited_fields = (
        "name",
        "code",
        "sequence",
        "active",
        "extra_review_group_id",
        "description",
    )

    name = fields.Char(required=True, translate=True)
    code = fields.Char(
        required=True, help="Short code, also used in the import files' special_type."
    )
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    extra_review_group_id = fields.Many2one(
        "res.groups",
        string="Extra Review By",
        help="When set, orders of this type get one more review level, decided by "
        "a member of this group.",
    )
    description = fields.Text(
        translate=True, help="What clerks should write in the special order's note."
    )

    _sql_constraints = [
        ("code_unique", "unique(code)", "Each special order type needs its own code."),
    ]
