from odoo import fields, models, tools
from odoo.tools import SQL

from .report_sql import (
    DECIDED,
    company_timezones,
    hours_between,
    local_month,
    percent_when,
    review_is_late,
)


class OrderReviewReport(models.Model):
    """One review round a reviewer decided: how long it took, against its deadline.

    The reviewer scorecards count from this view; lateness is the rule of
    ``review_is_late``, which the order cycle report counts with too.
    """

    _name = "order.review.report"
    _description = "Review Round Analysis"
    _auto = False
    _rec_name = "order_id"
    _order = "decision_date desc"
    # What the view reads: pending writes to it are flushed before a search.
    _depends = {
        "sale.order.review": [
            "order_id",
            "company_id",
            "reviewer_id",
            "reviewer_group_id",
            "round",
            "level",
            "decision",
            "reason_id",
            "requested_date",
            "decision_date",
            "deadline",
        ],
        "sale.order": ["partner_id", "create_uid", "company_id"],
        "res.company": ["resource_calendar_id"],
        "resource.calendar": ["tz"],
    }

    order_id = fields.Many2one("sale.order", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    clerk_id = fields.Many2one("res.users", string="Entered By", readonly=True)
    reviewer_id = fields.Many2one("res.users", readonly=True)
    reviewer_group_id = fields.Many2one("res.groups", string="Level Of", readonly=True)
    round = fields.Integer(readonly=True, aggregator=None)
    level = fields.Integer(readonly=True, aggregator=None)
    decision = fields.Selection(
        [("approved", "Approved"), ("rejected", "Rejected")], readonly=True
    )
    reason_id = fields.Many2one(
        "order.rejection.reason", string="Rejection Reason", readonly=True
    )
    requested_date = fields.Datetime(string="Asked On", readonly=True)
    decision_date = fields.Datetime(string="Decided On", readonly=True)
    decision_month = fields.Date(readonly=True)
    deadline = fields.Datetime(readonly=True)
    lead_hours = fields.Float(
        string="Lead Time (h)",
        readonly=True,
        aggregator="avg",
        help="Hours from the request to the decision, on the clock.",
    )
    on_time_pct = fields.Float(
        string="Within Deadline (%)",
        readonly=True,
        aggregator="avg",
        help="Share of the rounds decided by their deadline (working hours of "
        "the company's calendar, as set when the round was opened).",
    )
    is_late = fields.Boolean(string="Past Deadline", readonly=True)

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL("CREATE VIEW %s AS (%s)", SQL.identifier(self._table), self._query())
        )

    def _query(self):
        late = review_is_late("r")
        return SQL(
            """
            SELECT
                r.id,
                r.order_id,
                r.company_id,
                so.partner_id,
                so.create_uid AS clerk_id,
                r.reviewer_id,
                r.reviewer_group_id,
                r.round,
                r.level,
                r.decision,
                CASE WHEN r.decision = 'rejected' THEN r.reason_id END AS reason_id,
                r.requested_date,
                r.decision_date,
                %(month)s AS decision_month,
                r.deadline,
                %(lead)s AS lead_hours,
                %(on_time)s AS on_time_pct,
                %(late)s AS is_late
            FROM sale_order_review r
            JOIN sale_order so ON so.id = r.order_id
            JOIN %(timezones)s tz ON tz.company_id = so.company_id
            WHERE r.decision IN %(decided)s
            """,
            month=local_month(SQL("r.decision_date"), SQL("tz.tz")),
            lead=hours_between(SQL("r.requested_date"), SQL("r.decision_date")),
            on_time=percent_when(SQL("NOT %s", late), SQL("r.deadline IS NOT NULL")),
            late=late,
            timezones=company_timezones(),
            decided=DECIDED,
        )
