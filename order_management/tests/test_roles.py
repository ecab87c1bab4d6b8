from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import OrderManagementCommon

MUTED = ("odoo.addons.base.models.ir_model", "odoo.addons.base.models.ir_rule")


@tagged("post_install", "-at_install")
class TestRoles(OrderManagementCommon):
    """What each role may and may not do along the order's path."""

    @mute_logger(*MUTED)
    def test_01_clerk(self):
        """Clerks enter, submit and confirm; they neither review nor ship."""
        order = self._create_order()
        self.assertEqual(order.review_state, "waiting")
        with self.assertRaises(AccessError):
            order.with_user(self.clerk).action_approve()
        with self.assertRaises(AccessError):
            order.with_user(self.clerk).action_reject("Looks wrong")

        order.with_user(self.reviewer).action_approve()
        order.with_user(self.clerk).action_confirm()
        self.assertEqual(order.state, "sale")

        # Odoo lets salesmen edit deliveries; shipping them is logistics' job.
        picking = order.picking_ids.with_user(self.clerk)
        picking.write({"carrier_id": self.carrier.id, "carrier_tracking_ref": "X1"})
        picking.move_ids.quantity = 4
        with self.assertRaises(AccessError):
            picking.button_validate()
        with self.assertRaises(AccessError):
            picking.action_confirm_signature()
        self.assertEqual(picking.state, "assigned")

    @mute_logger(*MUTED)
    def test_02_clerk_sees_only_own_orders(self):
        """A clerk cannot read the orders of another clerk."""
        other = self._create_order(user=self.users["clerk2"])
        with self.assertRaises(AccessError):
            other.with_user(self.clerk).read(["name"])
        with self.assertRaises(AccessError):
            other.order_review_ids.with_user(self.clerk).read(["decision"])
        self.assertTrue(other.with_user(self.reviewer).read(["name"]))

    @mute_logger(*MUTED)
    def test_03_reviewer(self):
        """Reviewers decide; they do not ship or invoice."""
        order = self._create_order()
        order.with_user(self.reviewer).action_approve()
        self.assertEqual(order.review_state, "approved")

        order.with_user(self.clerk).action_confirm()
        picking = order.picking_ids.with_user(self.reviewer)
        picking.write({"carrier_id": self.carrier.id, "carrier_tracking_ref": "X1"})
        with self.assertRaises(AccessError):
            picking.button_validate()
        with self.assertRaises(AccessError):
            self.env["account.move"].with_user(self.reviewer).create(
                {"move_type": "out_invoice", "partner_id": self.customer.id}
            )

    @mute_logger(*MUTED)
    def test_04_logistics(self):
        """Logistics ships and confirms signatures; it neither enters nor reviews."""
        with self.assertRaises(AccessError):
            self.env["sale.order"].with_user(self.logistics).create(
                {"partner_id": self.customer.id}
            )
        order = self._confirmed_order()
        with self.assertRaises(AccessError):
            self._create_order().with_user(self.logistics).action_approve()

        self._ship(order)
        self._sign(order)
        self.assertEqual(order.shipment_state, "signed")
        invoice = order.with_user(self.finance)._create_invoices()
        with self.assertRaises(AccessError):
            invoice.with_user(self.logistics).action_post()
        self.assertEqual(invoice.state, "draft")

    @mute_logger(*MUTED)
    def test_05_finance(self):
        """Finance invoices and collects; it neither enters, reviews nor ships."""
        with self.assertRaises(AccessError):
            self.env["sale.order"].with_user(self.finance).create(
                {"partner_id": self.customer.id}
            )
        waiting = self._create_order()
        with self.assertRaises(AccessError):
            waiting.with_user(self.finance).action_approve()

        order = self._confirmed_order()
        self._ship(order)
        with self.assertRaises(AccessError):
            order.picking_ids.with_user(self.finance).action_confirm_signature()

        invoice = self._invoice(order)
        self.assertEqual(invoice.state, "posted")
        self._pay(invoice)
        self.assertEqual(order.completion_state, "paid")

    @mute_logger(*MUTED)
    def test_06_manager_holds_every_role(self):
        """The order manager can take any step, but never approve their own entry."""
        order = self._create_order(user=self.manager)
        with self.assertRaises(AccessError):
            order.with_user(self.manager).action_approve()

        entered_by_clerk = self._create_order()
        entered_by_clerk.with_user(self.manager).action_approve()
        entered_by_clerk.with_user(self.manager).action_confirm()
        pickings = entered_by_clerk.picking_ids.with_user(self.manager)
        pickings.write(
            {
                "carrier_id": self.carrier.id,
                "carrier_tracking_ref": "SF99",
                "signed_by": "Li",
            }
        )
        pickings.move_ids.quantity = 4
        pickings.button_validate()
        pickings.action_confirm_signature()
        invoice = entered_by_clerk.with_user(self.manager)._create_invoices()
        invoice.action_post()
        self.assertEqual(entered_by_clerk.completion_state, "invoiced")
        self.assertTrue(
            self.env["order.audit.event"].with_user(self.manager).search_count([])
        )

    @mute_logger(*MUTED)
    def test_07_plain_salesman_cannot_review(self):
        """Odoo's own salesman group gives no review rights."""
        salesman = self.users["salesman"]
        order = self._create_order(user=salesman)
        with self.assertRaises(AccessError):
            order.with_user(self.users["clerk2"]).action_approve()
        with self.assertRaises(AccessError):
            order.with_user(salesman).action_approve()

    @mute_logger(*MUTED)
    def test_08_history_is_read_only_for_everyone(self):
        """No role, not even the manager, edits or deletes history."""
        order = self._create_order()
        event = order.audit_event_ids
        for user in (self.clerk, self.reviewer, self.manager):
            with self.assertRaises(AccessError):
                event.with_user(user).unlink()
            with self.assertRaises(AccessError):
                self.env["order.audit.event"].with_user(user).create(
                    {"event": "approve", "stage": "review", "order_id": order.id}
                )
        with self.assertRaisesRegex(Exception, "cannot be changed"):
            event.sudo().write({"to_state": "approved"})
        with self.assertRaisesRegex(Exception, "cannot be deleted"):
            event.sudo().unlink()

    @mute_logger(*MUTED)
    def test_09_review_rounds_are_read_only(self):
        """Review rounds change only through approve and reject."""
        order = self._create_order()
        review = order.order_review_ids
        for user in (self.clerk, self.reviewer, self.manager):
            with self.assertRaises(AccessError):
                review.with_user(user).write({"decision": "approved"})
            with self.assertRaises(AccessError):
                self.env["sale.order.review"].with_user(user).create(
                    {"order_id": order.id, "decision": "approved"}
                )
        self.assertEqual(review.decision, "pending")
