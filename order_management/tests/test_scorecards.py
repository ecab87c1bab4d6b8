import base64
import io

import openpyxl
from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common_reports import APRIL, MARCH, MAY, OrderReportCommon, at

CLERK_FIGURES = (
    "order_count",
    "decided_count",
    "first_pass_count",
    "first_pass_pct",
    "hold_count",
    "rejection_count",
    "rejection_reasons",
    "amount_untaxed",
    "margin",
)
REVIEWER_FIGURES = (
    "review_count",
    "approved_count",
    "rejected_count",
    "median_hours",
    "p90_hours",
    "average_hours",
    "late_count",
    "on_time_pct",
    "rejection_reasons",
)
LOGISTICS_FIGURES = (
    "shipped_count",
    "shipped_on_time_count",
    "shipped_on_time_pct",
    "delivered_count",
    "delivered_on_time_count",
    "delivered_on_time_pct",
    "incident_count",
    "incident_order_count",
)


@tagged("post_install", "-at_install")
class TestScorecards(OrderReportCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Hand-computed from the data set (see OrderReportCommon).
        cls.march_clerks = {
            None: (6, 4, 2, 50.0, 1, 3, "PRICE (2), QTY (1)", 525.0, 210.0),
            cls.clerk.id: (2, 2, 1, 50.0, 0, 2, "PRICE (1), QTY (1)", 75.0, 30.0),
            cls.clerk_b.id: (4, 2, 1, 50.0, 1, 1, "PRICE (1)", 450.0, 180.0),
        }
        # R1 decided in 2, 4, 2 and 1 hours, R2 in 25 and 48 (both late).
        cls.march_reviewers = {
            None: (6, 3, 3, 3.0, 36.5, 82 / 6, 2, 400 / 6, "PRICE (2), QTY (1)"),
            cls.reviewer.id: (4, 2, 2, 2.0, 3.4, 2.25, 0, 100.0, "PRICE (2)"),
            cls.reviewer_b.id: (2, 1, 1, 36.5, 45.7, 36.5, 2, 0.0, "QTY (1)"),
        }
        # o1 and o2 shipped on time, o3 late; o1 delivered on time, o2 late.
        cls.march_logistics = {
            None: (3, 2, 200 / 3, 2, 1, 50.0, 1, 1),
            cls.logistics.id: (3, 2, 200 / 3, 2, 1, 50.0, 1, 1),
        }

    def _rows(self, model, month_from=MARCH, month_to=APRIL, **kwargs):
        Scorecard = self.env[model]
        rows = Scorecard._get_scorecard_rows(
            self.company, month_from, month_to, per_person=False, **kwargs
        ) + Scorecard._get_scorecard_rows(self.company, month_from, month_to, **kwargs)
        return {row["user_id"]: row for row in rows}

    def assertFigures(self, rows, expected, names):
        self.assertEqual(set(rows), set(expected))
        for user_id, values in expected.items():
            for name, value in zip(names, values, strict=True):
                with self.subTest(user=user_id, figure=name):
                    if isinstance(value, float):
                        self.assertAlmostEqual(rows[user_id][name], value)
                    else:
                        self.assertEqual(rows[user_id][name], value)

    # ------------------------------------------------------------ scorecards --

    def test_01_clerk_scorecard(self):
        """Orders entered, first-pass acceptance and rejection reasons per clerk."""
        rows = self._rows("order.scorecard.clerk")
        self.assertFigures(rows, self.march_clerks, CLERK_FIGURES)

    def test_02_reviewer_scorecard(self):
        """Decisions, median and 90th percentile lead time, share within deadline."""
        rows = self._rows("order.scorecard.reviewer")
        self.assertFigures(rows, self.march_reviewers, REVIEWER_FIGURES)

    def test_03_logistics_scorecard(self):
        """Shipped on time, delivered on time and incidents per logistics user."""
        rows = self._rows("order.scorecard.logistics")
        self.assertFigures(rows, self.march_logistics, LOGISTICS_FIGURES)

    def test_04_months_apart(self):
        """Each month counts its own orders and decisions."""
        clerks = self._rows("order.scorecard.clerk", APRIL, MAY)
        reviewers = self._rows("order.scorecard.reviewer", APRIL, MAY)
        self.assertEqual(set(clerks), {None, self.clerk.id})
        self.assertEqual(clerks[self.clerk.id]["order_count"], 1)
        self.assertEqual(clerks[self.clerk.id]["first_pass_pct"], 100.0)
        self.assertEqual(set(reviewers), {None, self.reviewer_b.id})
        self.assertAlmostEqual(reviewers[self.reviewer_b.id]["median_hours"], 1.0)
        self.assertEqual(self._rows("order.scorecard.logistics", APRIL, MAY), {})

        # Two months at once: a median of the whole period, not of months.
        both = self._rows("order.scorecard.reviewer", MARCH, MAY)
        self.assertEqual(both[None]["review_count"], 7)
        self.assertAlmostEqual(both[None]["median_hours"], 2.0)

    def test_05_views_agree_with_the_period_rows(self):
        """The monthly views hold the same figures as a month's period rows."""
        for model, names, expected in (
            ("order.scorecard.clerk", CLERK_FIGURES, self.march_clerks),
            ("order.scorecard.reviewer", REVIEWER_FIGURES, self.march_reviewers),
            ("order.scorecard.logistics", LOGISTICS_FIGURES, self.march_logistics),
        ):
            records = self.env[model].search(
                [("month", "=", MARCH), ("company_id", "=", self.company.id)]
            )
            rows = {
                record.user_id.id: {name: record[name] for name in names}
                for record in records
            }
            people = {key: value for key, value in expected.items() if key}
            self.assertFigures(rows, people, names)

    def test_06_monthly_rows_for_a_trend(self):
        """By month, the period is split into its months."""
        rows = self.env["order.scorecard.clerk"]._get_scorecard_rows(
            self.company, MARCH, MAY, by_month=True, per_person=False
        )
        self.assertEqual(
            [(row["month"], row["order_count"]) for row in rows],
            [(MARCH, 6), (APRIL, 1)],
        )

    # ------------------------------------------------------------- snapshots --

    def _snapshot_figures(self, snapshot):
        figures = {}
        for role, names in (
            ("clerk", CLERK_FIGURES),
            ("reviewer", REVIEWER_FIGURES),
            ("logistics", LOGISTICS_FIGURES),
        ):
            lines = snapshot.line_ids.filtered(lambda line, r=role: line.role == r)
            figures[role] = {
                line.user_id.id or None: {name: line[name] for name in names}
                for line in lines
            }
        return figures

    def test_07_snapshot_keeps_the_month_as_it_was(self):
        """A snapshot keeps its figures when the month's data changes later."""
        snapshot = (
            self.env["order.scorecard.snapshot"]
            .with_user(self.manager)
            .create({"month": "2031-03-17"})
        )
        self.assertEqual(snapshot.month, MARCH)
        self.assertEqual(snapshot.company_id, self.company)
        self.assertEqual(snapshot.taken_by_id, self.manager)
        figures = self._snapshot_figures(snapshot)
        self.assertFigures(figures["clerk"], self.march_clerks, CLERK_FIGURES)
        self.assertFigures(figures["reviewer"], self.march_reviewers, REVIEWER_FIGURES)
        self.assertFigures(
            figures["logistics"], self.march_logistics, LOGISTICS_FIGURES
        )

        # Later in March, the waiting order is approved at once.
        self._approve(self.o5, self.reviewer, "03-20 09:00")
        self._refresh()

        live = self._rows("order.scorecard.clerk")
        self.assertEqual(live[self.clerk_b.id]["decided_count"], 3)
        self.assertAlmostEqual(live[self.clerk_b.id]["first_pass_pct"], 200 / 3)
        self.assertEqual(
            self._rows("order.scorecard.reviewer")[self.reviewer.id]["review_count"], 5
        )
        snapshot.invalidate_recordset()
        snapshot.line_ids.invalidate_recordset()
        self.assertEqual(self._snapshot_figures(snapshot), figures)

    @mute_logger("odoo.addons.base.models.ir_model", "odoo.addons.base.models.ir_rule")
    def test_08_snapshots_cannot_change(self):
        """Neither a snapshot nor its figures can be changed, added or removed."""
        Snapshot = self.env["order.scorecard.snapshot"].with_user(self.manager)
        snapshot = Snapshot.create({"month": MARCH})
        line = snapshot.line_ids[0]
        with self.assertRaises(UserError):
            snapshot.write({"month": APRIL})
        with self.assertRaises(UserError):
            snapshot.unlink()
        with self.assertRaises(UserError):
            line.with_user(self.manager).write({"order_count": 99})
        with self.assertRaises(UserError):
            line.sudo().unlink()
        with self.assertRaises(UserError):
            self.env["order.scorecard.snapshot.line"].sudo().create(
                {"snapshot_id": snapshot.id, "role": "clerk", "order_count": 1}
            )
        with self.assertRaises(UserError):
            Snapshot.create({"month": MARCH, "line_ids": [(0, 0, {"role": "clerk"})]})
        with self.assertRaises(AccessError):
            self.env["order.scorecard.snapshot"].with_user(self.reviewer).create(
                {"month": MARCH}
            )

    def test_09_cron_snapshots_last_month_once(self):
        """The daily job snapshots the month just ended, once per company."""
        Snapshot = self.env["order.scorecard.snapshot"]
        with freeze_time(at("04-01 10:00")):
            taken = Snapshot._cron_take_snapshots()
            again = Snapshot._cron_take_snapshots()

        ours = taken.filtered(lambda s: s.company_id == self.company)
        self.assertEqual(ours.month, MARCH)
        self.assertEqual(
            len(ours.line_ids.filtered(lambda line: line.role == "clerk")), 3
        )
        self.assertFalse(again)

    # ------------------------------------------------------------- dashboard --

    def _dashboard(self, month_from=MARCH, month_to=MARCH):
        return (
            self.env["order.kpi.dashboard"]
            .with_user(self.manager)
            .create({"month_from": month_from, "month_to": month_to})
        )

    def test_10_dashboard_figures(self):
        """The dashboard shows everyone's figures of the period."""
        dashboard = self._dashboard()
        # Warm up (rights, companies, currency), then recompute the figures:
        # one query per scorecard, whatever the number of orders.
        self.assertEqual(dashboard.order_count, 6)
        dashboard.invalidate_recordset(
            [
                name
                for name, f in dashboard._fields.items()
                if f.compute == "_compute_kpis"
            ]
        )
        with self.assertQueryCount(3):
            self.assertEqual(dashboard.order_count, 6)
            self.assertAlmostEqual(dashboard.first_pass_pct, 50.0)
            self.assertEqual(dashboard.rejection_count, 3)
            self.assertEqual(dashboard.hold_count, 1)
            self.assertAlmostEqual(dashboard.amount_untaxed, 525.0)
            self.assertAlmostEqual(dashboard.margin, 210.0)
            self.assertEqual(dashboard.review_count, 6)
            self.assertAlmostEqual(dashboard.median_hours, 3.0)
            self.assertAlmostEqual(dashboard.p90_hours, 36.5)
            self.assertAlmostEqual(dashboard.review_on_time_pct, 400 / 6)
            self.assertEqual(dashboard.late_review_count, 2)
            self.assertEqual(dashboard.rejection_reasons, "PRICE (2), QTY (1)")
            self.assertEqual(dashboard.shipped_count, 3)
            self.assertAlmostEqual(dashboard.shipped_on_time_pct, 200 / 3)
            self.assertEqual(dashboard.delivered_count, 2)
            self.assertAlmostEqual(dashboard.delivered_on_time_pct, 50.0)
            self.assertEqual(dashboard.incident_count, 1)

        action = dashboard.action_open_orders()
        self.assertEqual(action["res_model"], "order.cycle.report")
        orders = self.env["order.cycle.report"].search(action["domain"])
        self.assertEqual(orders.order_id, self.orders - self.o6)

    @mute_logger("odoo.addons.base.models.ir_model", "odoo.addons.base.models.ir_rule")
    def test_11_dashboard_is_the_order_managers(self):
        """Only an Order Manager opens the dashboard."""
        for role in ("clerk", "reviewer", "logistics", "finance"):
            with self.assertRaises(AccessError):
                self.env["order.kpi.dashboard"].with_user(self.users[role]).create({})

    def test_12_workbook_of_the_period(self):
        """The downloaded workbook holds the period's figures and charts."""
        # Names that a spreadsheet would take for formulas stay text.
        self.customer.name = '=HYPERLINK("http://example.com","x")'
        dashboard = self._dashboard()

        action = dashboard.action_download_workbook()

        self.assertEqual(action["type"], "ir.actions.act_url")
        self.assertIn(f"/{dashboard.id}/workbook_file", action["url"])
        self.assertEqual(dashboard.workbook_name, "order-kpis-2031-03.xlsx")
        book = openpyxl.load_workbook(
            io.BytesIO(base64.b64decode(dashboard.workbook_file))
        )
        self.assertEqual(
            book.sheetnames,
            [
                "Summary",
                "Orders by State",
                "Trend",
                "Rejection Reasons",
                "Clerks",
                "Reviewers",
                "Logistics",
                "Orders",
            ],
        )
        summary = {
            row[0]: row[1]
            for row in book["Summary"].iter_rows(min_row=9, values_only=True)
            if row[0]
        }
        self.assertEqual(summary["Orders entered"], 6)
        self.assertAlmostEqual(summary["First-pass acceptance"], 0.5)
        self.assertAlmostEqual(summary["Median review lead time (h)"], 3.0)
        self.assertEqual(len(book["Summary"]._charts), 4)

        clerks = {
            row[0]: row[1:]
            for row in book["Clerks"].iter_rows(min_row=4, values_only=True)
        }
        self.assertEqual(
            clerks[self.clerk_b.name], (4, 2, 1, 0.5, 1, 1, "PRICE (1)", 450, 180)
        )
        reasons = list(book["Rejection Reasons"].iter_rows(min_row=4, values_only=True))
        self.assertEqual(
            reasons,
            [
                ("PRICE", self.price.name, 2),
                ("QTY", self.quantity.name, 1),
            ],
        )
        trend = list(book["Trend"].iter_rows(min_row=4, values_only=True))
        self.assertEqual(len(trend), 12)
        self.assertEqual(trend[-1][1], 6, "the period's month closes the trend")
        self.assertAlmostEqual(trend[-1][2], 3.0)

        orders = book["Orders"]
        customers = {orders.cell(row=row, column=2) for row in range(4, 10)}
        self.assertEqual({cell.value for cell in customers}, {self.customer.name})
        self.assertEqual({cell.data_type for cell in customers}, {"s"})

    def test_13_periods_of_several_months(self):
        """A period runs over whole months; one ending before it starts is refused."""
        dashboard = self._dashboard(MARCH.replace(day=20), APRIL.replace(day=5))
        self.assertEqual(dashboard.order_count, 7)
        self.assertEqual(dashboard.review_count, 7)
        self.assertEqual(dashboard._period_label(), "2031-03 - 2031-04")

        dashboard.month_from = MAY
        self.assertEqual(dashboard.order_count, 0)
        with self.assertRaises(UserError):
            dashboard.action_download_workbook()
