import tempfile

from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.order_management.tools.order_files import read_order_file

from . import test_order_files
from .common import OrderManagementCommon

SPECIAL_HEADER = (
    "order_ref,customer_ref,customer_name,delivery_street,delivery_city,"
    "delivery_country,delivery_date,product_code,quantity,unit_price,"
    "special_type,special_note\n"
)


def special_csv(*rows):
    return (SPECIAL_HEADER + "".join(row + "\n" for row in rows)).encode("utf-8")


@tagged("post_install", "-at_install")
class TestSpecialOrders(OrderManagementCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rush = cls.env.ref("order_management.special_type_rush")
        cls.special_terms = cls.env.ref("order_management.special_type_special_terms")

    def test_01_special_order_needs_its_note(self):
        """A special order without a note is held; with one it waits for review."""
        bare = self._create_order(special_type_id=self.rush.id)
        self.assertEqual(bare.review_state, "hold")
        failed = bare.check_result_ids.filtered(lambda r: r.result == "failed")
        self.assertIn("a note saying what is special (Rush)", failed.message)

        noted = self._create_order(
            special_type_id=self.rush.id, special_note="Line stop at the customer."
        )
        self.assertEqual(noted.review_state, "waiting")
        # Rush asks for no extra level: one approval does.
        noted.with_user(self.reviewer).action_approve()
        self.assertEqual(noted.review_state, "approved")

    def test_02_special_terms_need_an_order_manager(self):
        """The type's extra level comes after the reviewer, for another person."""
        order = self._create_order(
            special_type_id=self.special_terms.id, special_note="Payment at 120 days."
        )
        order.with_user(self.reviewer).action_approve()
        self.assertEqual(order.review_state, "waiting")
        pending = order.order_review_ids.filtered(lambda r: r.decision == "pending")
        self.assertEqual(pending.level, 2)
        self.assertEqual(
            pending.reviewer_group_id,
            self.env.ref("order_management.group_order_manager"),
        )

        order.with_user(self.manager).action_approve()
        self.assertEqual(order.review_state, "approved")

    def test_03_changing_what_is_special_asks_for_review_again(self):
        """The type and the note are part of what the reviewer approved."""
        order = self._create_order(
            special_type_id=self.rush.id, special_note="Before the 5th."
        )
        order.with_user(self.reviewer).action_approve()
        order.with_user(self.clerk).special_note = "Before the 3rd."
        self.assertEqual(order.review_state, "waiting")

    def test_04_deliveries_show_what_is_special(self):
        """Logistics reads the type and note on the delivery itself."""
        order = self._confirmed_order(
            special_type_id=self.rush.id, special_note="Deliver by the 5th."
        )
        picking = order.picking_ids.with_user(self.logistics)
        self.assertEqual(picking.order_special_type_id.name, "Rush")
        self.assertEqual(picking.order_special_note, "Deliver by the 5th.")

    def test_05_import_special_orders(self):
        """The special_type column takes a type code; an unknown one is named."""
        content = special_csv(
            "PO-51,HB-1,Harbour Ltd,8 Quay St,Ningbo,CN,2031-05-02,OM-BRACKET,4,12.5,"
            "rush,Line stop",
            "PO-52,HB-1,Harbour Ltd,8 Quay St,Ningbo,CN,2031-05-02,OM-HINGE,9,3,,",
        )
        orders = self.env["order.importer"].import_file("special.csv", content)
        special = orders.filtered("special_type_id")
        self.assertEqual(special.client_order_ref, "PO-51")
        self.assertEqual(
            (special.special_type_id, special.special_note), (self.rush, "Line stop")
        )

        before = self.env["sale.order"].search_count([])
        wrong = special_csv(
            "PO-53,HB-1,Harbour Ltd,8 Quay St,Ningbo,CN,2031-05-02,OM-BRACKET,4,12.5,"
            "urgent,Line stop",
        )
        with self.assertRaisesRegex(
            UserError, r"special.csv, row 2, special_type: unknown special order type"
        ):
            self.env["order.importer"].import_file("special.csv", wrong)
        self.assertEqual(self.env["sale.order"].search_count([]), before)

    def test_06_rows_of_one_order_agree_on_its_type(self):
        """Two types for one order: the second row is refused."""
        _orders, errors = read_order_file(
            "special.csv",
            special_csv(
                "PO-1,C-1,Delta,Road 1,Ulm,DE,2031-05-02,B-1,4,12.5,rush,Soon",
                "PO-1,C-1,Delta,Road 1,Ulm,DE,2031-05-02,H-2,4,3,custom_spec,Spec",
            ),
        )
        self.assertEqual(
            [(error.row, error.field) for error in errors], [(3, "special_type")]
        )

    def test_07_urgent_tpch_orders_are_rush_orders(self):
        """TPC-H's 1-URGENT priority imports as a rush special order."""
        with tempfile.TemporaryDirectory() as directory:
            test_order_files.TestTpchReader()._sample(directory)
            orders = self.env["order.importer"].import_tpch(directory, limit=3)
        by_ref = {order.client_order_ref: order for order in orders}
        self.assertFalse(by_ref["TPCH-1"].special_type_id)
        self.assertEqual(by_ref["TPCH-2"].special_type_id, self.rush)
        self.assertEqual(by_ref["TPCH-2"].special_note, "TPC-H order priority 1-URGENT")
