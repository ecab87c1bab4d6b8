from odoo import api, fields, models
from odoo.exceptions import ValidationError

RULE_TYPES = [
    ("blocked_customer", "Blocked customer"),
    ("restricted_product", "Product restricted in a country"),
    ("max_quantity", "Quantity limit per line"),
    ("max_amount", "Amount limit per order"),
]


class OrderLegalityRule(models.Model):
    """A legality rule every submitted order is checked against."""

    _name = "order.legality.rule"
    _inherit = ["order.audited.mixin"]
    _description = "Order Legality Rule"
    _order = "sequence, id"
    _order_audited_fields = (
        "name",
        "active",
        "sequence",
        "company_id",
        "rule_type",
        "blocking",
        "partner_ids",
        "product_ids",
        "country_ids",
        "max_quantity",
        "max_amount",
    )

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one("res.company", default=lambda self: self.env.company)
    rule_type = fields.Selection(RULE_TYPES, required=True)
    blocking = fields.Boolean(
        default=True,
        help="When set, an order breaking the rule is held; otherwise the "
        "reviewer sees a warning.",
    )
    partner_ids = fields.Many2many(
        "res.partner", string="Customers", help="Blocked customers."
    )
    product_ids = fields.Many2many(
        "product.product",
        string="Products",
        help="Restricted products, or the products a quantity limit applies to "
        "(all products when empty).",
    )
    country_ids = fields.Many2many(
        "res.country",
        string="Countries",
        help="Delivery countries where the products are restricted "
        "(every country when empty).",
    )
    max_quantity = fields.Float()
    max_amount = fields.Monetary(currency_field="currency_id")
    currency_id = fields.Many2one(related="company_id.currency_id")

    @api.constrains("rule_type", "partner_ids", "product_ids", "max_quantity")
    def _check_rule_complete(self):
        for rule in self:
            if rule.rule_type == "blocked_customer" and not rule.partner_ids:
                raise ValidationError(
                    self.env._("Rule %(rule)s names no customer.", rule=rule.name)
                )
            if rule.rule_type == "restricted_product" and not rule.product_ids:
                raise ValidationError(
                    self.env._("Rule %(rule)s names no product.", rule=rule.name)
                )
            if rule.rule_type == "max_quantity" and rule.max_quantity <= 0:
                raise ValidationError(
                    self.env._("Rule %(rule)s needs a quantity limit.", rule=rule.name)
                )

    def _violations(self, order):
        """Return (rule, message) for each rule of ``self`` that ``order`` breaks."""
        customer = order.partner_id.commercial_partner_id
        country = order.partner_shipping_id.country_id
        lines = order.order_line.filtered(lambda line: not line.display_type)
        found = []
        for rule in self:
            if rule.rule_type == "blocked_customer" and customer in rule.partner_ids:
                found.append((rule, customer.display_name))
            elif rule.rule_type == "restricted_product" and (
                not rule.country_ids or country in rule.country_ids
            ):
                names = (lines.product_id & rule.product_ids).mapped("display_name")
                if names:
                    found.append((rule, ", ".join(names)))
            elif rule.rule_type == "max_quantity":
                over = lines.filtered(
                    lambda line, rule=rule: line.product_uom_qty > rule.max_quantity
                    and (not rule.product_ids or line.product_id in rule.product_ids)
                )
                if over:
                    found.append(
                        (rule, ", ".join(over.product_id.mapped("display_name")))
                    )
            elif (
                rule.rule_type == "max_amount" and order.amount_total > rule.max_amount
            ):
                found.append((rule, order.currency_id.format(order.amount_total)))
        return found
