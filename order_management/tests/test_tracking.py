from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from .common import OrderManagementCommon


@tagged("post_install", "-at_install")
class TestTracking(OrderManagementCommon):
    """Shipments followed to the signature, incidents, and the way to cash."""

    def test_01_each_shipment_state_in_turn(self):
        """Shipped, in transit, delivered, signed: on the delivery, the order
        and in the history, each once and in that order only."""
        order = self._confirmed_order()
        picking = self._ship(order)
        self.assertEqual(order.shipment_state, "shipped")
        with self.assertRaises(AccessError):
            picking.with_user(self.clerk).action_mark_in_transit()

        picking.action_mark_in_transit()
        self.assertEqual(
            (picking.shipment_state, order.shipment_state), ("in_transit",) * 2
        )
        self.assertTrue(picking.in_transit_date)

        picking.action_mark_delivered()
        self.assertEqual(
            (picking.shipment_state, order.shipment_state), ("delivered",) * 2
        )
        with self.assertRaisesRegex(UserError, "cannot become In transit"):
            picking.action_mark_in_transit()

        picking.write({"signed_by": "Li Na"})
        picking.action_confirm_signature()
        self.assertEqual(order.shipment_state, "signed")
        self.assertEqual(
            [event for event, _from, _to in self._events(order)][-4:],
            ["ship", "transit", "deliver", "sign"],
        )
        with self.assertRaisesRegex(UserError, "cannot become Delivered"):
            picking.action_mark_delivered()

    def test_02_tracking_number_format_and_link_per_carrier(self):
        """A carrier's format refuses a wrong number; its page gets the link."""
        self.carrier.write(
            {
                "tracking_ref_pattern": r"SF\d{12}",
                "tracking_ref_help": "SF and 12 digits",
                "tracking_url_pattern": "https://track.example/?no={ref}",
                "shipping_method": "courier",
            }
        )
        order = self._confirmed_order()
        with self.assertRaisesRegex(UserError, "not a Road Freight tracking number"):
            self._ship(order, tracking="SF12")

        picking = self._ship(order, tracking="SF123456789012")
        self.assertEqual(picking.shipping_method, "courier")
        self.assertEqual(
            picking.carrier_tracking_url, "https://track.example/?no=SF123456789012"
        )
        with self.assertRaises(ValidationError):
            self.carrier.tracking_ref_pattern = "SF[0-9"

    def test_03_open_incident_blocks_completion(self):
        """Signed and paid with a delay still open: not completed until the
        incident is resolved with its result."""
        order = self._confirmed_order()
        picking = self._ship(order)
        incident = (
            self.env["order.incident"]
            .with_user(self.logistics)
            .create(
                {
                    "order_id": order.id,
                    "picking_id": picking.id,
                    "incident_type": "delay",
                    "description": "Truck stuck at the border for two days.",
                }
            )
        )
        self.assertTrue(incident.name.startswith("INC/"))
        self._sign(order)
        self._pay(self._invoice(order))
        self.assertEqual(order.completion_state, "paid")
        self.assertEqual(order.open_incident_count, 1)

        incident.action_start()
        with self.assertRaisesRegex(UserError, "Write how"):
            incident.action_resolve()
        incident.write(
            {
                "handling": "Called the customer; new slot booked.",
                "result": "Delivered two days late; customer agreed.",
            }
        )
        incident.action_resolve()

        self.assertEqual(order.completion_state, "completed")
        self.assertIn(("incident_closed", False, "resolved"), self._events(order))

    def test_03b_who_reported_an_incident(self):
        """Staff record whether they or the customer reported it; only the
        portal records the customer's own report there."""
        order = self._confirmed_order()
        Incident = self.env["order.incident"].with_user(self.logistics)
        vals = {"order_id": order.id, "incident_type": "damage", "description": "Dent."}
        self.assertEqual(Incident.create(vals).reported_via, "staff")
        called = Incident.create(dict(vals, reported_via="customer"))
        self.assertEqual(called.reported_via, "customer")

        with self.assertRaisesRegex(UserError, "Only the customer portal"):
            Incident.create(dict(vals, reported_via="portal"))
        with self.assertRaisesRegex(UserError, "Only the customer portal"):
            called.write({"reported_via": "portal"})
        from_portal = Incident.sudo().create(dict(vals, reported_via="portal"))
        with self.assertRaisesRegex(UserError, "Only the customer portal"):
            from_portal.with_user(self.logistics).write({"reported_via": "staff"})

    def test_04_signature_hands_over_to_finance_until_paid(self):
        """The signature gives Finance a to-do; invoicing closes it; payment
        completes the order, which then shows what was invoiced and paid."""
        order = self._confirmed_order(quantity=6)
        self._ship(order)
        self._sign(order)
        invoice_type = self.env.ref("order_management.mail_activity_type_order_invoice")
        todo = order.activity_ids.filtered(lambda a: a.activity_type_id == invoice_type)
        self.assertEqual(len(todo), 1)
        self.assertTrue(todo.user_id.has_group("account.group_account_invoice"))

        invoice = self._invoice(order)
        self.assertFalse(todo.exists())
        self.assertEqual(
            (order.amount_invoiced_total, order.amount_paid_total), (75.0, 0.0)
        )
        self._pay(invoice)
        self.assertEqual(order.amount_paid_total, 75.0)
        self.assertEqual(order.completion_state, "completed")
        self.assertTrue(order.locked)
        # Out of the daily list by its default filter, still found by search.
        action = self.env.ref("sale.action_orders")
        self.assertIn("'search_default_not_completed': 1", action.context)
        self.assertEqual(
            self.env["sale.order"].search([("name", "=", order.name)]), order
        )
