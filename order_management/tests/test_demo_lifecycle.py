import tempfile

from odoo.tests import tagged

from odoo.addons.order_management.tools.demo_lifecycle import (
    STEP_SHARES,
    load_demo_orders,
    split_by_step,
)
from odoo.addons.order_management.tools.order_files import generate_tpch

from .common import OrderManagementCommon


@tagged("post_install", "-at_install")
class TestDemoLifecycle(OrderManagementCommon):
    def test_01_split_covers_every_order_once(self):
        """The step slices are consecutive and lose no order."""
        orders = list(range(37))
        slices = split_by_step(orders)
        self.assertEqual(list(slices), [step for step, _share in STEP_SHARES])
        self.assertEqual(sum(slices.values(), []), orders)

    def test_02_demo_orders_reach_every_state(self):
        """The run command's loader spreads real TPC-H orders over the path."""
        with tempfile.TemporaryDirectory() as directory:
            generate_tpch(directory)
            orders = load_demo_orders(self.env, directory, limit=40)

        self.assertEqual(len(orders), 40)
        self.assertEqual(
            set(orders.mapped("review_state")),
            {"waiting", "hold", "rejected", "approved"},
        )
        self.assertEqual(
            set(orders.mapped("shipment_state")),
            {"none", "to_ship", "shipped", "in_transit", "signed"},
        )
        self.assertEqual(orders.incident_ids.mapped("state"), ["open"])
        self.assertEqual(
            set(orders.mapped("completion_state")),
            {"open", "to_invoice", "invoiced", "completed"},
        )
        # Rejected, corrected by the clerk and waiting for their second review.
        resubmitted = orders.filtered(
            lambda o: o.review_state == "waiting"
            and "rejected" in o.order_review_ids.mapped("decision")
        )
        self.assertTrue(resubmitted)
        completed = orders.filtered(lambda o: o.completion_state == "completed")
        self.assertTrue(all(completed.mapped("locked")))
        self.assertTrue(all(o.client_order_ref.startswith("TPCH-") for o in orders))
