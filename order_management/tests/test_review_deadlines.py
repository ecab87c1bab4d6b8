from datetime import timedelta

from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import OrderManagementCommon


@tagged("post_install", "-at_install")
class TestReviewDeadlines(OrderManagementCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.review_activity = cls.env.ref(
            "order_management.mail_activity_type_order_review"
        )
        cls.escalation_activity = cls.env.ref(
            "order_management.mail_activity_type_review_escalation"
        )
        cls.Review = cls.env["sale.order.review"]

    def _escalations(self, order):
        return order.activity_ids.filtered(
            lambda a: a.activity_type_id == self.escalation_activity
        )

    def test_01_round_has_deadline_and_assignee(self):
        """Each round gets a deadline in working hours and one reviewer's to-do."""
        with freeze_time("2031-03-03 08:00:00"):  # a Monday
            order = self._create_order()
        review = order.order_review_ids

        self.assertTrue(review.requested_date < review.reminder_date < review.deadline)
        self.assertIn(
            review.assigned_user_id,
            self.env.ref("order_management.group_order_reviewer").users,
        )
        self.assertNotEqual(review.assigned_user_id, self.clerk)
        todo = order.activity_ids.filtered(
            lambda a: a.activity_type_id == self.review_activity
        )
        self.assertEqual(todo.user_id, review.assigned_user_id)
        self.assertEqual(todo.date_deadline, review.deadline.date())

    def test_02_remind_then_escalate(self):
        """Before the deadline the reviewer is reminded; after it, managers act."""
        with freeze_time("2031-03-03 08:00:00"):
            order = self._create_order()
        review = order.order_review_ids

        with freeze_time(review.reminder_date - timedelta(minutes=1)):
            self.assertEqual(self.Review._cron_review_deadlines(), (0, 0))

        with freeze_time(review.reminder_date + timedelta(minutes=1)):
            self.assertEqual(self.Review._cron_review_deadlines(), (1, 0))
            self.assertTrue(review.reminded_date)
            reminder = order.message_ids.filtered(lambda m: "Reminder" in m.body)
            self.assertIn(review.assigned_user_id.partner_id, reminder.partner_ids)
            # Once is enough.
            self.assertEqual(self.Review._cron_review_deadlines(), (0, 0))

        with freeze_time(review.deadline + timedelta(minutes=1)):
            self.assertEqual(self.Review._cron_review_deadlines(), (0, 1))
            review.invalidate_recordset(["is_late"])
            self.assertTrue(review.is_late)
        self.assertTrue(review.escalated_date)
        self.assertIn(self.manager, self._escalations(order).user_id)
        self.assertEqual(self._events(order)[-1], ("escalate", "waiting", "waiting"))

    def test_03_no_reminder_once_decided(self):
        """Decided, rejected or cancelled reviews never remind or escalate."""
        with freeze_time("2031-03-03 08:00:00"):
            approved = self._create_order()
            rejected = self._create_order()
            cancelled = self._create_order()
            approved.with_user(self.reviewer).action_approve()
            rejected.with_user(self.reviewer).action_reject("Wrong price.")
            cancelled.with_user(self.clerk).action_cancel()
        late = max(
            (approved | rejected | cancelled).order_review_ids.mapped("deadline")
        )

        with freeze_time(late + timedelta(days=3)):
            self.assertEqual(self.Review._cron_review_deadlines(), (0, 0))
        for order in approved | rejected | cancelled:
            self.assertFalse(self._escalations(order))

    def test_04_decision_closes_the_reviewer_todo(self):
        """The reviewer's to-do disappears with the decision."""
        order = self._create_order()
        order.with_user(self.reviewer).action_approve()
        self.assertNotIn(self.review_activity, order.activity_ids.activity_type_id)

    @mute_logger("odoo.addons.base.models.ir_model", "odoo.addons.base.models.ir_rule")
    def test_05_two_levels_need_two_people(self):
        """Large orders need a second reviewer from the managers, not the first."""
        policy = self.env.ref("order_management.review_policy_large")
        policy.min_amount = 100
        order = self._create_order(quantity=10)  # 125
        self.assertEqual(
            order.order_review_ids.reviewer_group_id, policy.level_one_group_id
        )

        order.with_user(self.manager).action_approve()
        self.assertEqual(order.review_state, "waiting")
        second = order.order_review_ids.filtered(lambda r: r.level == 2)
        self.assertEqual(second.reviewer_group_id, policy.level_two_group_id)
        self.assertNotEqual(second.assigned_user_id, self.manager)

        # The first reviewer cannot approve the second level too,
        with self.assertRaisesRegex(AccessError, "earlier level"):
            order.with_user(self.manager).action_approve()
        # nor can a reviewer outside the managers' group.
        with self.assertRaisesRegex(AccessError, "Level 2"):
            order.with_user(self.reviewer).action_approve()

        other_manager = self.manager.copy({"login": "om_test_manager_2"})
        order.with_user(other_manager).action_approve()
        self.assertEqual(order.review_state, "approved")
        self.assertEqual(
            order.order_review_ids.sorted("level").reviewer_id,
            self.manager | other_manager,
        )

    def test_06_policy_for_a_customer_wins(self):
        """A policy naming the customer applies before the general ones."""
        special = self.env["order.review.policy"].create(
            {
                "name": "Key account",
                "partner_ids": [(4, self.customer.id)],
                "level_one_group_id": self.env.ref(
                    "order_management.group_order_manager"
                ).id,
                "sla_hours": 2,
            }
        )
        order = self._create_order()
        self.assertEqual(self.env["order.review.policy"]._for_order(order), special)
        self.assertEqual(
            order.order_review_ids.reviewer_group_id, special.level_one_group_id
        )
