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

    def test_06_portal_signature_waits_for_review(self):
        """A customer's signature does not confirm an unreviewed order."""
        order = self._create_order()

        # What the portal does once the customer signs.
        order.sudo()._validate_order()

        self.assertEqual(order.state, "draft")
        self.assertTrue(order.confirm_after_review)
        self.assertEqual(self._events(order)[-1], ("accept", False, "accepted"))
        self.assertTrue(
            order.message_ids.filtered(lambda m: "before its review ended" in m.body)
        )

        # The approval then confirms it: the signature was the acceptance.
        order.with_user(self.reviewer).action_approve()
        self.assertEqual(order.state, "sale")

    def test_06b_online_payment_waits_for_review(self):
        """A paid but unreviewed quotation waits; approval confirms it."""
        order = self._create_order()
        provider = self.env["payment.provider"].search([], limit=1)
        method = (
            self.env["payment.method"]
            .with_context(active_test=False)
            .search([], limit=1)
        )
        tx = (
            self.env["payment.transaction"]
            .sudo()
            .create(
                {
                    "provider_id": provider.id,
                    "payment_method_id": method.id,
                    "amount": order.amount_total,
                    "currency_id": order.currency_id.id,
                    "partner_id": order.partner_id.id,
                    "reference": f"{order.name}-test",
                    "sale_order_ids": [(6, 0, order.ids)],
                }
            )
        )

        confirmed = tx._check_amount_and_confirm_order()

        self.assertFalse(confirmed)
        self.assertEqual(order.state, "draft")
        self.assertTrue(order.confirm_after_review)
        order.with_user(self.reviewer).action_approve()
        self.assertEqual(order.state, "sale")

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
