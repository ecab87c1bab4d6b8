from odoo import fields, models


class OrderReviewPolicy(models.Model):
    """Who reviews which orders, in how many levels, and how fast."""

    _name = "order.review.policy"
    _inherit = ["order.audited.mixin"]
    _description = "Order Review Policy"
    _order = "sequence, min_amount desc, id"
    _order_audited_fields = (
        "name",
        "active",
        "sequence",
        "company_id",
        "min_amount",
        "partner_ids",
        "level_one_group_id",
        "level_two_group_id",
        "sla_hours",
        "reminder_hours",
    )

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one("res.company", default=lambda self: self.env.company)
    currency_id = fields.Many2one(related="company_id.currency_id")
    min_amount = fields.Monetary(
        currency_field="currency_id",
        help="Orders whose total reaches this amount follow this policy.",
    )
    partner_ids = fields.Many2many(
        "res.partner",
        string="Customers",
        help="Only these customers' orders follow this policy (any customer "
        "when empty). A policy naming the customer wins over one that does not.",
    )
    level_one_group_id = fields.Many2one(
        "res.groups",
        string="First Reviewers",
        required=True,
        default=lambda self: self.env.ref(
            "order_management.group_order_reviewer", raise_if_not_found=False
        ),
    )
    level_two_group_id = fields.Many2one(
        "res.groups",
        string="Second Reviewers",
        help="Set it to require a second review by another person of this group.",
    )
    sla_hours = fields.Float(
        string="Deadline (working hours)",
        default=8.0,
        help="Each review round must be decided within these working hours of "
        "the company's calendar.",
    )
    reminder_hours = fields.Float(
        string="Reminder (working hours before the deadline)", default=2.0
    )

    def _for_orders(self, orders):
        """Return {order id: policy} with one search for all the orders."""
        policies = self.search([("company_id", "in", orders.company_id.ids + [False])])
        return {order.id: policies._match(order) for order in orders}

    def _match(self, order):
        """Return the first of these policies that applies to ``order``."""
        customer = order.partner_id.commercial_partner_id
        candidates = self.filtered(
            lambda p: p.company_id in (order.company_id, self.env["res.company"])
            and p.min_amount <= order.amount_total
        )
        specific = candidates.filtered(lambda p: customer in p.partner_ids)
        general = candidates.filtered(lambda p: not p.partner_ids)
        return (specific or general)[:1]

    def _for_order(self, order):
        """Return the policy that applies to ``order`` (the first that matches)."""
        return self._for_orders(order)[order.id]
