from unittest.mock import patch

from odoo.fields import Command
from odoo.tests import tagged

from .common import OrderManagementCommon


@tagged("post_install", "-at_install")
class TestAnalyticDistribution(OrderManagementCommon):
    """Order lines skip the per-line search for distribution models while none
    exists, and find them again as soon as one does."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["account.analytic.distribution.model"].with_context(
            active_test=False
        ).search([]).unlink()
        plan = cls.env["account.analytic.plan"].create({"name": "Regions"})
        cls.analytic_account = cls.env["account.analytic.account"].create(
            {"name": "East China", "plan_id": plan.id}
        )

    def _lines_and_model_queries(self, line_count):
        """Enter an order of ``line_count`` lines; return it and the queries
        that read the distribution models meanwhile."""
        queries = []
        execute = self.env.cr.execute

        def recording_execute(query, params=None, log_exceptions=True):
            if "account_analytic_distribution_model" in str(query):
                queries.append(str(query))
            return execute(query, params, log_exceptions)

        with patch.object(self.env.cr, "execute", recording_execute):
            order = self._create_order(
                order_line=[
                    Command.create(
                        {"product_id": self.product.id, "product_uom_qty": 1 + index}
                    )
                    for index in range(line_count)
                ]
            )
            self.env.flush_all()
        return order, queries

    def test_01_no_model_no_search_per_line(self):
        order, queries = self._lines_and_model_queries(12)

        self.assertEqual(len(order.order_line), 12)
        self.assertFalse(any(order.order_line.mapped("analytic_distribution")))
        # Whether any model exists is asked once, then remembered.
        self.assertLessEqual(len(queries), 1)
        _order, queries = self._lines_and_model_queries(12)
        self.assertEqual(len(queries), 0)

    def test_02_a_new_model_applies_at_once(self):
        self._lines_and_model_queries(1)
        distribution = {str(self.analytic_account.id): 100}
        model = self.env["account.analytic.distribution.model"].create(
            {"partner_id": self.customer.id, "analytic_distribution": distribution}
        )

        order, queries = self._lines_and_model_queries(3)
        self.assertEqual(
            order.order_line.mapped("analytic_distribution"), [distribution] * 3
        )
        self.assertTrue(queries)

        model.unlink()
        order, _queries = self._lines_and_model_queries(2)
        self.assertFalse(any(order.order_line.mapped("analytic_distribution")))
