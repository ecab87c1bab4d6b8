import psycopg2

from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.order_management.tools.audit_chain import event_hash

from .common import OrderManagementCommon, behind_triggers


@tagged("post_install", "-at_install")
class TestAuditChain(OrderManagementCommon):
    """Each order's history is chained; the database keeps it append-only."""

    def _history(self):
        order = self._confirmed_order()
        self._ship(order)
        return order.audit_event_ids.sorted("id")

    def test_01_each_event_is_chained_to_the_one_before(self):
        """Every event's hash covers its content and its predecessor's hash."""
        events = self._history()
        self.assertGreaterEqual(len(events), 4)
        for previous, event in zip(events, events[1:], strict=False):
            self.assertEqual(event.previous_hash, previous.hash)
        last = events[-1]
        values = {name: last[name] for name in ("event", "stage", "to_state")}
        values.update(
            timestamp=last.timestamp,
            user_id=last.user_id.id,
            order_id=last.order_id.id,
            from_state=last.from_state,
            note=last.note,
        )
        self.assertEqual(last.hash, event_hash(values, last.previous_hash))
        self.assertFalse(self.env["order.audit.event"]._verify_chain())

    @mute_logger("odoo.sql_db")
    def test_02_database_refuses_update_delete_truncate(self):
        """Even as the table's owner, through plain SQL, nothing changes."""
        event = self._history()[-1]
        for statement in (
            "UPDATE order_audit_event SET note = 'edited' WHERE id = %s",
            "DELETE FROM order_audit_event WHERE id = %s",
            "TRUNCATE order_audit_event CASCADE",
        ):
            with self.subTest(statement=statement.split()[0]):
                with self.assertRaisesRegex(psycopg2.Error, "append-only"):
                    with self.env.cr.savepoint():
                        self.env.cr.execute(statement, [event.id])
        self.assertTrue(event.exists())

    @mute_logger("odoo.addons.order_management.models.order_audit_event")
    def test_03_a_row_changed_behind_the_triggers_is_found(self):
        """Someone disables the guard and edits a past event: the daily
        verification names that event."""
        events = self._history()
        tampered = events[1]
        behind_triggers(
            self.env.cr,
            "order_audit_event",
            "UPDATE order_audit_event SET to_state = 'approved!' WHERE id = %s",
            [tampered.id],
        )
        self.env["order.audit.event"].invalidate_model()

        self.assertEqual(self.env["order.audit.event"]._cron_verify_chain(), tampered)
        action = self.env["order.audit.event"].action_verify_chain()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn(str(tampered.id), action["params"]["message"])

    @mute_logger("odoo.addons.order_management.models.order_audit_event")
    def test_05_a_removed_event_breaks_its_order_chain_only(self):
        """Each order has its own chain, starting from nothing: removing an
        event is found at the next one of the same order."""
        events = self._history()
        other = self._history()
        self.assertEqual(events[0].previous_hash, "")
        self.assertEqual(other[0].previous_hash, "")
        behind_triggers(
            self.env.cr,
            "order_audit_event",
            "DELETE FROM order_audit_event WHERE id = %s",
            [other[1].id],
        )
        self.env["order.audit.event"].invalidate_model()

        self.assertEqual(self.env["order.audit.event"]._verify_chain(), other[2])

    def test_04_an_intact_history_is_reported_intact(self):
        self._history()
        action = self.env["order.audit.event"].action_verify_chain()
        self.assertEqual(action["params"]["type"], "success")

    def test_06_events_beside_orders_share_one_chain(self):
        """Access and data events chain together, and their changes are hashed."""
        Event = self.env["order.audit.event"]
        first, second = Event._record_events(
            [
                {"event": "login_failed", "stage": "access", "login": "nobody"},
                {
                    "event": "change",
                    "stage": "data",
                    "res_model": "res.partner",
                    "res_id": self.customer.id,
                    "changes": {"credit_limit": [0.0, 500.0]},
                },
            ]
        )
        self.assertEqual(second.previous_hash, first.hash)
        self.assertEqual(first.login, "nobody")
        self.assertEqual(second.changes, '{"credit_limit": [0.0, 500.0]}')
        self.assertFalse(Event._verify_chain())

        # A change rewritten behind the triggers is found like any other.
        behind_triggers(
            self.env.cr,
            "order_audit_event",
            "UPDATE order_audit_event SET changes = %s WHERE id = %s",
            ['{"credit_limit": [0.0, 50000.0]}', second.id],
        )
        Event.invalidate_model()
        self.assertEqual(Event._verify_chain(), second)

    def test_07_rejection_and_cancellation_are_logged_with_who_and_why(self):
        """The order operations outside the happy path: reject, then cancel."""
        order = self._create_order()
        order.with_user(self.reviewer).action_reject("Wrong delivery address.")
        order.with_user(self.clerk).action_cancel()

        events = order.audit_event_ids.sorted("id")
        rejected, cancelled = events.filtered(lambda e: e.event in ("reject", "cancel"))
        self.assertEqual(
            (rejected.user_id, rejected.from_state, rejected.to_state),
            (self.reviewer, "waiting", "rejected"),
        )
        self.assertIn("Wrong delivery address.", rejected.note)
        self.assertEqual(
            (cancelled.user_id, cancelled.stage, cancelled.to_state),
            (self.clerk, "sale", "cancel"),
        )
        # Chained like every other event of the order.
        self.assertEqual(cancelled, events[-1])
        self.assertEqual(cancelled.previous_hash, events[-2].hash)
