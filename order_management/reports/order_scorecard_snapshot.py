import logging

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)

# The scorecards a snapshot freezes, by the role of their people.
SCORECARDS = {
    "clerk": "order.scorecard.clerk",
    "reviewer": "order.scorecard.reviewer",
    "logistics": "order.scorecard.logistics",
}


class OrderScorecardSnapshot(models.Model):
    """The scorecards of one month as they were when it was taken.

    Creating a snapshot takes it: the clerk, reviewer and logistics
    scorecards of the month are copied, per person and for everyone, so that
    an assessment can be reviewed later whatever happened to the orders
    since. A snapshot never changes; taking another one of the same month
    keeps both.
    """

    _name = "order.scorecard.snapshot"
    _description = "Scorecard Snapshot"
    _order = "month desc, id desc"

    # ------------------------------------------------------------ fields --

    name = fields.Char(compute="_compute_name", store=True)
    company_id = fields.Many2one(
        "res.company",
        required=True,
        default=lambda self: self.env.company,
        readonly=True,
    )
    month = fields.Date(
        required=True,
        default=lambda self: self._default_month(),
        help="Any day of the month: the snapshot covers the whole month.",
    )
    taken_date = fields.Datetime(
        string="Taken On", readonly=True, default=fields.Datetime.now
    )
    taken_by_id = fields.Many2one(
        "res.users",
        readonly=True,
        default=lambda self: self.env.user,
    )
    line_ids = fields.One2many(
        "order.scorecard.snapshot.line", "snapshot_id", string="Figures"
    )
    clerk_line_ids = fields.One2many(
        "order.scorecard.snapshot.line",
        "snapshot_id",
        string="Clerks",
        domain=[("role", "=", "clerk")],
    )
    reviewer_line_ids = fields.One2many(
        "order.scorecard.snapshot.line",
        "snapshot_id",
        string="Reviewers",
        domain=[("role", "=", "reviewer")],
    )
    logistics_line_ids = fields.One2many(
        "order.scorecard.snapshot.line",
        "snapshot_id",
        string="Logistics",
        domain=[("role", "=", "logistics")],
    )

    # ----------------------------------------------------------- default --

    @api.model
    def _default_month(self):
        return fields.Date.context_today(self).replace(day=1) - relativedelta(months=1)

    # ----------------------------------------------------------- compute --

    @api.depends("month", "company_id")
    def _compute_name(self):
        for snapshot in self:
            snapshot.name = self.env._(
                "Scorecards %(month)s, %(company)s",
                month=snapshot.month and snapshot.month.strftime("%Y-%m"),
                company=snapshot.company_id.name,
            )

    # -------------------------------------------------------------- CRUD --

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if "line_ids" in vals:
                raise UserError(
                    self.env._("A snapshot's figures are taken, not typed in.")
                )
            if vals.get("month"):
                vals["month"] = fields.Date.to_date(vals["month"]).replace(day=1)
        snapshots = super().create(vals_list)
        snapshots._take()
        return snapshots

    def write(self, vals):
        raise UserError(self.env._("A scorecard snapshot cannot be changed."))

    @api.ondelete(at_uninstall=False)
    def _unlink_except_always(self):
        raise UserError(self.env._("A scorecard snapshot cannot be deleted."))

    # ----------------------------------------------------------- actions --

    @api.model
    def _cron_take_snapshots(self):
        """Snapshot last month for each company that has no snapshot of it."""
        taken = self.browse()
        for company in self.env["res.company"].search([]):
            month = self.with_company(company)._default_month()
            if not self.search_count(
                [("company_id", "=", company.id), ("month", "=", month)], limit=1
            ):
                taken |= self.create({"company_id": company.id, "month": month})
        _logger.info("%s scorecard snapshots taken", len(taken))
        return taken

    # ---------------------------------------------------------- business --

    def _take(self):
        """Copy the month's scorecards into the snapshots' lines."""
        Line = self.env["order.scorecard.snapshot.line"]
        figures = Line._get_figure_names()
        # The figures are those of the orders as they are now.
        self.env["order.cycle.report"]._refresh()
        vals_list = []
        for snapshot in self:
            month_from = snapshot.month
            month_to = month_from + relativedelta(months=1)
            for role, model in SCORECARDS.items():
                scorecard = self.env[model]
                rows = scorecard._get_scorecard_rows(
                    snapshot.company_id, month_from, month_to, per_person=False
                ) + scorecard._get_scorecard_rows(
                    snapshot.company_id, month_from, month_to
                )
                vals_list += [
                    {
                        "snapshot_id": snapshot.id,
                        "role": role,
                        "user_id": row["user_id"],
                        **{key: row[key] for key in figures if key in row},
                    }
                    for row in rows
                ]
        # Lines are written by the snapshot alone; their model refuses others.
        Line.sudo().with_context(order_scorecard_snapshot_take=True).create(vals_list)
