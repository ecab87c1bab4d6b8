from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import AccessError
from odoo.fields import Command
from odoo.tests import Form, tagged
from odoo.tools import mute_logger
from odoo.tools.safe_eval import safe_eval

from odoo.addons.base.tests.common import DISABLED_MAIL_CONTEXT
from odoo.addons.order_management.tools.look_alike_orders import exact_duplicates

from .common import OrderManagementCommon


@tagged("post_install", "-at_install")
class TestReviewChecks(OrderManagementCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company.account_use_credit_limit = True

    def _results(self, order, check):
        return order.check_result_ids.filtered(lambda r: r.check == check)

    def _failed(self, order):
        return order.check_result_ids.filtered(lambda r: r.result == "failed")

    # ------------------------------------------------------- completeness --

    def test_01_complete_order_passes_every_check(self):
        """A clean order waits for review with only passed results."""
        order = self._create_order()
        self.assertEqual(order.review_state, "waiting")
        self.assertEqual(
            set(order.check_result_ids.mapped("check")),
            {"completeness", "accuracy", "legality", "credit", "duplicate", "similar"},
        )
        self.assertEqual(set(order.check_result_ids.mapped("result")), {"passed"})

    def test_02_missing_delivery_date_and_address_hold(self):
        """Completeness: no delivery date and no street hold the order."""
        nowhere = self.env["res.partner"].create({"name": "No Address Co"})
        order = self._create_order(partner_id=nowhere.id, commitment_date=False)

        self.assertEqual(order.review_state, "hold")
        self.assertFalse(order.order_review_ids, "nobody reviews a held order")
        message = self._failed(order).message
        self.assertIn("delivery date", message)
        self.assertIn("delivery address", message)
        self.assertEqual(self._events(order), [("hold", "draft", "hold")])
        activity = order.activity_ids.filtered(
            lambda a: a.activity_type_id
            == self.env.ref("order_management.mail_activity_type_order_correction")
        )
        self.assertEqual(activity.user_id, self.clerk)

        # The clerk completes the order and submits it again.
        order.with_user(self.clerk).write(
            {
                "partner_id": self.customer.id,
                "commitment_date": fields.Datetime.now() + timedelta(days=3),
            }
        )
        order.with_user(self.clerk).action_submit_for_review()
        self.assertEqual(order.review_state, "waiting")
        self.assertFalse(self._failed(order))

    def test_02b_held_or_duplicate_at_entry_with_mail_on(self):
        """As in the web client, with Odoo's mail features on: an order the
        checks hold as it is created is saved, held, its clerk following it
        once; so is a copy of an order."""
        mail_on = dict.fromkeys(DISABLED_MAIL_CONTEXT, False)
        orders = self.env["sale.order"].with_context(**mail_on).with_user(self.clerk)
        held = orders.create(
            {
                "partner_id": self.customer.id,
                "order_line": [Command.create({"product_id": self.product.id})],
            }
        )
        first = self._create_order()
        copy = first.with_context(**mail_on).with_user(self.clerk).copy()

        for order in (held, copy):
            self.assertEqual(order.review_state, "hold")
            self.assertEqual(
                order.message_partner_ids & self.clerk.partner_id,
                self.clerk.partner_id,
            )

    def test_03_zero_price_fails(self):
        """Completeness: every line needs a price."""
        order = self._create_order(
            order_line=[
                Command.create(
                    {
                        "product_id": self.product.id,
                        "product_uom_qty": 1,
                        "price_unit": 0,
                    }
                )
            ]
        )
        self.assertEqual(order.review_state, "hold")
        self.assertIn("a price on every line", self._failed(order).message)

    # ----------------------------------------------------------- accuracy --

    def test_04_past_delivery_date_fails(self):
        """Accuracy: a delivery date already past holds the order."""
        order = self._create_order(
            commitment_date=fields.Datetime.now() - timedelta(days=2)
        )
        self.assertEqual(order.review_state, "hold")
        self.assertIn("is past", self._failed(order).message)

    def test_04b_delivery_day_is_read_in_the_users_time_zone(self):
        """At 23:30 UTC it is already tomorrow in Shanghai: a delivery due now
        is today's there, not yesterday's."""
        checks = self.env["order.review.checks"].with_context(tz="Asia/Shanghai")
        with freeze_time("2026-12-04 23:30:00"):
            order = self._create_order(commitment_date=fields.Datetime.now())
            results = checks._accuracy(order)
        self.assertEqual(results[1]["result"], "passed", results[1]["message"])

    def test_05_price_off_the_list_warns(self):
        """Accuracy: a price off the price list warns but does not hold."""
        order = self._create_order(
            order_line=[
                Command.create(
                    {
                        "product_id": self.product.id,
                        "product_uom_qty": 2,
                        "price_unit": 9,
                    }
                )
            ]
        )
        self.assertEqual(order.review_state, "waiting")
        warning = order.check_result_ids.filtered(lambda r: r.result == "warning")
        self.assertIn("Steel bracket", warning.message)
        self.assertFalse(warning.blocking)

    # ----------------------------------------------------------- legality --

    def test_07_blocked_customer(self):
        """Legality: a blocked customer's order is held, with the rule named."""
        self.env["order.legality.rule"].create(
            {
                "name": "Sanctioned buyer",
                "rule_type": "blocked_customer",
                "partner_ids": [Command.link(self.customer.id)],
            }
        )
        order = self._create_order()
        self.assertEqual(order.review_state, "hold")
        self.assertIn("Sanctioned buyer", self._failed(order).message)

    def test_08_restricted_product_only_in_its_countries(self):
        """Legality: a product restricted in China blocks Chinese deliveries only."""
        self.env["order.legality.rule"].create(
            {
                "name": "No brackets to China",
                "rule_type": "restricted_product",
                "product_ids": [Command.link(self.product.id)],
                "country_ids": [Command.link(self.env.ref("base.cn").id)],
            }
        )
        self.assertEqual(self._create_order().review_state, "hold")

        elsewhere = self.customer.copy({"country_id": self.env.ref("base.fr").id})
        self.assertEqual(
            self._create_order(partner_id=elsewhere.id).review_state, "waiting"
        )

    def test_09_limits_can_warn_or_block(self):
        """Legality: a quantity cap blocks; an amount cap set to warn does not."""
        Rule = self.env["order.legality.rule"]
        Rule.create(
            {
                "name": "At most 100 a line",
                "rule_type": "max_quantity",
                "max_quantity": 100,
            }
        )
        Rule.create(
            {
                "name": "Orders above 40",
                "rule_type": "max_amount",
                "max_amount": 40,
                "blocking": False,
            }
        )
        big = self._create_order(quantity=101)
        self.assertEqual(big.review_state, "hold")
        self.assertIn("At most 100", self._failed(big).message)

        warned = self._create_order(quantity=4)
        self.assertEqual(warned.review_state, "waiting")
        self.assertIn(
            "Orders above 40",
            " ".join(self._results(warned, "legality").mapped("message")),
        )

    # ------------------------------------------------------------- credit --

    def _overdue_invoice(self, amount):
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.customer.id,
                "invoice_date": fields.Date.today() - timedelta(days=60),
                "invoice_date_due": fields.Date.today() - timedelta(days=30),
                "invoice_line_ids": [
                    Command.create(
                        {"name": "Old delivery", "price_unit": amount, "tax_ids": []}
                    )
                ],
            }
        )
        invoice.action_post()
        return invoice

    def test_10_credit_exposure_over_limit_holds(self):
        """Credit: open invoices, uninvoiced orders and this order add up."""
        self.env.company.order_block_overdue = False
        self.customer.credit_limit = 300
        self._overdue_invoice(100)
        self._confirmed_order(quantity=8)  # 100 confirmed, not invoiced

        within = self._create_order(quantity=7)  # 87.5: total 287.5
        self.assertEqual(within.review_state, "waiting")

        over = self._create_order(quantity=9)  # 112.5: total 312.5
        self.assertEqual(over.review_state, "hold")
        message = self._failed(over).message
        self.assertIn("passes the limit", message)
        self.assertIn("312.50", message)

    def test_11_overdue_invoice_holds(self):
        """Credit: an overdue invoice holds the order when the company says so."""
        self._overdue_invoice(10)
        order = self._create_order()
        self.assertEqual(order.review_state, "hold")
        self.assertIn("overdue", self._failed(order).message)

    @mute_logger("odoo.addons.base.models.ir_model", "odoo.addons.base.models.ir_rule")
    def test_12_credit_review_policy_adds_finance_level(self):
        """Credit 'review' policy: the order goes on, and Finance must approve."""
        self.customer.order_credit_policy = "review"
        self._overdue_invoice(10)
        order = self._create_order()

        self.assertEqual(order.review_state, "waiting")
        self.assertTrue(order.check_result_ids.filtered("needs_credit_review"))
        order.with_user(self.reviewer).action_approve()
        self.assertEqual(order.review_state, "waiting")
        credit_round = order.order_review_ids.filtered(lambda r: r.level == 2)
        self.assertEqual(
            credit_round.reviewer_group_id,
            self.env.ref("account.group_account_invoice"),
        )

        with self.assertRaises(AccessError):
            order.with_user(self.users["reviewer2"]).action_approve()
        order.with_user(self.finance).action_approve()
        self.assertEqual(order.review_state, "approved")

    def _queries(self, function):
        """Return how many queries ``function`` runs on a cold cache."""
        self.env.invalidate_all()
        before = self.cr.sql_log_count
        function()
        return self.cr.sql_log_count - before

    def test_13_exposure_cost_does_not_grow_with_history(self):
        """The credit aggregate costs the same for 1 or 30 earlier orders."""
        checks = self.env["order.review.checks"]
        self._confirmed_order(quantity=1)
        orders = self._create_order() | self._create_order()
        small = self._queries(lambda: checks._credit_exposure(orders))

        for _index in range(29):
            self._confirmed_order(quantity=1)
        large = self._queries(lambda: checks._credit_exposure(orders))

        self.assertEqual(small, large)
        # Reading the orders' partners and companies, then one aggregate.
        with self.assertQueryCount(large):
            self.env.invalidate_all()
            exposure = checks._credit_exposure(orders)
        self.assertLessEqual(large, 6)
        _open, _overdue, uninvoiced = exposure[self.customer.id]
        self.assertAlmostEqual(uninvoiced, 30 * 12.5)

    # ---------------------------------------------------------- duplicates --

    def test_14_same_customer_reference_is_a_duplicate(self):
        """A second order with the customer's same reference is held."""
        first = self._create_order(client_order_ref="PO-7781")
        second = self._create_order(client_order_ref="PO-7781", quantity=9)
        self.assertEqual(first.review_state, "waiting")
        self.assertEqual(second.review_state, "hold")
        self.assertIn(first.name, self._failed(second).message)

    def test_15_same_lines_same_day_is_a_duplicate(self):
        """Same lines for the same delivery day, without a reference, is held."""
        day = fields.Datetime.now() + timedelta(days=9)
        first = self._create_order(commitment_date=day)
        second = self._create_order(commitment_date=day)
        self.assertEqual(second.review_state, "hold")
        self.assertIn(first.name, self._failed(second).message)

    def test_15b_same_delivery_day_in_the_users_time_zone(self):
        """23:30 and 01:30 UTC are two days in UTC, one day in Shanghai."""
        late = datetime(2031, 5, 1, 23, 30)
        first = self._create_order(commitment_date=late)
        second = self._create_order(commitment_date=late + timedelta(hours=2))

        checks = self.env["order.review.checks"]
        for tz, expected in (("Asia/Shanghai", ["content"]), ("UTC", [])):
            with self.subTest(tz=tz):
                found = checks.with_context(tz=tz)._run(second)[second.id]
                duplicate = next(r for r in found if r["check"] == "duplicate")
                self.assertEqual(
                    duplicate.get("related_order_id") == first.id, bool(expected)
                )
        self.assertEqual(
            exact_duplicates(self.env.cr, second.ids, "Asia/Shanghai"),
            {second.id: [("content", first.id, first.name)]},
        )

    def test_16_true_non_duplicates_pass(self):
        """Another day, another quantity or a cancelled twin is no duplicate."""
        day = fields.Datetime.now() + timedelta(days=9)
        first = self._create_order(commitment_date=day)
        other_day = self._create_order(commitment_date=day + timedelta(days=1))
        other_quantity = self._create_order(commitment_date=day, quantity=5)
        self.assertEqual(other_day.review_state, "waiting")
        self.assertEqual(other_quantity.review_state, "waiting")

        first.with_user(self.clerk).action_cancel()
        again = self._create_order(commitment_date=day)
        self.assertEqual(again.review_state, "waiting")
        self.assertEqual(self._results(again, "duplicate").mapped("result"), ["passed"])

    # ------------------------------------------------------ similar orders --

    def _two_product_order(self, bracket, hinge, **values):
        return self._create_order(
            order_line=[
                Command.create(
                    {"product_id": self.product.id, "product_uom_qty": bracket}
                ),
                Command.create(
                    {"product_id": self.other_product.id, "product_uom_qty": hinge}
                ),
            ],
            **values,
        )

    def test_17_similar_order_is_flagged_with_a_link(self):
        """Same products, quantities within 10%, days apart: a warning, no hold."""
        first = self._two_product_order(100, 40)
        second = self._two_product_order(
            104, 40, date_order=first.date_order + timedelta(days=3)
        )

        self.assertEqual(second.review_state, "waiting")
        similar = self._results(second, "similar")
        self.assertEqual(similar.mapped("result"), ["warning"])
        self.assertEqual(similar.related_order_id, first)
        self.assertIn("2 of 2 products", similar.message)
        action = similar.action_open_related_order()
        self.assertEqual(
            (action["res_model"], action["res_id"]), ("sale.order", first.id)
        )

    def test_18_orders_that_only_look_alike_are_not_flagged(self):
        """Quantities too far apart, too few products shared, outside the window
        or another customer: no similar order."""
        first = self._two_product_order(100, 40)
        other_customer = self.customer.copy({"name": "Quay Supplies"})
        candidates = [
            self._two_product_order(120, 40),
            self._create_order(
                quantity=100,
                order_line=[
                    Command.create(
                        {"product_id": self.product.id, "product_uom_qty": 100}
                    ),
                    Command.create(
                        {"product_id": self.other_product.id, "product_uom_qty": 7}
                    ),
                    Command.create(
                        {"product_id": self.carrier.product_id.id, "product_uom_qty": 1}
                    ),
                ],
            ),
            self._two_product_order(
                100, 40, date_order=first.date_order - timedelta(days=31)
            ),
            self._two_product_order(100, 40, partner_id=other_customer.id),
        ]
        for order in candidates:
            self.assertEqual(
                self._results(order, "similar").mapped("result"),
                ["passed"],
                order.check_result_ids.mapped("message"),
            )

    def test_19_window_and_tolerance_come_from_the_company(self):
        """A wider tolerance makes 120 look like 100."""
        first = self._two_product_order(100, 40)
        self.env.company.order_similar_tolerance = 25.0
        second = self._two_product_order(120, 40)
        self.assertEqual(self._results(second, "similar").related_order_id, first)

    def test_20_exact_duplicate_is_not_also_similar(self):
        """The duplicate result says it once; the similar check stays quiet."""
        first = self._create_order(client_order_ref="PO-1")
        second = self._create_order(client_order_ref="PO-1")
        self.assertEqual(self._results(second, "duplicate").related_order_id, first)
        self.assertEqual(self._results(second, "similar").mapped("result"), ["passed"])

    # ------------------------------------------------------ as you type --

    def test_21_checks_show_while_the_order_is_typed(self):
        """Before saving, the form says what the checks will say; once the
        order waits for review the live view gives way to the stored results."""
        form = Form(self.env["sale.order"].with_user(self.clerk))
        form.partner_id = self.customer
        with form.order_line.new() as line:
            line.product_id = self.product
            line.product_uom_qty = 3
            line.price_unit = 0.0
        preview = str(form.check_preview)
        self.assertIn("delivery date", preview)
        self.assertIn("a price on every line", preview)
        self.assertIn("text-bg-danger", preview)

        form.commitment_date = fields.Datetime.now() + timedelta(days=60)
        with form.order_line.edit(0) as line:
            line.price_unit = 12.5
        preview = str(form.check_preview)
        self.assertIn("The order is complete.", preview)
        self.assertNotIn("text-bg-danger", preview)

        order = form.save()
        self.assertEqual(order.review_state, "waiting")
        self.assertFalse(order.check_preview)

    def test_21b_a_line_without_product_yet_is_previewed(self):
        """Right after "Add a product" the new line is empty: the live checks
        say the order is incomplete instead of failing."""
        order = (
            self.env["sale.order"]
            .with_user(self.clerk)
            .new(
                {
                    "partner_id": self.customer.id,
                    "order_line": [
                        Command.create(
                            {"product_id": self.product.id, "product_uom_qty": 2}
                        ),
                        Command.create({"name": "", "product_uom_qty": 1}),
                    ],
                }
            )
        )
        self.assertFalse(order.order_line[1].product_id)

        preview = str(order.check_preview)

        self.assertIn("delivery date", preview)
        self.assertIn("Prices match the price list.", preview)

    def test_22_orders_to_correct_say_why(self):
        """Held and rejected orders come back to the clerk with the reason."""
        held = self._create_order(commitment_date=False)
        rejected = self._create_order()
        rejected.with_user(self.reviewer).action_reject("Wrong hinge size.")
        action = self.env.ref("order_management.sale_order_action_rejected")
        listed = (
            self.env["sale.order"]
            .with_user(self.clerk)
            .search(safe_eval(action.domain))
        )
        self.assertLessEqual(held | rejected, listed)
        self.assertIn("delivery date", held.review_reason)
        self.assertEqual(rejected.review_reason, "Wrong hinge size.")
