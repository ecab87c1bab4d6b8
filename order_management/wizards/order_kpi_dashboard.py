import base64

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

from ..tools.order_workbook import build_workbook

# Months the trend of the workbook covers, the period's last one included.
TREND_MONTHS = 12


class OrderKpiDashboard(models.TransientModel):
    """The Order Manager's view of a period: key figures, drill-downs, workbook.

    A period is a run of whole months. Order figures count the orders entered
    in it, review figures the decisions made in it, shipping figures the
    orders shipped in it (see the scorecards, whose rules these are).
    """

    _name = "order.kpi.dashboard"
    _description = "Order KPI Dashboard"

    # ------------------------------------------------------------ fields --

    company_id = fields.Many2one(
        "res.company",
        required=True,
        default=lambda self: self.env.company,
        domain=lambda self: [("id", "in", self.env.companies.ids)],
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    month_from = fields.Date(
        string="From", required=True, default=lambda self: self._default_month()
    )
    month_to = fields.Date(
        string="To",
        required=True,
        default=lambda self: self._default_month(),
        help="The period ends with this month.",
    )

    order_count = fields.Integer(string="Orders Entered", compute="_compute_kpis")
    decided_count = fields.Integer(string="Decided On", compute="_compute_kpis")
    first_pass_pct = fields.Float(
        string="First-Pass Acceptance (%)", compute="_compute_kpis"
    )
    rejection_count = fields.Integer(string="Rejections", compute="_compute_kpis")
    hold_count = fields.Integer(string="Holds by Checks", compute="_compute_kpis")
    amount_untaxed = fields.Monetary(string="Untaxed Amount", compute="_compute_kpis")
    margin = fields.Monetary(compute="_compute_kpis")
    review_count = fields.Integer(string="Review Decisions", compute="_compute_kpis")
    median_hours = fields.Float(
        string="Median Review Lead Time (h)", compute="_compute_kpis"
    )
    p90_hours = fields.Float(
        string="90th Percentile Lead Time (h)", compute="_compute_kpis"
    )
    review_on_time_pct = fields.Float(
        string="Reviews Within Deadline (%)", compute="_compute_kpis"
    )
    late_review_count = fields.Integer(
        string="Reviews Past Deadline", compute="_compute_kpis"
    )
    rejection_reasons = fields.Char(compute="_compute_kpis")
    shipped_count = fields.Integer(string="Orders Shipped", compute="_compute_kpis")
    delivered_count = fields.Integer(string="Delivered", compute="_compute_kpis")
    shipped_on_time_pct = fields.Float(
        string="On-Time Shipping (%)", compute="_compute_kpis"
    )
    delivered_on_time_pct = fields.Float(
        string="On-Time Delivery (%)", compute="_compute_kpis"
    )
    incident_count = fields.Integer(string="Incidents", compute="_compute_kpis")
    workbook_file = fields.Binary(readonly=True, attachment=False)
    workbook_name = fields.Char(readonly=True)

    # ----------------------------------------------------------- default --

    @api.model
    def _default_month(self):
        return fields.Date.context_today(self).replace(day=1)

    # ----------------------------------------------------------- compute --

    @api.depends("company_id", "month_from", "month_to")
    def _compute_kpis(self):
        for dashboard in self:
            period = (dashboard.company_id, dashboard.month_from, dashboard.month_to)
            # While the period is being typed, it may not be one yet.
            if not all(period) or (
                dashboard.month_to.replace(day=1) < dashboard.month_from.replace(day=1)
            ):
                dashboard._set_kpis({}, {}, {})
                continue
            clerks, reviewers, logistics = (
                rows[0] if rows else {} for rows in dashboard._get_totals()
            )
            dashboard._set_kpis(clerks, reviewers, logistics)

    def _set_kpis(self, clerks, reviewers, logistics):
        self.update(
            {
                "order_count": clerks.get("order_count", 0),
                "decided_count": clerks.get("decided_count", 0),
                "first_pass_pct": clerks.get("first_pass_pct") or 0.0,
                "rejection_count": clerks.get("rejection_count", 0),
                "hold_count": clerks.get("hold_count", 0),
                "amount_untaxed": clerks.get("amount_untaxed") or 0.0,
                "margin": clerks.get("margin") or 0.0,
                "review_count": reviewers.get("review_count", 0),
                "median_hours": reviewers.get("median_hours") or 0.0,
                "p90_hours": reviewers.get("p90_hours") or 0.0,
                "review_on_time_pct": reviewers.get("on_time_pct") or 0.0,
                "late_review_count": reviewers.get("late_count", 0),
                "rejection_reasons": reviewers.get("rejection_reasons") or False,
                "shipped_count": logistics.get("shipped_count", 0),
                "delivered_count": logistics.get("delivered_count", 0),
                "shipped_on_time_pct": logistics.get("shipped_on_time_pct") or 0.0,
                "delivered_on_time_pct": logistics.get("delivered_on_time_pct") or 0.0,
                "incident_count": logistics.get("incident_count", 0),
            }
        )

    # ----------------------------------------------------------- actions --

    def action_open_orders(self):
        """Open the order cycle analysis of the orders entered in the period."""
        return self._open_report(
            "order_management.order_cycle_report_action", "entry_month"
        )

    def action_open_reviews(self):
        return self._open_report(
            "order_management.order_review_report_action", "decision_month"
        )

    def action_open_clerks(self):
        return self._open_report(
            "order_management.order_scorecard_clerk_action", "month"
        )

    def action_open_reviewers(self):
        return self._open_report(
            "order_management.order_scorecard_reviewer_action", "month"
        )

    def action_open_logistics(self):
        return self._open_report(
            "order_management.order_scorecard_logistics_action", "month"
        )

    def action_refresh(self):
        """Bring the figures up to date with the orders as they are now."""
        self._get_period()
        self.env["order.cycle.report"]._refresh()
        return True

    def action_download_workbook(self):
        """Build the management workbook of the period and download it."""
        self.ensure_one()
        self._get_period()
        # The workbook is filed: its figures are those of this moment.
        self.env["order.cycle.report"]._refresh()
        content = build_workbook(self._prepare_workbook_data())
        start, _end = self._get_period()
        self.write(
            {
                "workbook_file": base64.b64encode(content),
                "workbook_name": self.env._(
                    "order-kpis-%(period)s.xlsx", period=self._period_label("-")
                ),
            }
        )
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self._name}/{self.id}/workbook_file"
            "?download=true&filename_field=workbook_name",
            "target": "download",
        }

    # ---------------------------------------------------------- business --

    def _get_period(self):
        """Return (first day, first day after) of the months of the period."""
        self.ensure_one()
        if not self.env.user.has_group("order_management.group_order_manager"):
            raise AccessError(
                self.env._("Only an Order Manager may see the order KPIs.")
            )
        if self.company_id not in self.env.companies:
            raise AccessError(
                self.env._(
                    "You do not work for %(company)s.", company=self.company_id.name
                )
            )
        start = self.month_from.replace(day=1)
        end = self.month_to.replace(day=1) + relativedelta(months=1)
        if end <= start:
            raise UserError(
                self.env._("The period's last month comes before its first one.")
            )
        return start, end

    def _get_totals(self, by_month=False, start=None):
        """Return the clerk, reviewer and logistics scorecards of everyone."""
        period_start, end = self._get_period()
        return [
            self.env[model]._get_scorecard_rows(
                self.company_id,
                start or period_start,
                end,
                by_month=by_month,
                per_person=False,
            )
            for model in (
                "order.scorecard.clerk",
                "order.scorecard.reviewer",
                "order.scorecard.logistics",
            )
        ]

    def _open_report(self, xmlid, month_field):
        start, end = self._get_period()
        action = self.env["ir.actions.act_window"]._for_xml_id(xmlid)
        action["domain"] = [
            ("company_id", "=", self.company_id.id),
            (month_field, ">=", start),
            (month_field, "<", end),
        ]
        action["display_name"] = self.env._(
            "%(report)s, %(period)s", report=action["name"], period=self._period_label()
        )
        return action

    def _period_label(self, separator=" - "):
        start, end = self._get_period()
        last = end - relativedelta(months=1)
        if start == last:
            return start.strftime("%Y-%m")
        return f"{start:%Y-%m}{separator}{last:%Y-%m}"

    def _prepare_workbook_data(self):
        """Gather the figures of the period as the workbook builder takes them."""
        self.ensure_one()
        _ = self.env._
        start, end = self._get_period()
        company = self.company_id
        clerks, reviewers, logistics = (
            rows[0] if rows else {} for rows in self._get_totals()
        )
        return {
            "title": _("Order management KPIs"),
            "facts": [
                (_("Company"), company.name),
                (_("Period"), self._period_label()),
                (_("Currency"), company.currency_id.name),
                (
                    _("Made on"),
                    fields.Datetime.to_string(
                        fields.Datetime.context_timestamp(self, fields.Datetime.now())
                    ),
                ),
            ],
            "summary": {
                "title": _("Summary"),
                "columns": [(_("Figure"), "text"), (_("Value"), "number")],
                "rows": self._summary_rows(clerks, reviewers, logistics),
            },
            "states": self._states_table(start, end),
            "trend": self._trend_table(end),
            "reasons": self._reasons_table(start, end),
            "tables": [
                self._scorecard_table("clerk", start, end),
                self._scorecard_table("reviewer", start, end),
                self._scorecard_table("logistics", start, end),
                self._orders_table(start, end),
            ],
            "charts": {
                "states": _("Orders entered, by how far they went"),
                "lead_time": _("Review lead time (hours)"),
                "reasons": _("Rejection reasons"),
                "on_time": _("On time"),
            },
        }

    def _summary_rows(self, clerks, reviewers, logistics):
        _ = self.env._
        return [
            (_("Orders entered"), clerks.get("order_count", 0), "int"),
            (_("Orders decided on"), clerks.get("decided_count", 0), "int"),
            (_("First-pass acceptance"), clerks.get("first_pass_pct"), "pct"),
            (_("Rejections of these orders"), clerks.get("rejection_count", 0), "int"),
            (_("Holds by the checks"), clerks.get("hold_count", 0), "int"),
            (_("Untaxed amount"), clerks.get("amount_untaxed"), "money"),
            (_("Margin"), clerks.get("margin"), "money"),
            (_("Review decisions"), reviewers.get("review_count", 0), "int"),
            (_("Median review lead time (h)"), reviewers.get("median_hours"), "hours"),
            (_("90th percentile lead time (h)"), reviewers.get("p90_hours"), "hours"),
            (_("Reviews within deadline"), reviewers.get("on_time_pct"), "pct"),
            (_("Orders shipped"), logistics.get("shipped_count", 0), "int"),
            (_("Shipped on time"), logistics.get("shipped_on_time_pct"), "pct"),
            (_("Delivered on time"), logistics.get("delivered_on_time_pct"), "pct"),
            (_("Incidents"), logistics.get("incident_count", 0), "int"),
        ]

    def _states_table(self, start, end):
        _ = self.env._
        Cycle = self.env["order.cycle.report"]
        counts = dict(
            Cycle._read_group(
                self._domain("entry_month", start, end), ["progress"], ["__count"]
            )
        )
        labels = Cycle._fields["progress"]._description_selection(self.env)
        return {
            "sheet": _("Orders by State"),
            "title": _("Orders entered in the period, by how far they went"),
            "columns": [(_("Reached"), "text"), (_("Orders"), "int")],
            "rows": [(label, counts[key]) for key, label in labels if key in counts],
        }

    def _trend_table(self, end):
        _ = self.env._
        start = end - relativedelta(months=TREND_MONTHS)
        clerks, reviewers, logistics = (
            {row["month"]: row for row in rows}
            for rows in self._get_totals(by_month=True, start=start)
        )
        rows = []
        month = start
        while month < end:
            clerk = clerks.get(month, {})
            reviewer = reviewers.get(month, {})
            shipping = logistics.get(month, {})
            rows.append(
                (
                    month,
                    clerk.get("order_count", 0),
                    reviewer.get("median_hours"),
                    reviewer.get("p90_hours"),
                    reviewer.get("on_time_pct"),
                    shipping.get("shipped_on_time_pct"),
                    shipping.get("delivered_on_time_pct"),
                )
            )
            month += relativedelta(months=1)
        return {
            "sheet": _("Trend"),
            "title": _("The last %(count)s months", count=TREND_MONTHS),
            "columns": [
                (_("Month"), "month"),
                (_("Orders entered"), "int"),
                (_("Median review lead time (h)"), "hours"),
                (_("90th percentile (h)"), "hours"),
                (_("Reviews within deadline"), "pct"),
                (_("Shipped on time"), "pct"),
                (_("Delivered on time"), "pct"),
            ],
            "rows": rows,
        }

    def _reasons_table(self, start, end):
        _ = self.env._
        groups = self.env["order.review.report"]._read_group(
            self._domain("decision_month", start, end)
            + [("decision", "=", "rejected")],
            ["reason_id"],
            ["__count"],
        )
        rows = sorted(
            (
                (reason.code or "-", reason.name or _("No reason given"), count)
                for reason, count in groups
            ),
            key=lambda row: (-row[2], row[0]),
        )
        return {
            "sheet": _("Rejection Reasons"),
            "title": _("Rejections decided in the period, by reason"),
            "columns": [
                (_("Code"), "text"),
                (_("Reason"), "text"),
                (_("Rejections"), "int"),
            ],
            "rows": rows,
        }

    def _scorecard_table(self, role, start, end):
        _ = self.env._
        model, sheet, title, columns = {
            "clerk": (
                "order.scorecard.clerk",
                _("Clerks"),
                _("Orders entered in the period, by who entered them"),
                [
                    ("order_count", _("Orders entered"), "int"),
                    ("decided_count", _("Decided on"), "int"),
                    ("first_pass_count", _("Accepted first time"), "int"),
                    ("first_pass_pct", _("First-pass acceptance"), "pct"),
                    ("hold_count", _("Holds by checks"), "int"),
                    ("rejection_count", _("Rejections"), "int"),
                    ("rejection_reasons", _("Rejection reasons"), "text"),
                    ("amount_untaxed", _("Untaxed amount"), "money"),
                    ("margin", _("Margin"), "money"),
                ],
            ),
            "reviewer": (
                "order.scorecard.reviewer",
                _("Reviewers"),
                _("Review decisions made in the period, by reviewer"),
                [
                    ("review_count", _("Decisions"), "int"),
                    ("approved_count", _("Approved"), "int"),
                    ("rejected_count", _("Rejected"), "int"),
                    ("median_hours", _("Median lead time (h)"), "hours"),
                    ("p90_hours", _("90th percentile (h)"), "hours"),
                    ("average_hours", _("Average (h)"), "hours"),
                    ("late_count", _("Past deadline"), "int"),
                    ("on_time_pct", _("Within deadline"), "pct"),
                    ("rejection_reasons", _("Rejection reasons"), "text"),
                ],
            ),
            "logistics": (
                "order.scorecard.logistics",
                _("Logistics"),
                _("Orders shipped in the period, by who shipped them"),
                [
                    ("shipped_count", _("Orders shipped"), "int"),
                    ("shipped_on_time_count", _("Shipped on time"), "int"),
                    ("shipped_on_time_pct", _("On-time shipping"), "pct"),
                    ("delivered_count", _("Delivered"), "int"),
                    ("delivered_on_time_count", _("Delivered on time"), "int"),
                    ("delivered_on_time_pct", _("On-time delivery"), "pct"),
                    ("incident_count", _("Incidents"), "int"),
                    ("incident_order_count", _("Orders with incidents"), "int"),
                ],
            ),
        }[role]
        rows = self.env[model]._get_scorecard_rows(self.company_id, start, end)
        users = self.env["res.users"].browse(
            [row["user_id"] for row in rows if row["user_id"]]
        )
        names = {user.id: user.display_name for user in users}
        return {
            "sheet": sheet,
            "title": title,
            "columns": [(_("Person"), "text")]
            + [(heading, kind) for _name, heading, kind in columns],
            "rows": [
                (names.get(row["user_id"], _("Unknown")),)
                + tuple(row[name] for name, _heading, _kind in columns)
                for row in rows
            ],
        }

    def _orders_table(self, start, end):
        _ = self.env._
        columns = [
            ("name", _("Order"), "text"),
            ("partner_id", _("Customer"), "text"),
            ("clerk_id", _("Entered by"), "text"),
            ("progress", _("Reached"), "text"),
            ("entered_date", _("Entered"), "datetime"),
            ("submitted_date", _("Submitted"), "datetime"),
            ("reviewed_date", _("Approved"), "datetime"),
            ("confirmed_date", _("Confirmed"), "datetime"),
            ("shipped_date", _("Shipped"), "datetime"),
            ("delivered_date", _("Delivered"), "datetime"),
            ("promised_date", _("Promised"), "datetime"),
            ("review_hours", _("Review time (h)"), "hours"),
            ("rejection_count", _("Rejections"), "int"),
            ("rejection_reasons", _("Rejection reasons"), "text"),
            ("review_on_time_pct", _("Review within deadline"), "pct"),
            ("on_time_pct", _("Delivered on time"), "pct"),
            ("incident_count", _("Incidents"), "int"),
            ("amount_untaxed", _("Untaxed amount"), "money"),
            ("margin", _("Margin"), "money"),
        ]
        Cycle = self.env["order.cycle.report"]
        orders = Cycle.search_fetch(
            self._domain("entry_month", start, end),
            [name for name, _heading, _kind in columns],
            order="entered_date, id",
        )
        progress = dict(Cycle._fields["progress"]._description_selection(self.env))
        rows = [
            (
                order.name,
                order.partner_id.display_name,
                order.clerk_id.display_name,
                progress.get(order.progress),
                *(order[name] for name, _heading, _kind in columns[4:]),
            )
            for order in orders
        ]
        return {
            "sheet": _("Orders"),
            "title": _("Orders entered in the period"),
            "columns": [(heading, kind) for _name, heading, kind in columns],
            "rows": rows,
        }

    def _domain(self, month_field, start, end):
        return [
            ("company_id", "=", self.company_id.id),
            (month_field, ">=", start),
            (month_field, "<", end),
        ]
