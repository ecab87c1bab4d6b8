from odoo.tests import tagged

from .common import OrderManagementCommon

# Queries to submit a corrected order again: the clerk's to-do marked done
# (Odoo posts it in the chatter), every automatic check (one query each for the
# exact duplicates and the similar orders), the review round, the reviewer's
# to-do (without its e-mail) and the history event with its link to the chain.
SUBMIT_QUERIES = 78
# Queries to approve one order: lock, decision, fingerprint, the reviewer's
# to-do removed, history event (chain lock, previous hash, insert).
APPROVE_QUERIES = 18


@tagged("post_install", "-at_install")
class TestReviewPerformance(OrderManagementCommon):
    """Submitting and approving cost a fixed number of queries per order,
    however many orders the customer had before."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Odoo e-mails each new to-do to its assignee; without a mail server in
        # tests the failed sending adds noise, so measures leave the e-mail out.
        cls.env = cls.env(
            context=dict(cls.env.context, mail_activity_quick_update=True)
        )
        # One possible reviewer, so that every measure assigns the same person
        # (a reviewer's first to-do costs more than the next ones).
        only_reviewer = cls.env["res.groups"].create(
            {"name": "Measured reviewers", "users": [(6, 0, cls.reviewer.ids)]}
        )
        cls.env.ref(
            "order_management.review_policy_standard"
        ).level_one_group_id = only_reviewer

    def _count(self, function):
        self.env.flush_all()
        before = self.cr.sql_log_count
        function()
        self.env.flush_all()
        return self.cr.sql_log_count - before

    def _rejected_order(self):
        """An entered order sent back once: submitting it again is measured."""
        order = self._create_order()
        order.with_user(self.reviewer).action_reject("Check the quantity.")
        return order

    def _costs(self):
        """Return (queries to submit, queries to approve) an entered order.

        The order is entered and rejected first, outside the measure: what is
        measured is the addon's own work when it is submitted (checks, round,
        reviewer's to-do, history) and the decision. One order goes through
        before, to warm the caches.
        """
        measured = None
        for _attempt in range(2):
            order = self._rejected_order()
            submit = self._count(
                lambda o=order: o.with_user(self.clerk).action_submit_for_review()
            )
            approve = self._count(
                lambda o=order: o.with_user(self.reviewer).action_approve()
            )
            measured = (submit, approve)
        return measured

    def test_01_cost_does_not_grow_with_history(self):
        """Entering, checking and approving cost the same after 25 more orders."""
        self._costs()  # the first order fills the caches
        before = self._costs()
        for _index in range(25):
            self._confirmed_order(quantity=1)
        after = self._costs()
        self.assertEqual(before, after)

    def test_02_submit_and_approve_are_pinned(self):
        """The query budget of both paths, on warm caches."""
        self._costs()
        order = self._rejected_order()

        with self.assertQueryCount(SUBMIT_QUERIES):
            order.with_user(self.clerk).action_submit_for_review()
            self.env.flush_all()
        with self.assertQueryCount(APPROVE_QUERIES):
            order.with_user(self.reviewer).action_approve()
            self.env.flush_all()
        self.assertEqual(order.review_state, "approved")
