import contextlib
import gzip
import hashlib
import io
import json
from datetime import datetime, timedelta

import psycopg2
from freezegun import freeze_time

from odoo import fields
from odoo.cli.command import commands
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from odoo.addons.order_management.cli import order_audit as cli
from odoo.addons.order_management.models.order_audit_archive import (
    DEFAULT_RETENTION_DAYS,
    RETENTION_PARAM,
)

from .common import OrderManagementCommon, behind_triggers

# Long before anything a real database holds, so the counts are exact.
LONG_AGO = datetime(2006, 3, 1, 9, 0)
CUTOFF = datetime(2007, 1, 1)


@tagged("post_install", "-at_install")
class TestAuditArchive(OrderManagementCommon):
    """Old events leave the history for a verified, compressed archive."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Event = cls.env["order.audit.event"]
        cls.Archive = cls.env["order.audit.archive"]
        # Two orders handled long ago; the second one changes again today.
        with freeze_time(LONG_AGO):
            cls.old_order = cls._approved_order()
            cls.mixed_order = cls._create_order()
            cls.mixed_order.with_user(cls.reviewer).action_reject("Too many.")
        cls.Event._record_events(
            [
                {
                    "event": "handover",
                    "stage": "access",
                    "order_id": cls.old_order.id,
                    "note": "Handed over to the night shift.",
                    "timestamp": LONG_AGO + timedelta(days=1),
                }
            ]
        )
        cls.young = cls.Event._record_events(
            [
                {
                    "event": "change",
                    "stage": "data",
                    "order_id": cls.mixed_order.id,
                    "res_model": "sale.order",
                    "res_id": cls.mixed_order.id,
                    "changes": {"note": ["", "Call first."]},
                }
            ]
        )

    # ----------------------------------------------------------- helpers --

    def _old_events(self, order):
        return order.audit_event_ids.filtered(lambda e: e.timestamp < CUTOFF).sorted(
            "id"
        )

    def _attachment(self, archive):
        return self.env["ir.attachment"].search(
            [
                ("res_model", "=", "order.audit.archive"),
                ("res_id", "=", archive.id),
                ("res_field", "=", "file"),
            ]
        )

    def _lines(self, content):
        return [json.loads(line) for line in gzip.decompress(content).splitlines()]

    def _sql_behind_triggers(self, table, query, params):
        """Change a table as someone who switched its triggers off."""
        behind_triggers(self.env.cr, table, query, params)
        self.env.invalidate_all()

    # ------------------------------------------------------------- tests --

    def test_01_old_events_move_to_an_archive(self):
        """Each chain's events older than the cutoff move, with its head kept;
        the younger ones stay and still verify."""
        old = self._old_events(self.old_order)
        mixed_old = self._old_events(self.mixed_order)
        kept = self.mixed_order.audit_event_ids - mixed_old
        self.assertGreaterEqual(len(old), 3)
        self.assertGreaterEqual(len(mixed_old), 2)
        self.assertEqual(kept, self.young)

        # Read now: the archived events leave the table.
        heads = {
            (order.id, events[-1].id, events[-1].hash)
            for order, events in ((self.old_order, old), (self.mixed_order, mixed_old))
        }
        in_file = sorted(
            [(e.order_id.id, e.id, e.hash) for e in old | mixed_old],
        )

        archive = self.Archive._archive_events(CUTOFF)

        self.assertEqual(archive.event_count, len(in_file))
        self.assertEqual(archive.chain_count, 2)
        self.assertEqual(archive.cutoff, CUTOFF)
        self.assertEqual(archive.date_from, LONG_AGO)
        self.assertEqual(archive.date_to, LONG_AGO + timedelta(days=1))
        self.assertEqual(archive.user_id, self.env.user)
        self.assertEqual(
            {(h.chain_key, h.event_id, h.hash) for h in archive.head_ids}, heads
        )

        # Nothing older than the cutoff stays, nothing younger moved.
        orders = self.old_order | self.mixed_order
        self.assertFalse(
            self.Event.search(
                [("order_id", "in", orders.ids), ("timestamp", "<", CUTOFF)]
            )
        )
        self.assertFalse((old | mixed_old).exists())
        self.assertEqual(orders.audit_event_ids, self.young)
        self.assertEqual(
            self.young.previous_hash,
            next(hash_ for key, _id, hash_ in heads if key == self.mixed_order.id),
        )
        self.assertFalse(self.Event._verify_chain())

        # The file holds those events, chain by chain, with their hashes.
        content = self._attachment(archive).raw
        self.assertEqual(archive.checksum, hashlib.sha256(content).hexdigest())
        self.assertEqual(
            [
                (line["order_id"], line["id"], line["hash"])
                for line in self._lines(content)
            ],
            in_file,
        )

        # A new event of an order whose events all left chains to its head.
        new = self.Event._record_events(
            [{"event": "change", "stage": "data", "order_id": self.old_order.id}]
        )
        self.assertEqual(
            new.previous_hash,
            next(hash_ for key, _id, hash_ in heads if key == self.old_order.id),
        )
        self.assertFalse(self.Event._verify_chain())

    @mute_logger("odoo.addons.order_management.models.order_audit_event")
    def test_02_removing_live_events_without_archive_is_found(self):
        """Events removed behind the triggers after an archive: the first one
        left no longer links to the archived head."""
        self.Archive._archive_events(CUTOFF)
        later = self.Event._record_events(
            [
                {"event": "change", "stage": "data", "order_id": self.old_order.id},
                {"event": "change", "stage": "data", "order_id": self.old_order.id},
            ]
        )
        self.assertFalse(self.Event._verify_chain())
        self._sql_behind_triggers(
            "order_audit_event",
            "DELETE FROM order_audit_event WHERE id = %s",
            [later[0].id],
        )
        self.assertEqual(self.Event._verify_chain(), later[1])

    def test_03_the_archive_file_verifies_and_tampering_is_reported(self):
        """A byte changed in the file, or an event rewritten with a forged
        checksum, is named by the archive verification."""
        archive = self.Archive._archive_events(CUTOFF)
        self.assertEqual(archive._verify_archive(), [])
        attachment = self._attachment(archive)
        original = attachment.raw

        tampered = bytearray(original)
        tampered[len(tampered) // 2] ^= 0x01
        attachment.write({"raw": bytes(tampered)})
        [(found, problem)] = archive._verify_archive()
        self.assertEqual(found, archive)
        self.assertIn("SHA-256", problem)

        # One event rewritten, and the recorded checksum forged to match it.
        lines = self._lines(original)
        lines[1]["to_state"] = "approved!"
        forged = gzip.compress(
            "".join(json.dumps(line) + "\n" for line in lines).encode()
        )
        attachment.write({"raw": forged})
        self._sql_behind_triggers(
            "order_audit_archive",
            "UPDATE order_audit_archive SET checksum = %s WHERE id = %s",
            [hashlib.sha256(forged).hexdigest(), archive.id],
        )
        [(found, problem)] = archive._verify_archive()
        self.assertIn(f"breaks at event {lines[1]['id']}", problem)

        action = self.Archive.with_user(self.manager).action_verify_archives()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn(archive.name, action["params"]["message"])

    def test_04_a_forged_head_is_reported(self):
        """A head changed behind the triggers no longer matches the file, and
        the live chain no longer links to it."""
        archive = self.Archive._archive_events(CUTOFF)
        head = archive.head_ids.filtered(lambda h: h.chain_key == self.mixed_order.id)
        self.assertFalse(self.Event._verify_chain())
        self._sql_behind_triggers(
            "order_audit_archive_head",
            "UPDATE order_audit_archive_head SET hash = %s WHERE id = %s",
            ["0" * 64, head.id],
        )
        [(_archive, problem)] = archive._verify_archive()
        self.assertIn("does not end on the head", problem)
        self.assertEqual(self.Event._verify_chain(), self.young)

    @mute_logger("odoo.sql_db")
    def test_05_only_the_archiver_deletes_events(self):
        """Plain SQL deletes stay refused, also naming an archive; the gate
        opens only for rows the archive of this transaction covers."""
        archive = self.Archive._archive_events(CUTOFF)
        cr = self.env.cr
        for setting in ("", str(archive.id)):
            with self.subTest(setting=setting):
                with self.assertRaisesRegex(psycopg2.Error, "append-only"):
                    with cr.savepoint():
                        cr.execute(
                            "SELECT set_config('order_audit.archiving', %s, true)",
                            [setting],
                        )
                        cr.execute(
                            "DELETE FROM order_audit_event WHERE id = %s",
                            [self.young.id],
                        )

        # A row slipped in where the archive's chain was: this transaction's
        # archive covers it, another transaction's would not.
        head = archive.head_ids.filtered(lambda h: h.chain_key == self.old_order.id)
        insert = (
            "INSERT INTO order_audit_event (id, order_id, event, stage, timestamp) "
            "VALUES (%s, %s, 'submit', 'review', %s)"
        )
        delete = (
            "SELECT set_config('order_audit.archiving', %s, true);"
            "DELETE FROM order_audit_event WHERE id = %s"
        )
        cr.execute(insert, [head.event_id, self.old_order.id, LONG_AGO])
        cr.execute(delete, [str(archive.id), head.event_id])
        self.assertEqual(cr.rowcount, 1)

        cr.execute(insert, [head.event_id, self.old_order.id, LONG_AGO])
        self._sql_behind_triggers(
            "order_audit_archive",
            "UPDATE order_audit_archive SET transaction_id = 1 WHERE id = %s",
            [archive.id],
        )
        with self.assertRaisesRegex(psycopg2.Error, "append-only"):
            with cr.savepoint():
                cr.execute(delete, [str(archive.id), head.event_id])

    @mute_logger("odoo.sql_db")
    def test_06_archives_are_append_only(self):
        """Neither the ORM nor plain SQL changes or removes an archive."""
        archive = self.Archive._archive_events(CUTOFF)
        with self.assertRaises(UserError):
            archive.write({"name": "Nothing to see"})
        with self.assertRaises(UserError):
            archive.unlink()
        with self.assertRaises(UserError):
            archive.head_ids.unlink()
        cr = self.env.cr
        for statement in (
            "UPDATE order_audit_archive SET event_count = 0 WHERE id = %s",
            "DELETE FROM order_audit_archive WHERE id = %s",
            "UPDATE order_audit_archive_head SET hash = '' WHERE archive_id = %s",
            "DELETE FROM order_audit_archive_head WHERE archive_id = %s",
        ):
            with self.subTest(statement=statement):
                with self.assertRaisesRegex(psycopg2.Error, "append-only"):
                    with cr.savepoint():
                        cr.execute(statement, [archive.id])

    def test_07_nothing_due_creates_nothing(self):
        """Archiving with nothing older than the cutoff creates no archive and
        no file, and leaves every event where it was."""
        archives = self.Archive.search_count([])
        files = self.env["ir.attachment"].search_count(
            [("res_model", "=", "order.audit.archive"), ("res_field", "=", "file")]
        )
        events = self.old_order.audit_event_ids

        self.assertFalse(self.Archive._archive_events(datetime(2000, 1, 1)))

        self.assertEqual(self.Archive.search_count([]), archives)
        self.assertEqual(
            self.env["ir.attachment"].search_count(
                [("res_model", "=", "order.audit.archive"), ("res_field", "=", "file")]
            ),
            files,
        )
        self.assertEqual(events.exists(), events)

    def test_08_an_old_event_after_a_younger_one_waits(self):
        """Only a chain's prefix moves: an event given an old time after a
        younger event of its chain stays, like the younger one."""
        late = self.Event._record_events(
            [
                {
                    "event": "handover",
                    "stage": "access",
                    "order_id": self.mixed_order.id,
                    "timestamp": LONG_AGO,
                }
            ]
        )
        mixed_old = self._old_events(self.mixed_order) - late

        archive = self.Archive._archive_events(CUTOFF)

        self.assertFalse(mixed_old.exists())
        self.assertEqual(self.mixed_order.audit_event_ids, self.young | late)
        self.assertIn(self.mixed_order.id, archive.head_ids.mapped("chain_key"))
        self.assertFalse(self.Event._verify_chain())

    def test_09_retention_setting_drives_the_monthly_archive(self):
        """730 days unless set; 0 keeps everything; the cron archives what is
        older than the setting."""
        Settings = self.env["res.config.settings"]
        self.env["ir.config_parameter"].search([("key", "=", RETENTION_PARAM)]).unlink()
        self.assertEqual(
            Settings.create({}).order_audit_retention_days, DEFAULT_RETENTION_DAYS
        )
        with self.assertRaises(ValidationError):
            Settings.create({"order_audit_retention_days": -1})

        Settings.create({"order_audit_retention_days": 0}).execute()
        self.assertEqual(
            self.env["ir.config_parameter"].get_param(RETENTION_PARAM), "0"
        )
        self.assertEqual(Settings.create({}).order_audit_retention_days, 0)
        self.assertFalse(self.Archive._cron_archive_events())
        self.assertTrue(self._old_events(self.old_order))

        Settings.create({"order_audit_retention_days": 365}).execute()
        now = fields.Datetime.now()
        with freeze_time(now):
            archive = self.Archive._cron_archive_events()
        self.assertEqual(archive.cutoff, now - timedelta(days=365))
        self.assertFalse(self._old_events(self.old_order | self.mixed_order))
        self.assertTrue(self.young.exists())

    @mute_logger("odoo.addons.base.models.ir_model")
    def test_10_managers_read_archives_others_do_not(self):
        """Order Managers read and verify archives; other roles see none."""
        archive = self.Archive._archive_events(CUTOFF)
        self.assertEqual(
            self.Archive.with_user(self.manager).search([("id", "=", archive.id)]),
            archive,
        )
        action = self.Archive.with_user(self.manager).action_verify_archives()
        self.assertEqual(action["params"]["type"], "success")
        with self.assertRaises(AccessError):
            self.Archive.with_user(self.clerk).search([])

    def test_11_successive_archives_link_up(self):
        """A chain archived in two steps: the second archive starts from the
        head the first one kept, and both verify."""
        handover = self.old_order.audit_event_ids.sorted("id")[-1]
        handover_hash = handover.hash
        first = self.Archive._archive_events(LONG_AGO + timedelta(hours=12))
        self.assertTrue(handover.exists())
        head = first.head_ids.filtered(lambda h: h.chain_key == self.old_order.id)
        self.assertEqual(handover.previous_hash, head.hash)

        second = self.Archive._archive_events(CUTOFF)

        self.assertEqual(second.event_count, 1)
        self.assertEqual(
            [(h.chain_key, h.hash) for h in second.head_ids],
            [(self.old_order.id, handover_hash)],
        )
        self.assertEqual((first | second)._verify_archive(), [])
        self.assertFalse(self.Event._verify_chain())

    def test_12_cli_verify_says_intact_or_names_the_broken_event(self):
        """The verify command exits 0 with what it walked when intact, and 1
        with the broken event or archive when not."""
        out = io.StringIO()
        days = (fields.Datetime.now() - CUTOFF).days
        self.assertEqual(cli.archive(self.env, out, days=days), 0)
        self.assertIn("archived: ", out.getvalue())

        out = io.StringIO()
        self.assertEqual(cli.verify(self.env, out), 0)
        events = self.Event.search([("hash", "!=", False)])
        chains = {event.order_id.id for event in events}
        self.assertEqual(
            out.getvalue(),
            f"intact: {len(events)} events in {len(chains)} chains, "
            f"{self.Archive.search_count([])} archives\n",
        )

        self._sql_behind_triggers(
            "order_audit_event",
            "UPDATE order_audit_event SET note = 'edited' WHERE id = %s",
            [self.young.id],
        )
        out = io.StringIO()
        with mute_logger("odoo.addons.order_management.models.order_audit_event"):
            self.assertEqual(cli.verify(self.env, out), 1)
        self.assertTrue(
            out.getvalue().startswith(
                f"broken: event {self.young.id} ({self.mixed_order.name}, "
            ),
            out.getvalue(),
        )

    def test_13_cli_verify_reports_a_broken_archive(self):
        """An archive file replaced on the side makes the command exit 1."""
        archive = self.Archive._archive_events(CUTOFF)
        self._attachment(archive).write({"raw": b"not the archive"})
        out = io.StringIO()
        self.assertEqual(cli.verify(self.env, out), 1)
        self.assertIn(
            f"broken: Archive {archive.name}: its file was changed", out.getvalue()
        )

    def test_14_cli_archive_keeps_everything_on_zero(self):
        """``archive --days 0`` moves nothing."""
        options, _odoo_args = cli.parse_args(["archive", "--days", "0"])
        out = io.StringIO()
        self.assertEqual(cli.run_action(self.env, out, options), 0)
        self.assertEqual(
            out.getvalue(), "nothing archived: the history is kept forever\n"
        )
        self.assertTrue(self._old_events(self.old_order))

    def test_15_cli_arguments(self):
        """The action is found among Odoo's options, wherever they are."""
        options, odoo_args = cli.parse_args(["-c", "odoo.conf", "-d", "db", "verify"])
        self.assertEqual(options.action, "verify")
        self.assertEqual(odoo_args, ["-c", "odoo.conf", "-d", "db"])

        options, odoo_args = cli.parse_args(
            ["-d", "db", "archive", "--days", "30", "--log-level=warn"]
        )
        self.assertEqual((options.action, options.days), ("archive", 30))
        self.assertEqual(odoo_args, ["-d", "db", "--log-level=warn"])
        options, _odoo_args = cli.parse_args(["archive"])
        self.assertIsNone(options.days)

        for wrong in (["-d", "db"], ["archive", "--days", "-3"], ["prune"]):
            with self.subTest(args=wrong):
                with contextlib.redirect_stderr(io.StringIO()):
                    with self.assertRaises(SystemExit) as exit_:
                        cli.parse_args(wrong)
                self.assertEqual(exit_.exception.code, 2)

        self.assertIs(commands["order-audit"], cli.OrderAudit)


@tagged("post_install", "-at_install")
class TestAuditArchiveDownload(HttpCase, OrderManagementCommon):
    """An archive's file is what a manager downloads from it."""

    def test_manager_downloads_the_file(self):
        with freeze_time(LONG_AGO):
            order = self._approved_order()
        archive = self.env["order.audit.archive"]._archive_events(CUTOFF)
        url = archive.with_user(self.manager).action_download()["url"]

        self.authenticate(self.manager.login, self.manager.login)
        response = self.url_open(url)
        self.assertEqual(response.status_code, 200)
        lines = [
            json.loads(line) for line in gzip.decompress(response.content).splitlines()
        ]
        self.assertEqual(hashlib.sha256(response.content).hexdigest(), archive.checksum)
        self.assertEqual({line["order_id"] for line in lines}, {order.id})

        self.authenticate(self.clerk.login, self.clerk.login)
        self.assertNotEqual(self.url_open(url).status_code, 200)
