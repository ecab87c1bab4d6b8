from odoo import fields, models
from odoo.tools import SQL

from .order_review_report import OrderReviewReport
from .order_scorecard_mixin import reasons_summary


class OrderScorecardClerk(models.Model):
    """What became of the orders each clerk entered in a month.

    First-pass acceptance is the clerk's entry accuracy: the share of their
    orders decided on that reviewers approved without a rejection.
    """

    _name = "order.scorecard.clerk"
    _inherit = "order.scorecard.mixin"
    _description = "Clerk Scorecard"
    _auto = False
    # Rejection reasons come from a view that reads the rounds as they are.
    _depends = OrderReviewReport._depends

    order_count = fields.Integer(string="Orders Entered", readonly=True)
    decided_count = fields.Integer(
        string="Decided On", readonly=True, help="Approved or rejected at least once."
    )
    first_pass_count = fields.Integer(string="Accepted First Time", readonly=True)
    first_pass_pct = fields.Float(
        string="First-Pass Acceptance (%)", readonly=True, aggregator=None
    )
    hold_count = fields.Integer(string="Holds by Checks", readonly=True)
    rejection_count = fields.Integer(string="Rejections", readonly=True)
    rejection_reasons = fields.Char(readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    amount_untaxed = fields.Monetary(string="Untaxed Amount", readonly=True)
    margin = fields.Monetary(readonly=True)

    def _month_column(self):
        return SQL("c.entry_month")

    def _company_column(self):
        return SQL("c.company_id")

    def _scorecard_query(self, period, where, per_person):
        person = SQL("c.clerk_id") if per_person else SQL("NULL::integer")
        orders = SQL(
            "(SELECT %s AS month, c.company_id, %s AS user_id, c.id AS order_id, "
            "c.first_pass_pct, c.hold_count, c.rejection_count, c.amount_untaxed, "
            "c.margin FROM order_cycle_report c WHERE %s)",
            period,
            person,
            where,
        )
        rejected = SQL(
            "(SELECT o.month, o.company_id, o.user_id, r.reason_id "
            "FROM orders o JOIN order_review_report r ON r.order_id = o.order_id "
            "WHERE r.decision = 'rejected')"
        )
        return SQL(
            """
            WITH orders AS %(orders)s
            SELECT o.month, o.company_id, o.user_id,
                count(*) AS order_count,
                count(o.first_pass_pct) AS decided_count,
                count(*) FILTER (WHERE o.first_pass_pct = 100) AS first_pass_count,
                avg(o.first_pass_pct) AS first_pass_pct,
                sum(o.hold_count)::integer AS hold_count,
                sum(o.rejection_count)::integer AS rejection_count,
                min(reasons.reasons) AS rejection_reasons,
                sum(o.amount_untaxed) AS amount_untaxed,
                sum(o.margin) AS margin
            FROM orders o
            LEFT JOIN %(reasons)s reasons
                ON reasons.month = o.month
                AND reasons.company_id = o.company_id
                AND reasons.user_id IS NOT DISTINCT FROM o.user_id
            GROUP BY o.month, o.company_id, o.user_id
            """,
            orders=orders,
            reasons=reasons_summary(rejected, SQL("x.month"), SQL("x.user_id")),
        )
