from odoo.tests import tagged

from .common import OrderManagementCommon

# Queries to enter one order (Odoo's own create, with lines and taxes), run
# every automatic check and open its review round with the reviewer's to-do.
SUBMIT_QUERIES = 87
# Queries to approve one order: lock, decision, fingerprint, history event.
APPROVE_QUERIES = 26


@tagged("post_install", "-at_install")
class TestReviewPerformance(OrderManagementCommon):
    """Submitting and approving cost a fixed number of queries per order,
    however many orders the customer had before."""

    def _count(self, function):
        self.env.flush_all()
        before = self.cr.sql_log_count
        function()
        self.env.flush_all()
        return self.cr.sql_log_count - before

    def _costs(self):
        """Return (queries to enter and submit, queries to approve) an order.

        One order goes through first, so both measures run on warm caches.
        """
        warm = self._create_order()
        warm.with_user(self.reviewer).action_approve()
        orders = []
        submit = self._count(lambda: orders.append(self._create_order()))
        approve = self._count(
            lambda: orders[0].with_user(self.reviewer).action_approve()
        )
        return submit, approve

    def test_01_cost_does_not_grow_with_history(self):
        """Entering, checking and approving cost the same after 25 more orders."""
        self._costs()  # the first order fills the caches
        before = self._costs()
        for _index in range(25):
            self._confirmed_order(quantity=1)
        after = self._costs()
        self.assertEqual(before, after)

    def test_02_submit_and_approve_are_pinned(self):
        """The query budget of both paths, after warm-up orders."""
        self._costs()
        self._costs()

        with self.assertQueryCount(SUBMIT_QUERIES):
            order = self._create_order()
            self.env.flush_all()
        with self.assertQueryCount(APPROVE_QUERIES):
            order.with_user(self.reviewer).action_approve()
            self.env.flush_all()
        self.assertEqual(order.review_state, "approved")
