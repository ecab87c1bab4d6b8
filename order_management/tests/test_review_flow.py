from datetime import timedelta

from odoo.exceptions import AccessError, UserError
from odoo.fields import Command
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import OrderManagementCommon


@tagged("post_install", "-at_install")
class TestReviewFlow(OrderManagementCommon):
    def test_01_entry_requests_review_by_itself(self):
        """An order entered with lines is waiting for review at once."""
        order = self._create_order()

        self.assertEqual(order.review_state, "waiting")
        self.assertEqual(len(order.order_review_ids), 1)
        review = order.order_review_ids
        self.assertEqual(review.decision, "pending")
        self.assertEqual(review.requested_by_id, self.clerk)
        self.assertEqual(self._events(order), [("submit", "draft", "waiting")])

    def test_02_empty_order_waits_for_its_lines(self):
        """An order created without lines goes to review once it has some."""
        order = (
            self.env["sale.order"]
            .with_user(self.clerk)
            .create({"partner_id": self.customer.id, "commitment_date": "2099-01-01"})
        )
        self.assertEqual(order.review_state, "draft")

        with self.assertRaisesRegex(UserError, "no lines"):
            order.with_user(self.clerk).action_submit_for_review()

        order.with_user(self.clerk).write(
            {"order_line": [Command.create({"product_id": self.product.id})]}
        )
        self.assertEqual(order.review_state, "waiting")
        self.assertEqual(self._events(order), [("submit", "draft", "waiting")])

    def test_03_approve_binds_the_version(self):
        """Approval records the reviewer, the time and the approved content."""
        order = self._create_order()

        order.with_user(self.reviewer).action_approve()

        review = order.order_review_ids
        self.assertEqual(order.review_state, "approved")
        self.assertEqual(review.decision, "approved")
        self.assertEqual(review.reviewer_id, self.reviewer)
        self.assertTrue(review.decision_date)
        self.assertEqual(review.fingerprint, order.review_fingerprint)
        self.assertEqual(len(order.review_fingerprint), 64)
        self.assertEqual(self._events(order)[-1], ("approve", "waiting", "approved"))

    def test_04_reject_correct_resubmit_approve(self):
        """A rejection goes back to the clerk, who corrects and resubmits."""
        order = self._create_order(quantity=4000)

        order.with_user(self.reviewer).action_reject("Quantity is a typo: 40 units.")

        self.assertEqual(order.review_state, "rejected")
        self.assertEqual(order.review_reason, "Quantity is a typo: 40 units.")
        activity = order.activity_ids.filtered(
            lambda a: a.activity_type_id
            == self.env.ref("order_management.mail_activity_type_order_correction")
        )
        self.assertEqual(activity.user_id, self.clerk)
        self.assertIn("40 units", str(activity.note))

        # The clerk corrects the quantity and sends the order again.
        order.with_user(self.clerk).order_line.product_uom_qty = 40
        self.assertEqual(order.review_state, "rejected", "a save is not a resubmit")
        order.with_user(self.clerk).action_submit_for_review()

        self.assertEqual(order.review_state, "waiting")
        self.assertFalse(order.review_reason)
        correction = self.env.ref(
            "order_management.mail_activity_type_order_correction"
        )
        self.assertNotIn(
            correction, order.activity_ids.activity_type_id, "the to-do is done"
        )
        rounds = order.order_review_ids.sorted("round")
        self.assertEqual(rounds.mapped("round"), [1, 2])
        self.assertEqual(rounds.mapped("decision"), ["rejected", "pending"])

        order.with_user(self.users["reviewer2"]).action_approve()
        self.assertEqual(order.review_state, "approved")
        self.assertEqual(rounds[1].reviewer_id, self.users["reviewer2"])
        self.assertEqual(
            [event for event, _from, _to in self._events(order)],
            ["submit", "reject", "submit", "approve"],
        )

    def test_05_reject_needs_a_reason(self):
        """A rejection without a reason is refused."""
        order = self._create_order()
        with self.assertRaisesRegex(UserError, "reason"):
            order.with_user(self.reviewer).action_reject("   ")
        self.assertEqual(order.review_state, "waiting")

    def test_06_reject_wizard(self):
        """The reject button's wizard carries the reason to the order."""
        order = self._create_order()
        action = order.with_user(self.reviewer).action_open_reject_wizard()
        wizard = (
            self.env[action["res_model"]]
            .with_user(self.reviewer)
            .with_context(**action["context"])
            .create(
                {
                    "reason": "Delivery address is missing the unit.",
                    "reason_id": self.env.ref(
                        "order_management.rejection_reason_address"
                    ).id,
                }
            )
        )
        wizard.action_reject()
        self.assertEqual(order.review_state, "rejected")
        self.assertEqual(order.review_reason, "Delivery address is missing the unit.")
        self.assertEqual(order.order_review_ids.reason_id.code, "DELIVERY")

    @mute_logger("odoo.addons.base.models.ir_model", "odoo.addons.base.models.ir_rule")
    def test_07_author_cannot_approve(self):
        """Separation of duties: whoever entered the order cannot decide on it."""
        order = self._create_order(user=self.manager)
        with self.assertRaisesRegex(AccessError, "another reviewer"):
            order.with_user(self.manager).action_approve()
        with self.assertRaisesRegex(AccessError, "another reviewer"):
            order.with_user(self.manager).action_reject("No.")
        self.assertEqual(order.review_state, "waiting")

    def test_08_decide_only_once(self):
        """An order already decided cannot be approved or rejected again."""
        order = self._approved_order()
        with self.assertRaisesRegex(UserError, "not waiting for review"):
            order.with_user(self.users["reviewer2"]).action_approve()
        with self.assertRaisesRegex(UserError, "not waiting for review"):
            order.with_user(self.users["reviewer2"]).action_reject("Too late")
        self.assertEqual(len(order.order_review_ids), 1)

    def test_09_edit_after_approval_reopens_review(self):
        """A changed price sends an approved quotation back to review."""
        order = self._approved_order()
        fingerprint = order.review_fingerprint

        order.with_user(self.clerk).order_line.price_unit = 1.0

        self.assertEqual(order.review_state, "waiting")
        self.assertFalse(order.review_fingerprint)
        self.assertNotEqual(order._review_content_fingerprint(), fingerprint)
        self.assertEqual(self._events(order)[-1], ("reopen", "approved", "waiting"))
        self.assertEqual(
            order.order_review_ids.sorted("round").mapped("decision"),
            ["approved", "pending"],
        )

    def test_10_edit_outside_the_reviewed_content_keeps_approval(self):
        """Notes and tags are not what a reviewer approves."""
        order = self._approved_order()
        order.with_user(self.clerk).note = "Call before delivery."
        self.assertEqual(order.review_state, "approved")

    def test_11_duplicate_starts_unreviewed(self):
        """A copy of an approved order, due another day, gets its own review."""
        order = self._approved_order()

        copy = order.with_user(self.clerk).copy(
            {"commitment_date": order.commitment_date + timedelta(days=1)}
        )

        self.assertEqual(copy.review_state, "waiting")
        self.assertFalse(copy.review_fingerprint)
        self.assertEqual(len(copy.order_review_ids), 1)
        with self.assertRaisesRegex(UserError, "not been approved"):
            copy.with_user(self.clerk).action_confirm()
