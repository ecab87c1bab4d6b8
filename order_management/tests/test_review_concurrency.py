from datetime import timedelta

from odoo import SUPERUSER_ID, api, fields
from odoo.exceptions import UserError
from odoo.fields import Command
from odoo.tests import TransactionCase, tagged
from odoo.tools import SQL, mute_logger

from .common import behind_triggers


@tagged("post_install", "-at_install")
class TestReviewConcurrency(TransactionCase):
    """Two reviewers deciding the same order at once, on two real connections.

    The order must be committed for a second connection to see it, so this
    test writes outside the test transaction and removes what it wrote.
    It uses the demo users, which exist in committed data.
    """

    def _env(self, cr, login):
        env = api.Environment(cr, SUPERUSER_ID, {})
        user = env["res.users"].search([("login", "=", login)])
        self.assertTrue(user, f"demo user {login} is needed")
        return api.Environment(cr, user.id, {})

    def _create_committed_order(self):
        with self.registry.cursor() as cr:
            env = self._env(cr, "om_clerk")
            customer = (
                env["res.partner"]
                .sudo()
                .search([("street", "!=", False), ("country_id", "!=", False)], limit=1)
            )
            product = (
                env["product.product"]
                .sudo()
                .search([("sale_ok", "=", True), ("list_price", ">", 0)], limit=1)
            )
            order = env["sale.order"].create(
                {
                    "partner_id": customer.id,
                    "commitment_date": fields.Datetime.now() + timedelta(days=5),
                    "order_line": [Command.create({"product_id": product.id})],
                }
            )
            self.assertEqual(order.review_state, "waiting")
            return order.id

    def _remove(self, order_id):
        with self.registry.cursor() as cr:
            # History is append-only, down to the database; a test that had to
            # commit cleans up behind the guard (its events end the chain, so
            # the chain still holds without them).
            behind_triggers(
                cr,
                "order_audit_event",
                SQL("DELETE FROM order_audit_event WHERE order_id = %s", order_id),
            )
            api.Environment(cr, SUPERUSER_ID, {})["sale.order"].browse(
                order_id
            ).unlink()

    @mute_logger("odoo.sql_db")
    def test_01_second_decision_is_refused_while_the_first_runs(self):
        """One decision wins; the other reviewer is told, nothing is doubled."""
        order_id = self._create_committed_order()
        try:
            with self.registry.cursor() as cr_a, self.registry.cursor() as cr_b:
                first = self._env(cr_a, "om_reviewer")["sale.order"].browse(order_id)
                second = self._env(cr_b, "om_manager")["sale.order"].browse(order_id)
                # Both read the order as waiting before anyone decides.
                self.assertEqual(first.review_state, "waiting")
                self.assertEqual(second.review_state, "waiting")

                first.action_approve()
                with self.assertRaisesRegex(UserError, "Another person is deciding"):
                    second.action_reject("Too expensive.")
                cr_b.rollback()
                cr_a.commit()

                # Once the first decision is in, the second one is told so.
                second.invalidate_recordset()
                with self.assertRaisesRegex(UserError, "not waiting for review"):
                    second.action_reject("Too expensive.")
                cr_b.rollback()

            with self.registry.cursor() as cr:
                order = api.Environment(cr, SUPERUSER_ID, {})["sale.order"].browse(
                    order_id
                )
                self.assertEqual(order.review_state, "approved")
                self.assertEqual(
                    order.order_review_ids.mapped("decision"), ["approved"]
                )
                self.assertEqual(
                    order.audit_event_ids.mapped("event").count("approve"), 1
                )
                self.assertNotIn("reject", order.audit_event_ids.mapped("event"))
        finally:
            self._remove(order_id)
