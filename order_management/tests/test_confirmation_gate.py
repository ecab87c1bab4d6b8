from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import OrderManagementCommon


@tagged("post_install", "-at_install")
class TestConfirmationGate(OrderManagementCommon):
    def test_01_unreviewed_order_refused_by_rpc(self):
        """A salesman calling action_confirm over RPC cannot skip review."""
        order = self._create_order(user=self.users["salesman"])
        self.assertEqual(order.review_state, "waiting")

        # What the web client's call_kw does for an RPC call.
        with self.assertRaisesRegex(UserError, "not been approved"):
            self.env["sale.order"].with_user(self.users["salesman"]).browse(
                order.id
            ).action_confirm()
        self.assertEqual(order.state, "draft")

    def test_02_rejected_order_refused(self):
        """A rejected order cannot be confirmed, even by the order manager."""
        order = self._create_order()
        order.with_user(self.reviewer).action_reject("Wrong customer.")
        with self.assertRaisesRegex(UserError, "not been approved"):
            order.with_user(self.manager).action_confirm()

    def test_03_direct_state_write_refused(self):
        """Writing state='sale' is gated like the button, superuser included."""
        order = self._create_order()
        with self.assertRaisesRegex(UserError, "not been approved"):
            order.with_user(self.clerk).write({"state": "sale"})
        with self.assertRaisesRegex(UserError, "not been approved"):
            order.sudo().write({"state": "sale"})
        self.assertEqual(order.state, "draft")

    @mute_logger("odoo.addons.base.models.ir_model", "odoo.addons.base.models.ir_rule")
    def test_04_review_fields_not_writable(self):
        """Nobody approves by writing the review state themselves."""
        order = self._create_order()
        for user in (self.clerk, self.reviewer, self.manager):
            with self.assertRaises(AccessError):
                order.with_user(user).write({"review_state": "approved"})
        self.assertEqual(order.review_state, "waiting")

    def test_05_stale_approval_refused_in_the_same_write(self):
        """Changing lines while confirming cannot ride on the old approval."""
        order = self._approved_order()
        with self.assertRaisesRegex(UserError, "reviewed again"):
            order.with_user(self.clerk).write(
                {"state": "sale", "commitment_date": "2031-01-31 10:00:00"}
            )

    def test_06_portal_signature_cannot_confirm_unreviewed(self):
        """The portal's confirmation path meets the same gate."""
        order = self._create_order()
        with self.assertRaisesRegex(UserError, "not been approved"):
            order.sudo()._validate_order()
        self.assertEqual(order.state, "draft")

    def test_07_approved_order_confirms(self):
        """Once approved, the clerk confirms and the history says so."""
        order = self._approved_order()

        order.with_user(self.clerk).action_confirm()

        self.assertEqual(order.state, "sale")
        self.assertEqual(order.shipment_state, "to_ship")
        self.assertEqual(order.completion_state, "to_invoice")
        self.assertEqual(self._events(order)[-1], ("confirm", "draft", "sale"))
        event = order.audit_event_ids.sorted("id")[-1]
        self.assertEqual(event.user_id, self.clerk)
        self.assertTrue(event.timestamp)

    def test_08_mass_confirmation_is_all_or_nothing(self):
        """Confirming a batch with one unreviewed order confirms none."""
        approved = self._approved_order()
        waiting = self._create_order()
        with self.assertRaisesRegex(UserError, waiting.name):
            (approved | waiting).with_user(self.clerk).action_confirm()
        self.assertEqual((approved | waiting).mapped("state"), ["draft", "draft"])
