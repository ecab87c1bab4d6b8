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

    @mute_logger(*MUTED)
    def test_07_context_defaults_set_no_status(self):
        """``default_<status>`` keys in the context are ignored at creation."""
        order = (
            self.env["sale.order"]
            .with_user(self.clerk)
            .with_context(
                default_review_state="approved",
                default_state="sale",
                default_completed_date="2031-01-01 00:00:00",
            )
            .create({"partner_id": self.customer.id})
        )
        self.assertEqual((order.state, order.review_state), ("draft", "draft"))
        self.assertFalse(order.completed_date)

        picking_type = self.env.ref("stock.picking_type_out")
        with self.assertRaises(AccessError):
            self.env["stock.picking"].with_user(self.logistics).create(
                {"picking_type_id": picking_type.id, "shipment_state": "signed"}
            )
        picking = (
            self.env["stock.picking"]
            .with_user(self.logistics)
            .with_context(default_shipment_state="signed")
            .create({"picking_type_id": picking_type.id})
        )
        self.assertFalse(picking.shipment_state)

    def test_08_confirming_after_a_company_change_is_refused(self):
        """Values Odoo recomputes (taxes of another company) count too."""
        order = self._approved_order()
        with self.assertRaisesRegex(UserError, "reviewed again|changed after"):
            order.with_user(self.clerk).write(
                {
                    "fiscal_position_id": self.env["account.fiscal.position"]
                    .create({"name": "Export"})
                    .id,
                    "state": "sale",
                }
            )

    @mute_logger(*MUTED)
    def test_09_automatic_line_flags_prove_nothing(self):
        """A clerk cannot add or reshape lines of a confirmed order by flags."""
        order = self._confirmed_order()
        for flag in ("is_delivery", "is_downpayment"):
            with self.assertRaisesRegex(UserError, "only an Order Manager"):
                self.env["sale.order.line"].with_user(self.clerk).create(
                    {"order_id": order.id, "product_id": self.product.id, flag: True}
                )
            with self.assertRaisesRegex(UserError, "only an Order Manager"):
                order.order_line.with_user(self.logistics).write({flag: True})

    @mute_logger(*MUTED)
    def test_10_completed_order_keeps_its_lock_and_state(self):
        """Neither ``locked`` nor ``state`` of a completed order can be written."""
        order = self._confirmed_order()
        self._ship(order)
        self._sign(order)
        self._pay(self._invoice(order))
        for values in ({"locked": False}, {"state": "cancel"}, {"state": "draft"}):
            with self.assertRaisesRegex(UserError, "completed"):
                order.with_user(self.finance).write(values)
        self.assertEqual((order.state, order.locked), ("sale", True))

    @mute_logger(*MUTED)
    def test_11_lines_stay_in_their_order(self):
        """A line cannot be moved into another order, confirmed or not."""
        quotation = self._create_order()
        confirmed = self._confirmed_order()
        with self.assertRaisesRegex(UserError, "cannot move"):
            quotation.order_line.with_user(self.clerk).order_id = confirmed

    def test_12_packaging_changes_count_as_quantity_changes(self):
        """Changing a line's packaging on a confirmed order needs a manager."""
        packaging = self.env["product.packaging"].create(
            {"name": "Pallet", "product_id": self.product.id, "qty": 1000}
        )
        order = self._confirmed_order()
        with self.assertRaisesRegex(UserError, "only an Order Manager"):
            order.order_line.with_user(self.clerk).write(
                {"product_packaging_id": packaging.id, "product_packaging_qty": 3}
            )

    def test_13_approval_is_of_what_was_submitted(self):
        """Content changed without a new round (cancel, edit, draft) is refused."""
        order = self._create_order()
        order.with_user(self.reviewer).write(
            {
                "state": "cancel",
                "order_line": [(1, order.order_line.id, {"price_unit": 1})],
            }
        )
        order.with_user(self.reviewer).action_draft()
        with self.assertRaisesRegex(UserError, "changed since it was submitted"):
            order.with_user(self.users["reviewer2"]).action_approve()

    @mute_logger(*MUTED)
    def test_14_a_delivery_forced_to_done_is_not_shipped(self):
        """Only validation with the shipping checks marks an order shipped."""
        order = self._confirmed_order()
        order.picking_ids.with_user(self.logistics).move_ids.write({"state": "done"})
        self.assertEqual(order.picking_ids.state, "done")
        self.assertEqual(order.shipment_state, "to_ship")

    @mute_logger(*MUTED)
    def test_15_confirmed_order_is_cancelled_before_going_back_to_quotation(self):
        """Writing a confirmed order straight back to quotation is refused,
        even for an Order Manager; cancelling first, as Odoo's buttons do,
        still works."""
        order = self._confirmed_order()
        for user in (self.reviewer, self.manager):
            for state in ("draft", "sent"):
                with self.assertRaisesRegex(UserError, "cancel it before"):
                    order.with_user(user).write({"state": state})
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.picking_ids.state, "assigned")

        # What Odoo's cancel dialog does once confirmed.
        order.with_user(self.manager).with_context(
            disable_cancel_warning=True
        ).action_cancel()
        order.with_user(self.manager).action_draft()
        self.assertEqual(order.state, "draft")
        self.assertEqual(order.picking_ids.state, "cancel")
