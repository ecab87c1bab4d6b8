from odoo.exceptions import AccessError, UserError
from odoo.fields import Command
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import OrderManagementCommon

MUTED = ("odoo.addons.base.models.ir_model", "odoo.addons.base.models.ir_rule")


@tagged("post_install", "-at_install")
class TestReviewBypass(OrderManagementCommon):
    """Ways around the review that a user could try over RPC, each refused."""

    @mute_logger(*MUTED)
    def test_01_no_order_is_born_confirmed(self):
        """Creating an order directly in state 'sale' is refused."""
        with self.assertRaisesRegex(UserError, "created as a quotation"):
            self._create_order(state="sale")
        with self.assertRaisesRegex(UserError, "created as a quotation"):
            self._create_order(user=self.manager, state="sale")

    @mute_logger(*MUTED)
    def test_02_no_status_is_typed_in(self):
        """Review, shipment and completion states are not writable, at create either."""
        with self.assertRaises(AccessError):
            self._create_order(review_state="approved")
        with self.assertRaises(AccessError):
            self._create_order(confirm_after_review=True)

        order = self._confirmed_order()
        for values in (
            {"completion_state": "completed"},
            {"shipment_state": "signed"},
            {"completed_date": "2031-01-01 00:00:00"},
        ):
            with self.assertRaises(AccessError):
                order.with_user(self.manager).write(values)
        picking = order.picking_ids.with_user(self.logistics)
        with self.assertRaises(AccessError):
            picking.write({"shipment_state": "signed"})
        with self.assertRaises(AccessError):
            picking.write({"signed_date": "2031-01-01 00:00:00"})
        self.assertFalse(picking.shipment_state)

    def test_03_confirmed_order_changes_only_by_a_manager(self):
        """After confirmation a clerk cannot change prices; a manager can."""
        order = self._confirmed_order()
        line = order.order_line

        with self.assertRaisesRegex(UserError, "only an Order Manager"):
            line.with_user(self.clerk).price_unit = 0.5
        with self.assertRaisesRegex(UserError, "only an Order Manager"):
            order.with_user(self.clerk).write(
                {"order_line": [Command.create({"product_id": self.product.id})]}
            )
        self.assertEqual(line.price_unit, 12.5)

        line.with_user(self.manager).product_uom_qty = 5
        self.assertEqual(self._events(order)[-1], ("amend", "sale", "sale"))

    @mute_logger(*MUTED)
    def test_04_completed_order_is_closed(self):
        """A completed order cannot be unlocked or changed, by anyone."""
        order = self._confirmed_order()
        self._ship(order)
        self._sign(order)
        self._pay(self._invoice(order))
        self.assertEqual(order.completion_state, "completed")

        with self.assertRaisesRegex(UserError, "stays locked"):
            order.with_user(self.manager).action_unlock()
        with self.assertRaisesRegex(UserError, "completed"):
            order.order_line.with_user(self.manager).price_unit = 1
        with self.assertRaisesRegex(UserError, "completed"):
            order.with_user(self.manager).write(
                {"order_line": [Command.create({"product_id": self.product.id})]}
            )

    @mute_logger(*MUTED)
    def test_05_edit_while_waiting_is_checked_again(self):
        """Changing a waiting order reruns the checks; its editor cannot approve."""
        blocked = self.customer.copy({"name": "Blocked Buyer"})
        self.env["order.legality.rule"].create(
            {
                "name": "Blocked buyer",
                "rule_type": "blocked_customer",
                "partner_ids": [Command.link(blocked.id)],
            }
        )
        order = self._create_order()
        self.assertEqual(order.review_state, "waiting")

        order.with_user(self.clerk).partner_id = blocked
        self.assertEqual(order.review_state, "hold")
        self.assertEqual(self._events(order)[-1], ("hold", "waiting", "hold"))

        other = self._create_order()
        other.order_line.with_user(self.reviewer).product_uom_qty = 7
        self.assertEqual(other.review_state, "waiting")
        self.assertEqual(self._events(other)[-1], ("reopen", "waiting", "waiting"))
        with self.assertRaisesRegex(AccessError, "another reviewer"):
            other.with_user(self.reviewer).action_approve()
        other.with_user(self.users["reviewer2"]).action_approve()
        self.assertEqual(other.review_state, "approved")

    def test_06_tracking_number_of_blanks_is_no_tracking_number(self):
        """A tracking number made of spaces does not let a delivery leave."""
        order = self._confirmed_order()
        picking = order.picking_ids.with_user(self.logistics)
        picking.write({"carrier_id": self.carrier.id, "carrier_tracking_ref": "   "})
        picking.move_ids.quantity = 4
        with self.assertRaisesRegex(UserError, "tracking number"):
            picking.button_validate()
