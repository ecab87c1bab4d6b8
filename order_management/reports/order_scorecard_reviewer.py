from odoo import fields, models
from odoo.tools import SQL

from .order_review_report import OrderReviewReport
from .order_scorecard_mixin import reasons_summary


class OrderScorecardReviewer(models.Model):
    """The review decisions each reviewer made in a month, and how fast.

    Median and 90th percentile are continuous (interpolated) percentiles of
    the rounds' lead times, as Excel's PERCENTILE.INC computes them.
    """

    _name = "order.scorecard.reviewer"
    _inherit = "order.scorecard.mixin"
    _description = "Reviewer Scorecard"
    _auto = False
    _depends = OrderReviewReport._depends

    review_count = fields.Integer(string="Decisions", readonly=True)
    approved_count = fields.Integer(string="Approved", readonly=True)
    rejected_count = fields.Integer(string="Rejected", readonly=True)
    median_hours = fields.Float(
        string="Median Lead Time (h)", readonly=True, aggregator=None
    )
    p90_hours = fields.Float(
        string="90th Percentile Lead Time (h)", readonly=True, aggregator=None
    )
    average_hours = fields.Float(
        string="Average Lead Time (h)", readonly=True, aggregator=None
    )
    late_count = fields.Integer(string="Past Deadline", readonly=True)
    on_time_pct = fields.Float(
        string="Within Deadline (%)", readonly=True, aggregator=None
    )
    rejection_reasons = fields.Char(readonly=True)

    def _month_column(self):
        return SQL("r.decision_month")

    def _company_column(self):
        return SQL("r.company_id")

    def _scorecard_query(self, period, where, per_person):
        person = SQL("r.reviewer_id") if per_person else SQL("NULL::integer")
        rounds = SQL(
            "(SELECT %s AS month, r.company_id, %s AS user_id, r.decision, "
            "r.reason_id, r.lead_hours, r.on_time_pct, r.is_late "
            "FROM order_review_report r WHERE %s)",
            period,
            person,
            where,
        )
        return SQL(
            """
            WITH rounds AS %(rounds)s
            SELECT o.month, o.company_id, o.user_id,
                count(*) AS review_count,
                count(*) FILTER (WHERE o.decision = 'approved') AS approved_count,
                count(*) FILTER (WHERE o.decision = 'rejected') AS rejected_count,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY o.lead_hours)
                    AS median_hours,
                percentile_cont(0.9) WITHIN GROUP (ORDER BY o.lead_hours)
                    AS p90_hours,
                avg(o.lead_hours) AS average_hours,
                count(*) FILTER (WHERE o.is_late) AS late_count,
                avg(o.on_time_pct) AS on_time_pct,
                min(reasons.reasons) AS rejection_reasons
            FROM rounds o
            LEFT JOIN %(reasons)s reasons
                ON reasons.month = o.month
                AND reasons.company_id = o.company_id
                AND reasons.user_id IS NOT DISTINCT FROM o.user_id
            GROUP BY o.month, o.company_id, o.user_id
            """,
            rounds=rounds,
            reasons=reasons_summary(
                SQL("(SELECT * FROM rounds WHERE decision = 'rejected')"),
                SQL("x.month"),
                SQL("x.user_id"),
            ),
        )
