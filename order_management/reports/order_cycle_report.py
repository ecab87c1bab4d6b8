import logging

from odoo import api, fields, models
from odoo.tools import SQL, sql

from odoo.addons.sale.models.sale_order import SALE_ORDER_STATE

from ..models.sale_order import COMPLETION_STATES, REVIEW_STATES, SHIPMENT_STATES
from .report_sql import (
    DECIDED,
    company_timezones,
    days_between,
    hours_between,
    local_month,
    percent_when,
    review_is_late,
)

_logger = logging.getLogger(__name__)

# The scorecards read this report; they are refreshed with it.
READERS = (
    "order.scorecard.clerk",
    "order.scorecard.reviewer",
    "order.scorecard.logistics",
)

# How far an order went, its furthest step first.
PROGRESS = [
    ("entered", "Entered"),
    ("hold", "Held by checks"),
    ("waiting", "Waiting for review"),
    ("rejected", "Rejected"),
    ("approved", "Approved"),
    ("confirmed", "Confirmed"),
    ("shipped", "Shipped"),
    ("delivered", "Delivered"),
    ("signed", "Signed"),
    ("invoiced", "Invoiced"),
    ("paid", "Paid"),
    ("completed", "Completed"),
    ("cancelled", "Cancelled"),
]

# The history events a stage time is read from; the first of each counts.
STAGE_EVENTS = (
    "submit",
    "hold",
    "approve",
    "confirm",
    "ship",
    "deliver",
    "sign",
    "invoice",
    "pay",
    "complete",
)


class OrderCycleReport(models.Model):
    """One row per order: when it reached each stage, and how well it went.

    Stage times come from the order history (``order.audit.event``), the first
    event of each kind; entry is the order's creation. Review figures come
    from the decided review rounds. Margin is the untaxed amount less the
    cost of the lines at the products' current cost in the order's company.

    A materialized view: reading a year of history per order on every pivot
    would take seconds at 100,000 orders, reading the view takes tens of
    milliseconds. It is refreshed every quarter of an hour, on demand from
    the dashboard, and before a snapshot or a workbook is made
    (``_refresh``).
    """

    _name = "order.cycle.report"
    _description = "Order Cycle Analysis"
    _auto = False
    _rec_name = "name"
    _order = "entered_date desc, id desc"

    # ------------------------------------------------------------ fields --

    order_id = fields.Many2one("sale.order", readonly=True)
    name = fields.Char(string="Order Reference", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    clerk_id = fields.Many2one("res.users", string="Entered By", readonly=True)
    shipper_id = fields.Many2one("res.users", string="Shipped By", readonly=True)
    state = fields.Selection(SALE_ORDER_STATE, string="Status", readonly=True)
    review_state = fields.Selection(REVIEW_STATES, string="Review", readonly=True)
    shipment_state = fields.Selection(SHIPMENT_STATES, string="Shipment", readonly=True)
    completion_state = fields.Selection(
        COMPLETION_STATES, string="Completion", readonly=True
    )
    progress = fields.Selection(PROGRESS, string="Reached", readonly=True)

    entered_date = fields.Datetime(string="Entered", readonly=True)
    submitted_date = fields.Datetime(string="Submitted", readonly=True)
    reviewed_date = fields.Datetime(
        string="Approved", readonly=True, help="The first approval of the last level."
    )
    confirmed_date = fields.Datetime(string="Confirmed", readonly=True)
    shipped_date = fields.Datetime(string="Shipped", readonly=True)
    delivered_date = fields.Datetime(
        string="Delivered", readonly=True, help="Delivered or signed for."
    )
    signed_date = fields.Datetime(string="Signed", readonly=True)
    invoiced_date = fields.Datetime(string="Invoiced", readonly=True)
    paid_date = fields.Datetime(string="Paid", readonly=True)
    completed_date = fields.Datetime(string="Completed", readonly=True)
    promised_date = fields.Datetime(
        string="Promised", readonly=True, help="The delivery date promised."
    )
    ship_by_date = fields.Datetime(
        string="Ship By",
        readonly=True,
        help="The promised date less the company's security lead time: when "
        "Odoo plans the delivery to leave.",
    )
    entry_month = fields.Date(readonly=True)
    ship_month = fields.Date(readonly=True)

    review_hours = fields.Float(
        string="Review Time (h)",
        readonly=True,
        aggregator="avg",
        help="Hours from the first submission to the approval, corrections "
        "included.",
    )
    fulfilment_days = fields.Float(
        string="Confirmed to Delivered (d)", readonly=True, aggregator="avg"
    )
    cycle_days = fields.Float(
        string="Entered to Completed (d)", readonly=True, aggregator="avg"
    )
    delivery_delay_days = fields.Float(
        string="Delivery Delay (d)",
        readonly=True,
        aggregator="avg",
        help="Days delivered after the promised date; negative when early.",
    )
    review_round_count = fields.Integer(string="Review Decisions", readonly=True)
    rejection_count = fields.Integer(string="Rejections", readonly=True)
    rejection_reasons = fields.Char(readonly=True, help="Codes of the reasons.")
    late_review_count = fields.Integer(string="Decisions Past Deadline", readonly=True)
    review_on_time_pct = fields.Float(
        string="Review Within Deadline (%)",
        readonly=True,
        aggregator="avg",
        help="Share of the reviewed orders whose every review decision came "
        "by its deadline.",
    )
    first_pass_pct = fields.Float(
        string="First-Pass Acceptance (%)",
        readonly=True,
        aggregator="avg",
        help="Share of the orders decided on that were approved without ever "
        "being rejected.",
    )
    hold_count = fields.Integer(string="Holds by Checks", readonly=True)
    incident_count = fields.Integer(string="Incidents", readonly=True)
    is_delivered_late = fields.Boolean(string="Delivered Late", readonly=True)
    on_time_pct = fields.Float(
        string="On-Time Delivery (%)",
        readonly=True,
        aggregator="avg",
        help="Share of the delivered orders delivered by the promised date.",
    )
    shipped_on_time_pct = fields.Float(
        string="On-Time Shipping (%)",
        readonly=True,
        aggregator="avg",
        help="Share of the shipped orders shipped by their ship-by date.",
    )
    amount_untaxed = fields.Monetary(
        string="Untaxed Amount", readonly=True, currency_field="currency_id"
    )
    cost = fields.Monetary(readonly=True, currency_field="currency_id")
    margin = fields.Monetary(readonly=True, currency_field="currency_id")

    # ------------------------------------------------------------- query --

    def init(self):
        cr = self.env.cr
        table = SQL.identifier(self._table)
        kind = sql.table_kind(cr, self._table)
        if kind == sql.TableKind.Materialized:
            cr.execute(SQL("DROP MATERIALIZED VIEW %s CASCADE", table))
        elif kind == sql.TableKind.View:
            cr.execute(SQL("DROP VIEW %s CASCADE", table))
        cr.execute(SQL("CREATE MATERIALIZED VIEW %s AS (%s)", table, self._query()))
        # The unique index lets a refresh leave the view readable meanwhile;
        # the others serve the scorecards' periods.
        cr.execute(
            SQL(
                """
                CREATE UNIQUE INDEX %(table_id)s ON %(table)s (id);
                CREATE INDEX %(entry)s ON %(table)s (company_id, entry_month);
                CREATE INDEX %(ship)s ON %(table)s (company_id, ship_month);
                """,
                table=table,
                table_id=SQL.identifier(f"{self._table}_id_index"),
                entry=SQL.identifier(f"{self._table}_entry_month_index"),
                ship=SQL.identifier(f"{self._table}_ship_month_index"),
            )
        )

    # ---------------------------------------------------------- business --

    @api.model
    def _refresh(self):
        """Compute the report again from the orders as they are now.

        Readers keep reading the previous figures until this transaction
        commits; two refreshes wait for each other.
        """
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "REFRESH MATERIALIZED VIEW CONCURRENTLY %s",
                SQL.identifier(self._table),
            )
        )
        self.invalidate_model()
        for model in READERS:
            self.env[model].invalidate_model()

    @api.model
    def _cron_refresh(self):
        self._refresh()
        _logger.info("order cycle report refreshed")

    def _query(self):
        ship_by = SQL(
            "so.commitment_date - make_interval(secs => COALESCE(co.security_lead, 0) "
            "* 86400)"
        )
        delivered = SQL("ev.delivered_date IS NOT NULL")
        decided = SQL(
            "(ev.reviewed_date IS NOT NULL OR COALESCE(rv.rejection_count, 0) > 0)"
        )
        return SQL(
            """
            SELECT
                so.id,
                so.id AS order_id,
                so.name,
                so.company_id,
                co.currency_id,
                so.partner_id,
                so.user_id,
                so.team_id,
                so.create_uid AS clerk_id,
                sh.user_id AS shipper_id,
                so.state,
                so.review_state,
                so.shipment_state,
                so.completion_state,
                CASE
                    WHEN so.state = 'cancel' THEN 'cancelled'
                    WHEN so.completed_date IS NOT NULL THEN 'completed'
                    WHEN so.completion_state IN ('paid', 'invoiced')
                        THEN so.completion_state
                    WHEN so.shipment_state IN ('delivered', 'signed')
                        THEN so.shipment_state
                    WHEN so.shipment_state IN ('shipped', 'in_transit') THEN 'shipped'
                    WHEN so.state = 'sale' THEN 'confirmed'
                    WHEN so.review_state = 'draft' THEN 'entered'
                    ELSE so.review_state
                END AS progress,
                so.create_date AS entered_date,
                ev.submitted_date,
                ev.reviewed_date,
                ev.confirmed_date,
                ev.shipped_date,
                ev.delivered_date,
                ev.signed_date,
                ev.invoiced_date,
                ev.paid_date,
                ev.completed_date,
                so.commitment_date AS promised_date,
                %(ship_by)s AS ship_by_date,
                %(entry_month)s AS entry_month,
                %(ship_month)s AS ship_month,
                %(review_hours)s AS review_hours,
                %(fulfilment_days)s AS fulfilment_days,
                %(cycle_days)s AS cycle_days,
                %(delay)s AS delivery_delay_days,
                COALESCE(rv.round_count, 0) AS review_round_count,
                COALESCE(rv.rejection_count, 0) AS rejection_count,
                rv.rejection_reasons,
                COALESCE(rv.late_count, 0) AS late_review_count,
                %(review_on_time)s AS review_on_time_pct,
                %(first_pass)s AS first_pass_pct,
                COALESCE(ev.hold_count, 0) AS hold_count,
                COALESCE(inc.incident_count, 0) AS incident_count,
                COALESCE(ev.delivered_date > so.commitment_date, FALSE)
                    AS is_delivered_late,
                %(on_time)s AS on_time_pct,
                %(shipped_on_time)s AS shipped_on_time_pct,
                %(amount)s AS amount_untaxed,
                COALESCE(ln.cost, 0.0) AS cost,
                %(amount)s - COALESCE(ln.cost, 0.0) AS margin
            FROM sale_order so
            JOIN res_company co ON co.id = so.company_id
            JOIN %(timezones)s tz ON tz.company_id = so.company_id
            LEFT JOIN %(events)s ev ON ev.order_id = so.id
            LEFT JOIN %(shippers)s sh ON sh.order_id = so.id
            LEFT JOIN %(reviews)s rv ON rv.order_id = so.id
            LEFT JOIN %(incidents)s inc ON inc.order_id = so.id
            LEFT JOIN %(lines)s ln ON ln.order_id = so.id
            """,
            ship_by=ship_by,
            entry_month=local_month(SQL("so.create_date"), SQL("tz.tz")),
            ship_month=local_month(SQL("ev.shipped_date"), SQL("tz.tz")),
            review_hours=hours_between(
                SQL("ev.submitted_date"), SQL("ev.reviewed_date")
            ),
            fulfilment_days=days_between(
                SQL("ev.confirmed_date"), SQL("ev.delivered_date")
            ),
            cycle_days=days_between(SQL("so.create_date"), SQL("ev.completed_date")),
            delay=days_between(SQL("so.commitment_date"), SQL("ev.delivered_date")),
            review_on_time=percent_when(
                SQL("rv.late_count = 0"), SQL("COALESCE(rv.round_count, 0) > 0")
            ),
            first_pass=percent_when(
                SQL("ev.reviewed_date IS NOT NULL AND rv.rejection_count = 0"),
                decided,
            ),
            on_time=percent_when(
                SQL("ev.delivered_date <= so.commitment_date"),
                SQL("%s AND so.commitment_date IS NOT NULL", delivered),
            ),
            shipped_on_time=percent_when(
                SQL("ev.shipped_date <= %s", ship_by),
                SQL("ev.shipped_date IS NOT NULL AND so.commitment_date IS NOT NULL"),
            ),
            amount=SQL(
                "(so.amount_untaxed / COALESCE(NULLIF(so.currency_rate, 0), 1.0))"
                "::float8"
            ),
            timezones=company_timezones(),
            events=self._events_query(),
            shippers=SQL(
                "(SELECT DISTINCT ON (order_id) order_id, user_id "
                "FROM order_audit_event "
                "WHERE order_id IS NOT NULL AND event = 'ship' "
                "ORDER BY order_id, timestamp, id)"
            ),
            reviews=SQL(
                """(
                SELECT r.order_id,
                    count(*) AS round_count,
                    count(*) FILTER (WHERE r.decision = 'rejected') AS rejection_count,
                    count(*) FILTER (WHERE %(late)s) AS late_count,
                    string_agg(DISTINCT reason.code, ', ')
                        FILTER (WHERE r.decision = 'rejected') AS rejection_reasons
                FROM sale_order_review r
                LEFT JOIN order_rejection_reason reason ON reason.id = r.reason_id
                WHERE r.decision IN %(decided)s
                GROUP BY r.order_id
                )""",
                late=review_is_late("r"),
                decided=DECIDED,
            ),
            incidents=SQL(
                "(SELECT order_id, count(*) AS incident_count "
                "FROM order_incident GROUP BY order_id)"
            ),
            lines=SQL(
                """(
                SELECT l.order_id,
                    sum(
                        l.product_uom_qty / line_uom.factor * product_uom.factor
                        * COALESCE(
                            (pp.standard_price ->> l.company_id::text)::numeric, 0
                        )
                    )::float8 AS cost
                FROM sale_order_line l
                JOIN product_product pp ON pp.id = l.product_id
                JOIN product_template pt ON pt.id = pp.product_tmpl_id
                JOIN uom_uom line_uom ON line_uom.id = l.product_uom
                JOIN uom_uom product_uom ON product_uom.id = pt.uom_id
                WHERE l.display_type IS NULL AND NOT COALESCE(l.is_downpayment, FALSE)
                GROUP BY l.order_id
                )"""
            ),
        )

    def _events_query(self):
        def first(condition):
            return SQL("min(e.timestamp) FILTER (WHERE %s)", condition)

        return SQL(
            """(
            SELECT e.order_id,
                %(submitted)s AS submitted_date,
                %(reviewed)s AS reviewed_date,
                %(confirmed)s AS confirmed_date,
                %(shipped)s AS shipped_date,
                %(delivered)s AS delivered_date,
                %(signed)s AS signed_date,
                %(invoiced)s AS invoiced_date,
                %(paid)s AS paid_date,
                %(completed)s AS completed_date,
                count(*) FILTER (WHERE e.event = 'hold') AS hold_count
            FROM order_audit_event e
            WHERE e.order_id IS NOT NULL AND e.event IN %(events)s
            GROUP BY e.order_id
            )""",
            submitted=first(SQL("e.event = 'submit'")),
            # The last level's approval; earlier levels lead to the next one.
            reviewed=first(SQL("e.event = 'approve' AND e.to_state = 'approved'")),
            confirmed=first(SQL("e.event = 'confirm'")),
            shipped=first(SQL("e.event = 'ship'")),
            # A signature is a delivery, whether or not one was reported first.
            delivered=first(SQL("e.event IN ('deliver', 'sign')")),
            signed=first(SQL("e.event = 'sign'")),
            invoiced=first(SQL("e.event = 'invoice'")),
            paid=first(SQL("e.event = 'pay'")),
            completed=first(SQL("e.event = 'complete'")),
            events=STAGE_EVENTS,
        )
