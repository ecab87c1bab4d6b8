from datetime import date

from lxml import etree

from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common_reports import MARCH, OrderReportCommon, at


@tagged("post_install", "-at_install")
class TestOrderCycleReport(OrderReportCommon):
    def assertUnknown(self, row, field):
        """The figure is not known yet: NULL, which the ORM reads as 0."""
        self.assertEqual(
            row.search_count([("id", "=", row.id), (field, "=", False)]), 1, field
        )

    def test_01_stage_times_of_a_completed_order(self):
        """Each stage is dated by its first event; durations follow from them."""
        row = self._cycle(self.o1)

        self.assertEqual(row.entered_date, at("03-03 09:00"))
        self.assertEqual(row.submitted_date, at("03-03 09:00"))
        self.assertEqual(row.reviewed_date, at("03-03 11:00"))
        self.assertEqual(row.confirmed_date, at("03-03 12:00"))
        self.assertEqual(row.shipped_date, at("03-05 10:00"))
        # Signed without a delivery reported first: the signature delivers.
        self.assertEqual(row.delivered_date, at("03-08 15:00"))
        self.assertEqual(row.signed_date, at("03-08 15:00"))
        self.assertEqual(row.invoiced_date, at("03-09 10:00"))
        self.assertEqual(row.paid_date, at("03-12 10:00"))
        self.assertEqual(row.completed_date, at("03-12 10:00"))
        self.assertEqual(row.promised_date, at("03-10 12:00"))
        self.assertEqual(row.progress, "completed")
        self.assertEqual(row.clerk_id, self.clerk)
        self.assertEqual(row.shipper_id, self.logistics)
        self.assertEqual(row.entry_month, MARCH)
        self.assertEqual(row.ship_month, MARCH)

        self.assertAlmostEqual(row.review_hours, 2.0)
        # Confirmed 03-03 12:00, delivered 03-08 15:00: 5 days 3 hours.
        self.assertAlmostEqual(row.fulfilment_days, 5.125)
        # Entered 03-03 09:00, completed 03-12 10:00: 9 days 1 hour.
        self.assertAlmostEqual(row.cycle_days, 9 + 1 / 24)
        # Delivered 1 day 21 hours before the promised date.
        self.assertAlmostEqual(row.delivery_delay_days, -1.875)
        self.assertEqual(row.on_time_pct, 100.0)
        self.assertEqual(row.shipped_on_time_pct, 100.0)
        self.assertEqual(row.review_round_count, 1)
        self.assertEqual(row.rejection_count, 0)
        self.assertEqual(row.late_review_count, 0)
        self.assertEqual(row.review_on_time_pct, 100.0)
        self.assertEqual(row.first_pass_pct, 100.0)
        self.assertEqual(row.incident_count, 0)

    def test_02_amount_cost_and_margin(self):
        """Margin: the untaxed amount less the lines at the product's cost."""
        row = self._cycle(self.o1)
        self.assertAlmostEqual(row.amount_untaxed, 4 * 12.5)
        self.assertAlmostEqual(row.cost, 4 * 7.5)
        self.assertAlmostEqual(row.margin, 4 * 5.0)
        self.assertEqual(row.currency_id, self.company.currency_id)

    def test_03_order_rejected_twice(self):
        """Two rejections, one past its deadline, then approved and delivered late."""
        row = self._cycle(self.o2)

        self.assertEqual(row.review_round_count, 3)
        self.assertEqual(row.rejection_count, 2)
        self.assertEqual(row.rejection_reasons, "PRICE, QTY")
        self.assertEqual(row.late_review_count, 1)
        self.assertEqual(row.review_on_time_pct, 0.0)
        self.assertEqual(row.first_pass_pct, 0.0)
        # First submission 03-04 09:00, approval 03-06 14:00.
        self.assertAlmostEqual(row.review_hours, 53.0)
        # Delivered 03-13 12:00 for 03-12 12:00, then signed the day after.
        self.assertEqual(row.delivered_date, at("03-13 12:00"))
        self.assertEqual(row.signed_date, at("03-14 10:00"))
        self.assertAlmostEqual(row.delivery_delay_days, 1.0)
        self.assertEqual(row.on_time_pct, 0.0)
        self.assertTrue(row.is_delivered_late)
        self.assertEqual(row.shipped_on_time_pct, 100.0)
        self.assertEqual(row.progress, "signed")

    def test_04_review_past_deadline_and_late_shipment(self):
        """Approved at once but late; shipped after the ship-by date; an incident."""
        row = self._cycle(self.o3)

        self.assertEqual(row.first_pass_pct, 100.0)
        self.assertEqual(row.review_on_time_pct, 0.0)
        self.assertEqual(row.late_review_count, 1)
        self.assertAlmostEqual(row.review_hours, 48.0)
        self.assertEqual(row.ship_by_date, at("03-09 12:00"))
        self.assertEqual(row.shipped_on_time_pct, 0.0)
        self.assertEqual(row.incident_count, 1)
        # Not delivered yet: neither on time nor late.
        self.assertFalse(row.delivered_date)
        self.assertUnknown(row, "on_time_pct")
        self.assertFalse(row.is_delivered_late)
        self.assertEqual(row.progress, "shipped")

    def test_05_ship_by_date_follows_the_security_lead_time(self):
        """The ship-by date is the promised date less the security lead time."""
        self.company.security_lead = 2.0
        self._refresh()
        row = self._cycle(self.o3)
        self.assertEqual(row.ship_by_date, at("03-07 12:00"))

    def test_06_orders_not_decided_yet(self):
        """Waiting and held orders have no first-pass or deadline figure yet."""
        waiting, held, rejected = (
            self._cycle(self.o5),
            self._cycle(self.o7),
            (self._cycle(self.o4)),
        )

        self.assertEqual(waiting.progress, "waiting")
        self.assertUnknown(waiting, "first_pass_pct")
        self.assertUnknown(waiting, "review_on_time_pct")
        self.assertEqual(held.progress, "hold")
        self.assertEqual(held.hold_count, 1)
        self.assertUnknown(held, "first_pass_pct")
        self.assertEqual(rejected.progress, "rejected")
        self.assertEqual(rejected.first_pass_pct, 0.0)
        self.assertEqual(rejected.rejection_reasons, "PRICE")
        self.assertFalse(rejected.reviewed_date)

    def test_07_pivot_by_entry_month(self):
        """The pivot's default grouping averages each rate over its known rows."""
        groups = self.env["order.cycle.report"].read_group(
            [("id", "in", self.orders.ids)],
            ["review_hours", "first_pass_pct", "on_time_pct", "amount_untaxed"],
            ["entered_date:month"],
        )
        march, april = groups

        self.assertEqual(march["entered_date_count"], 6)
        self.assertAlmostEqual(march["review_hours"], (2 + 53 + 48) / 3)
        # Decided: o1 and o3 first time, o2 and o4 not; o5 and o7 unknown.
        self.assertAlmostEqual(march["first_pass_pct"], 50.0)
        # Delivered: o1 on time, o2 late.
        self.assertAlmostEqual(march["on_time_pct"], 50.0)
        self.assertAlmostEqual(
            march["amount_untaxed"], 12.5 * (4 + 2 + 6 + 8 + 10 + 12)
        )
        self.assertEqual(april["entered_date_count"], 1)
        self.assertAlmostEqual(april["review_hours"], 1.0)

    def test_08_review_decisions(self):
        """Each decided round: its lead time and whether it met its deadline."""
        rounds = self.env["order.review.report"].search(
            [("order_id", "=", self.o2.id)], order="round"
        )
        self.assertEqual(
            [
                (r.round, r.decision, r.reviewer_id, r.reason_id.code, r.is_late)
                for r in rounds
            ],
            [
                (1, "rejected", self.reviewer, "PRICE", False),
                (2, "rejected", self.reviewer_b, "QTY", True),
                (3, "approved", self.reviewer, False, False),
            ],
        )
        self.assertEqual([round(r.lead_hours, 6) for r in rounds], [4.0, 25.0, 2.0])
        self.assertEqual(rounds.mapped("on_time_pct"), [100.0, 0.0, 100.0])
        self.assertEqual(rounds.mapped("clerk_id"), self.clerk)
        self.assertEqual(rounds[0].decision_month, MARCH)

    def test_09_month_in_the_company_time_zone(self):
        """An order entered on the 1st in Shanghai is of that month, not UTC's."""
        order = self._enter(self.clerk, "03-31 20:00", "04-20 12:00", 3)
        self._refresh()
        row = self._cycle(order)
        self.assertEqual(row.entered_date, at("03-31 20:00"))
        self.assertEqual(row.entry_month, date(2031, 4, 1))

    def test_10_figures_follow_the_orders_once_refreshed(self):
        """The analysis shows a change once refreshed, as the job does."""
        self._approve(self.o5, self.reviewer, "03-20 09:00")
        self.assertEqual(self._cycle(self.o5).progress, "waiting")

        self.env["order.cycle.report"]._cron_refresh()

        row = self._cycle(self.o5)
        self.assertEqual(row.progress, "approved")
        self.assertEqual(row.first_pass_pct, 100.0)
        # 03-07 09:00 to 03-20 09:00, and its round was due 03-07 17:00.
        self.assertAlmostEqual(row.review_hours, 13 * 24)
        self.assertEqual(row.review_on_time_pct, 0.0)

    @mute_logger("odoo.addons.base.models.ir_model", "odoo.addons.base.models.ir_rule")
    def test_11_reports_are_the_order_managers(self):
        """Clerks and reviewers cannot read the order KPIs; managers can."""
        for role in ("clerk", "reviewer", "logistics"):
            for model in ("order.cycle.report", "order.review.report"):
                with self.assertRaises(AccessError):
                    self.env[model].with_user(self.users[role]).search([])
        rows = (
            self.env["order.cycle.report"]
            .with_user(self.manager)
            .search([("id", "in", self.orders.ids)])
        )
        self.assertEqual(len(rows), 7)

    def test_12_review_record_for_filing(self):
        """The printed review record holds the checks, decisions and timeline."""
        report = self.env.ref("order_management.sale_order_review_record_report")
        html = report.with_user(self.reviewer)._render_qweb_html(
            report.report_name, self.o2.ids
        )[0]
        page = etree.fromstring(html, etree.HTMLParser())

        def rows(table):
            return [
                [" ".join(cell.xpath("string()").split()) for cell in row.xpath("td")]
                for row in page.xpath(f"//table[hasclass('{table}')]/tbody/tr")
            ]

        self.assertIn(self.o2.name, html.decode())
        self.assertEqual(
            [row[3] for row in rows("o_om_review_checks")],
            [" ".join(m.split()) for m in self.o2.check_result_ids.mapped("message")],
        )
        decisions = rows("o_om_review_decisions")
        # Round, decision, reviewer, lead time, within deadline, reason.
        self.assertEqual(
            [[row[0], row[4], row[5], row[7], row[8], row[9]] for row in decisions],
            [
                ["1", "Rejected", self.reviewer.name, "4.0", "Yes", "PRICE: See PRICE"],
                ["2", "Rejected", self.reviewer_b.name, "25.0", "No", "QTY: See QTY"],
                ["3", "Approved", self.reviewer.name, "2.0", "Yes", ""],
            ],
        )
        timeline = rows("o_om_review_timeline")
        self.assertEqual(
            [row[1] for row in timeline],
            [
                "Submitted for review",
                "Rejected",
                "Submitted for review",
                "Rejected",
                "Submitted for review",
                "Approved",
                "Confirmed",
                "Shipped",
                "Delivered",
                "Signed by the customer",
            ],
        )
        self.assertEqual(timeline[1][2], self.reviewer.name)
        self.assertEqual(timeline[1][5], "See PRICE")

    @mute_logger("odoo.addons.base.models.ir_model", "odoo.addons.base.models.ir_rule")
    def test_13_review_record_is_for_reviewers(self):
        """A clerk cannot print the review record."""
        report = self.env.ref("order_management.sale_order_review_record_report")
        with self.assertRaises(AccessError):
            report.with_user(self.clerk)._render_qweb_html(
                report.report_name, self.o2.ids
            )
