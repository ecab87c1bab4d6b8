from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import OrderManagementCommon


@tagged("post_install", "-at_install")
class TestLifecycle(OrderManagementCommon):
    def test_01_entry_to_completion(self):
        """Entered, reviewed, confirmed, shipped, signed, invoiced, paid, done."""
        order = self._confirmed_order(quantity=6)
        delivery = order.picking_ids
        self.assertEqual(len(delivery), 1)

        # Logistics ships with carrier and tracking number.
        self._ship(order, tracking="SF1234567890")
        self.assertEqual(delivery.state, "done")
        self.assertEqual(delivery.shipment_state, "shipped")
        self.assertTrue(delivery.date_done)
        self.assertEqual(order.shipment_state, "shipped")

        # The customer signs; logistics confirms it.
        self._sign(order, signed_by="Li Na")
        self.assertEqual(delivery.shipment_state, "signed")
        self.assertEqual(delivery.signed_by, "Li Na")
        self.assertEqual(order.shipment_state, "signed")
        self.assertFalse(order.completed_date, "not paid yet")

        # Finance invoices, posts and collects.
        invoice = self._invoice(order)
        self.assertEqual(invoice.amount_total, 75.0)
        self.assertEqual(order.completion_state, "invoiced")
        self._pay(invoice)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))

        self.assertEqual(order.completion_state, "completed")
        self.assertTrue(order.locked)
        self.assertTrue(order.completed_date)
        self.assertEqual(
            [event for event, _from, _to in self._events(order)],
            [
                "submit",
                "approve",
                "confirm",
                "ship",
                "sign",
                "invoice",
                "pay",
                "complete",
            ],
        )

    def test_02_paid_before_signature_completes_at_signature(self):
        """Prepaid orders complete when the signature comes in."""
        order = self._confirmed_order()
        self._ship(order)
        self._pay(self._invoice(order))
        self.assertEqual(order.completion_state, "paid")

        self._sign(order)

        self.assertEqual(order.completion_state, "completed")
        self.assertEqual(self._events(order)[-1], ("complete", "paid", "completed"))

    def test_03_no_shipping_without_carrier_and_tracking(self):
        """A delivery cannot leave without its shipping record."""
        order = self._confirmed_order()
        picking = order.picking_ids.with_user(self.logistics)
        picking.move_ids.quantity = 4
        with self.assertRaisesRegex(UserError, "carrier and the tracking number"):
            picking.button_validate()
        picking.carrier_id = self.carrier
        with self.assertRaisesRegex(UserError, "carrier and the tracking number"):
            picking.button_validate()
        self.assertEqual(picking.state, "assigned")

    def test_04_signature_needs_a_shipped_delivery_and_a_name(self):
        """Logistics cannot confirm a signature before shipping or anonymously."""
        order = self._confirmed_order()
        picking = order.picking_ids.with_user(self.logistics)
        picking.signed_by = "Li Na"
        with self.assertRaisesRegex(
            UserError, "cannot become Signed: it is not shipped"
        ):
            picking.action_confirm_signature()

        self._ship(order)
        picking.signed_by = " "
        with self.assertRaisesRegex(UserError, "who signed"):
            picking.action_confirm_signature()
        self.assertEqual(picking.shipment_state, "shipped")
