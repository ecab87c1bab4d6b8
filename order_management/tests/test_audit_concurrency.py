import threading

from psycopg2.errors import SerializationFailure

from odoo import SUPERUSER_ID, api
from odoo.tests import TransactionCase, tagged
from odoo.tools import SQL, mute_logger

from ..models.order_audit_event import cursor_apart
from .common import behind_triggers

LOGIN = "om_chain_race"


@tagged("post_install", "-at_install")
class TestAuditConcurrency(TransactionCase):
    """Two transactions appending to one chain at once never fork it.

    Events of no order (logins, say) share one chain. Each transaction here
    runs on a connection of its own and commits, so the test removes its
    events afterwards, behind the database's guard.
    """

    def tearDown(self):
        with self.registry.cursor() as cr:
            behind_triggers(
                cr,
                "order_audit_event",
                SQL("DELETE FROM order_audit_event WHERE login = %s", LOGIN),
            )
            # The chain then ends on the event before the test's again.
            cr.execute(
                "UPDATE order_audit_chain_head SET hash = NULL WHERE chain_key = 0"
            )
        super().tearDown()

    def _record(self, cr, note):
        env = api.Environment(cr, SUPERUSER_ID, {})
        return env["order.audit.event"]._record_events(
            [{"event": "login", "stage": "access", "login": LOGIN, "note": note}]
        )

    def _chain_of_the_test(self):
        with self.registry.cursor() as cr:
            cr.execute(
                SQL(
                    "SELECT note, previous_hash, hash FROM order_audit_event "
                    "WHERE login = %s ORDER BY id",
                    LOGIN,
                )
            )
            return cr.fetchall()

    @mute_logger("odoo.sql_db")
    def test_01_a_stale_snapshot_fails_instead_of_forking(self):
        """Odoo's transactions see the database as it was at their start: one
        that started before the other appended is refused, to be retried."""
        with self.registry.cursor() as cr_a, self.registry.cursor() as cr_b:
            # Both transactions have started: their snapshots are taken.
            for cr in (cr_a, cr_b):
                cr.execute("SELECT count(*) FROM order_audit_event")
            self._record(cr_a, "first")
            cr_a.commit()

            with self.assertRaises(SerializationFailure):
                self._record(cr_b, "second")
            cr_b.rollback()

            # Retried, as Odoo retries the request, it chains to the first.
            self._record(cr_b, "second")
            cr_b.commit()

        (first, previous, first_hash), (second, second_previous, _hash) = (
            self._chain_of_the_test()
        )
        self.assertEqual((first, second), ("first", "second"))
        self.assertEqual(second_previous, first_hash)
        self.assertNotEqual(previous, first_hash)

    def test_02_a_transaction_apart_waits_and_chains_on(self):
        """Login events, written in a transaction of their own, wait for the
        chain's holder and chain to what it wrote."""
        errors = []

        def record_apart():
            try:
                with cursor_apart(self.registry) as cr:
                    self._record(cr, "apart")
            except Exception as error:  # reported to the test below
                errors.append(error)

        with self.registry.cursor() as cr_a:
            self._record(cr_a, "holder")
            waiting = threading.Thread(target=record_apart)
            waiting.start()
            # It cannot finish while the holder keeps the chain.
            waiting.join(timeout=1)
            self.assertTrue(waiting.is_alive())
            cr_a.commit()
        waiting.join(timeout=30)

        self.assertFalse(waiting.is_alive())
        self.assertEqual(errors, [])
        (holder, _previous, holder_hash), (apart, apart_previous, _hash) = (
            self._chain_of_the_test()
        )
        self.assertEqual((holder, apart), ("holder", "apart"))
        self.assertEqual(apart_previous, holder_hash)
