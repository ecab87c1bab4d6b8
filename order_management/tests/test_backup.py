import io
import os
import shlex
import shutil
import string
import tempfile
from contextlib import closing
from datetime import timedelta
from pathlib import Path
from unittest.mock import patch

from odoo import fields, release
from odoo.exceptions import AccessError, UserError
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import SQL, config, mute_logger

from odoo.addons.order_management.cli import order_backup as cli
from odoo.addons.order_management.tools import backup_offsite
from odoo.addons.order_management.tools.audit_chain import event_hash
from odoo.addons.order_management.tools.backup_database import (
    connect,
    database_exists,
    drop_database,
    read_state,
    restore_backup,
    run_check,
    take_backup,
)
from odoo.addons.order_management.tools.backup_files import (
    KEY_ENV,
    CorruptBackupError,
    WrongKeyError,
    checksum_path,
    file_sha256,
    load_key,
    read_manifest,
)
from odoo.addons.order_management.tools.key_files import write_key_file

ARCHIVING = "odoo.addons.order_management.models.order_backup.archiving_status"
RUNBOOK = Path(__file__).parents[1] / "readme" / "RECOVERY.md"

BACKUP_LOGGERS = (
    "odoo.addons.order_management.models.order_backup",
    "odoo.addons.order_management.models.order_restore_drill",
    "odoo.addons.order_management.tools.backup_database",
)


class BackupCommon(TransactionCase):
    """A key file, a backup folder and one backup of the test database, taken
    once: the tests restore it, damage copies of it, drill it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # The key must come from the key file configured below, not from a
        # variable of the shell running the tests.
        environ = patch.dict(os.environ)
        environ.start()
        cls.addClassCleanup(environ.stop)
        os.environ.pop(KEY_ENV, None)

        tmp = tempfile.TemporaryDirectory(prefix="order-backup-test-")
        cls.addClassCleanup(tmp.cleanup)
        cls.tmp = Path(tmp.name)
        cls.key_file = write_key_file(cls.tmp / "backup.key")
        cls.key = load_key(cls.key_file)
        cls.set_param("order_management.backup_dir", str(cls.tmp / "backups"))
        cls.set_param("order_management.backup_key_file", str(cls.key_file))

        cls.manager = new_test_user(
            cls.env,
            login="om_backup_manager",
            email="om_backup_manager@example.com",
            groups="base.group_user,order_management.group_order_manager",
        )
        cls.clerk = new_test_user(
            cls.env,
            login="om_backup_clerk",
            email="om_backup_clerk@example.com",
            groups="base.group_user,order_management.group_order_clerk",
        )
        cls.Backup = cls.env["order.backup"]
        cls.Drill = cls.env["order.restore.drill"]
        cls.backup = cls.Backup._run_backup()

    @classmethod
    def set_param(cls, name, value):
        cls.env["ir.config_parameter"].sudo().set_param(name, value)

    def scratch_name(self, suffix):
        """A database name of this test's own, dropped when the test ends."""
        name = f"{self.env.cr.dbname[:40]}_test_{suffix}"
        self.assertFalse(database_exists(name), f"{name} is left from a past run")
        self.addCleanup(drop_database, name)
        return name

    def damaged_copy(self, name="damaged.ombackup"):
        """A copy of the backup with one byte changed in its middle."""
        path = self.tmp / name
        data = bytearray(Path(self.backup.file_path).read_bytes())
        data[len(data) // 2] ^= 0x01
        path.write_bytes(bytes(data))
        return path

    def manager_activities(self, record):
        return self.env["mail.activity"].search(
            [
                ("res_model", "=", record._name),
                ("res_id", "=", record.id),
                ("user_id", "=", self.manager.id),
            ]
        )


@tagged("post_install", "-at_install")
class TestBackup(BackupCommon):
    def test_01_backup_is_encrypted_and_described(self):
        """The file is in the configured folder, encrypted, with its checksum
        beside it and a manifest of versions, row counts and audit head."""
        backup = self.backup
        self.assertEqual(backup.state, "done", backup.error)
        path = Path(backup.file_path)
        self.assertEqual(path.parent, self.tmp / "backups" / self.env.cr.dbname)
        self.assertEqual(file_sha256(path), backup.checksum)
        self.assertIn(backup.checksum, checksum_path(path).read_text())
        with open(path, "rb") as handle:
            head = handle.read(1 << 20)
        # pg_dump's custom format starts with PGDMP; encrypted, it is nowhere.
        self.assertNotIn(b"PGDMP", head)

        manifest = read_manifest(path, self.key)
        self.assertEqual(manifest["database"], self.env.cr.dbname)
        self.assertEqual(manifest["odoo_version"], backup.odoo_version)
        self.assertEqual(
            manifest["addon_version"],
            self.env.ref("base.module_order_management").latest_version,
        )
        self.assertIn("order_management", manifest["modules"])
        for table in ("sale_order", "res_partner", "order_audit_event"):
            self.assertIn(table, manifest["row_counts"])
        self.assertEqual(manifest["audit"]["events"], backup.audit_events)
        self.assertEqual(manifest["audit"]["last_hash"], backup.audit_head or "")
        self.assertIn("database.dump", manifest["files"])
        self.assertTrue(
            all(len(entry["sha256"]) == 64 for entry in manifest["files"].values())
        )
        # Only the key file's path is in the database, never the key.
        key_text = self.key_file.read_text().strip()
        self.env.cr.execute(
            "SELECT count(*) FROM ir_config_parameter WHERE value LIKE %s",
            [f"%{key_text}%"],
        )
        self.assertEqual(self.env.cr.fetchone()[0], 0)

    def test_02_drill_restores_checks_and_drops(self):
        """A drill of a good backup passes and leaves no scratch database."""
        drill = self.Drill._run_drill(self.backup)
        self.assertEqual(drill.state, "passed", drill.details)
        self.assertTrue(drill.database.startswith(f"{self.env.cr.dbname}_drill_"))
        self.assertIn("row counts", drill.details)
        self.assertIn("audit chain: intact", drill.details)
        self.assertIn("Addon loaded: installed", drill.details)
        self.assertGreater(drill.duration, 0)
        self.assertFalse(database_exists(drill.database))
        self.assertFalse(os.path.exists(fields_filestore(drill.database)))
        self.assertEqual(self.backup.last_drill_state, "passed")
        self.assertFalse(self.manager_activities(drill))

    @mute_logger(*BACKUP_LOGGERS)
    def test_03_a_damaged_file_is_reported_never_restored(self):
        """Restoring a damaged copy fails before any database exists; a drill
        of a backup whose file changed fails and alerts the managers."""
        damaged = self.damaged_copy()
        name = self.scratch_name("damaged")
        with self.assertRaises(CorruptBackupError):
            restore_backup(damaged, self.key, name)
        self.assertFalse(database_exists(name))
        self.assertFalse(os.path.exists(fields_filestore(name)))

        record = self.Backup.create(
            {
                "name": damaged.name,
                "database": self.env.cr.dbname,
                "state": "done",
                "started_at": fields.Datetime.now() - timedelta(days=400),
                "file_path": str(damaged),
                "checksum": self.backup.checksum,
            }
        )
        drill = self.Drill._run_drill(record)
        self.assertEqual(drill.state, "failed")
        self.assertIn("damaged", drill.details)
        self.assertFalse(database_exists(drill.database))
        self.assertEqual(len(self.manager_activities(drill)), 1)

        # Damage the checksum too: the encryption itself catches it.
        record.checksum = file_sha256(damaged)
        drill = self.Drill._run_drill(record)
        self.assertEqual(drill.state, "failed")
        self.assertIn("does not authenticate", drill.details)
        self.assertFalse(database_exists(drill.database))

    @mute_logger(*BACKUP_LOGGERS)
    def test_04_a_wrong_key_is_reported_never_restored(self):
        """Another key is named as the cause, and nothing is created."""
        other_key_file = write_key_file(self.tmp / "other.key")
        name = self.scratch_name("wrong_key")
        with self.assertRaises(WrongKeyError):
            restore_backup(self.backup.file_path, load_key(other_key_file), name)
        self.assertFalse(database_exists(name))

        out = io.StringIO()
        options, _odoo_args = cli.parse_args(
            [
                "restore",
                "--file",
                self.backup.file_path,
                "--into",
                name,
                "--key-file",
                str(other_key_file),
            ]
        )
        self.assertEqual(cli.run_file_action(out, options), cli.FAILED)
        self.assertIn("encrypted with another key", out.getvalue())
        self.assertFalse(database_exists(name))

    def test_05_retention_keeps_exactly_the_policy(self):
        """Of 20 daily backups and the newest, a policy of 3 daily, 3 weekly
        and 2 monthly keeps the expected ones; the others lose their files."""
        self.set_param("order_management.backup_retention", "3,3,2")
        # Only this test's backups count, whatever the database held before.
        self.Backup.search([("id", "!=", self.backup.id)]).state = "failed"
        # The class's backup stands for the newest: Monday 2024-03-11.
        self.backup.started_at = "2024-03-11 03:00:00"
        folder = self.tmp / "retention"
        folder.mkdir()
        # Their off-site copies go with them.
        offsite = self.tmp / "retention_offsite"
        self.set_param("order_management.backup_offsite", str(offsite))
        (offsite / self.env.cr.dbname).mkdir(parents=True)
        start = fields.Datetime.to_datetime("2024-02-20 03:00:00")
        backups = self.Backup
        for day in range(20):
            when = start + timedelta(days=day)
            path = folder / f"{when:%m%d}.ombackup"
            path.write_bytes(b"x")
            checksum_path(path).write_text("x")
            for file in (path, checksum_path(path)):
                shutil.copy(file, offsite / self.env.cr.dbname)
            backups |= self.Backup.create(
                {
                    "name": path.name,
                    "database": self.env.cr.dbname,
                    "state": "done",
                    "started_at": when,
                    "file_path": str(path),
                    "checksum": "x",
                    "offsite_state": "done",
                }
            )
        self.assertEqual(Path(backups[-1].file_path).stem, "0310")

        removed = self.Backup._apply_retention()

        kept = {
            # days: the newest (03-11), then the 10th and the 9th
            "0310",
            "0309",
            # ISO weeks: the newest's, then Sunday 10th, then Sunday 3rd
            "0303",
            # months: the newest's (March), then February's newest, the 29th
            "0229",
        }
        self.assertEqual({Path(b.file_path).stem for b in backups - removed}, kept)
        self.assertEqual(len(removed), 16)
        self.assertTrue(all(backup.state == "removed" for backup in removed))
        self.assertEqual(self.backup.state, "done")
        for backup in backups:
            path = Path(backup.file_path)
            copy = offsite / self.env.cr.dbname / path.name
            kept = backup.state == "done"
            self.assertEqual(path.exists(), kept, path.name)
            self.assertEqual(checksum_path(path).exists(), kept)
            self.assertEqual(copy.exists(), kept)
            self.assertEqual(checksum_path(copy).exists(), kept)
        # Applying it again removes nothing more.
        self.assertFalse(self.Backup._apply_retention())

    @mute_logger(*BACKUP_LOGGERS)
    def test_06_offsite_copy_is_verified(self):
        """The copy to another folder is read back; a copy that later differs,
        or is damaged while copied, is reported to the Order Managers."""
        offsite = self.tmp / "offsite"
        self.set_param("order_management.backup_offsite", str(offsite))
        backup = self.backup
        backup._copy_offsite()
        self.assertEqual(backup.offsite_state, "done", backup.offsite_error)
        copy = offsite / self.env.cr.dbname / backup.name
        self.assertEqual(backup.offsite_location, str(copy))
        self.assertEqual(file_sha256(copy), backup.checksum)

        with open(copy, "r+b") as handle:
            handle.seek(1000)
            handle.write(b"\0\0\0\0")
        backup._verify_offsite()
        self.assertEqual(backup.offsite_state, "failed")
        self.assertIn("has checksum", backup.offsite_error)
        activities = self.manager_activities(backup)
        self.assertEqual(len(activities), 1)
        self.assertIn(backup.name, activities.note)

        def bad_copy(source, destination):
            shutil.copyfile(source, destination)
            with open(destination, "ab") as handle:
                handle.write(b"!")

        with patch.object(backup_offsite, "_copy_file", bad_copy):
            backup._copy_offsite()
        self.assertEqual(backup.offsite_state, "failed")
        self.assertIn("has checksum", backup.offsite_error)
        self.assertEqual(len(self.manager_activities(backup)), 2)

    @mute_logger(*BACKUP_LOGGERS)
    def test_07_a_failed_backup_is_recorded_and_alerted(self):
        """Without its key a backup fails, says why and alerts."""
        self.set_param("order_management.backup_key_file", str(self.tmp / "none"))
        backup = self.Backup._run_backup()
        self.assertEqual(backup.state, "failed")
        self.assertIn("cannot read the backup key file", backup.error)
        self.assertFalse(backup.file_path)
        self.assertEqual(len(self.manager_activities(backup)), 1)

        drill = self.Drill._run_drill(self.Backup)
        self.assertEqual(drill.state, "failed")
        self.assertIn("no backup", drill.details)
        self.assertEqual(len(self.manager_activities(drill)), 1)

    @mute_logger("odoo.addons.base.models.ir_model", "odoo.addons.base.models.ir_rule")
    def test_08_only_administrators_run_backups(self):
        """Order Managers read backups and drills but run neither; other
        roles do not even read them."""
        Backup = self.Backup.with_user(self.manager)
        self.assertIn(self.backup, Backup.search([]))
        with self.assertRaises(UserError):
            Backup.action_backup_now()
        with self.assertRaises(UserError):
            self.backup.with_user(self.manager).action_drill()
        with self.assertRaises(UserError):
            self.Drill.with_user(self.manager).action_drill_now()
        with self.assertRaises(AccessError):
            self.Backup.with_user(self.clerk).search([])
        with self.assertRaises(AccessError):
            self.Drill.with_user(self.clerk).search([])

    def test_09_the_runbook_recovers_a_database(self):
        """The runbook's commands, as written, restore a backup of a database
        with a history into a new database holding what the manifest says,
        the audit chain whole; a changed event is caught by the check."""
        commands = runbook_commands()
        self.assertEqual(
            [c.split()[5] for c in commands], ["list", "verify", "restore"]
        )
        # The test database's history is whatever its installation wrote:
        # give a copy of it a few events more, and back that copy up.
        source = self.scratch_name("runbook_source")
        restore_backup(self.backup.file_path, self.key, source)
        events = append_events(source, 3)
        backup = self.tmp / "backups" / "runbook.ombackup"
        manifest = take_backup(
            source,
            backup,
            self.key,
            {"created": "now", "odoo_version": release.version, "kind": "full"},
        )
        (self.tmp / "backups" / "runbook.ombackup.sha256").write_text(
            f"{file_sha256(backup)}  runbook.ombackup\n"
        )
        self.assertEqual(manifest["audit"]["last_event_id"], events[-1])

        restored = self.scratch_name("runbook")
        out = self.run_runbook(commands, str(backup), restored)
        self.assertIn(f"{backup}\t", out)
        self.assertIn("checksum ok", out)
        self.assertIn(f"intact: {backup}", out)
        self.assertIn(f"restored: {backup} into {restored}", out)
        self.assertIn(
            f"check: ok; addon installed {manifest['addon_version']}; audit chain "
            "intact, "
            f"{manifest['audit']['events']} events",
            out,
        )
        state = database_state(restored)
        self.assertEqual(state["row_counts"], manifest["row_counts"])
        self.assertEqual(state["audit"], manifest["audit"])

        # Change one event of the source behind the database's back: the
        # check names it.
        with closing(connect(source)) as cr:
            cr.execute(
                "ALTER TABLE order_audit_event DISABLE TRIGGER USER;"
                "UPDATE order_audit_event SET note = 'changed' WHERE id = %s;"
                "ALTER TABLE order_audit_event ENABLE TRIGGER USER",
                [events[1]],
            )
            # Its own connection to a scratch database, not the test's cursor.
            cr.commit()  # pylint: disable=invalid-commit
        report = run_check(source)
        self.assertFalse(report["ok"])
        self.assertEqual(report["chain"], f"broken at event {events[1]}")

    def test_10_without_wal_archiving_full_backups_come_more_often(self):
        """A server that does not archive its WAL is named on each backup,
        and the scheduled backup is then due every 6 hours, not every 24."""
        Backup = self.Backup
        # Only this class's backup counts, whatever the database held before.
        self.Backup.search([("id", "!=", self.backup.id)]).state = "failed"
        with patch(ARCHIVING, return_value=(False, "archive_mode is off")):
            vals = Backup._get_pitr_vals()
            self.assertFalse(vals["pitr_available"])
            self.assertIn("archive_mode is off", vals["pitr_note"])
            self.assertIn("every 6 hours", vals["pitr_note"])
            self.assertFalse(Backup._is_backup_due())
            self.assertFalse(Backup._cron_backup())
            self.backup.started_at -= timedelta(hours=5)
            self.assertFalse(Backup._is_backup_due())
            self.backup.started_at -= timedelta(hours=1)
            self.assertTrue(Backup._is_backup_due())
        with patch(ARCHIVING, return_value=(True, "WAL archived")):
            self.assertIn("every 24 hours", Backup._get_pitr_vals()["pitr_note"])
            self.assertFalse(Backup._is_backup_due())
            self.set_param("order_management.backup_interval_hours", "5")
            self.assertTrue(Backup._is_backup_due())
        # The shared test server: whatever it does, the backup said it.
        self.assertIn("point-in-time recovery", self.backup.pitr_note.lower())

    def test_11_with_wal_archiving_the_filestore_is_copied_hourly(self):
        """When the server archives its WAL, each scheduled run copies the
        new filestore files, and takes no full backup before it is due."""
        self.Backup.search([("id", "!=", self.backup.id)]).state = "failed"
        copy = self.tmp / "backups" / self.env.cr.dbname / "filestore"
        with patch(ARCHIVING, return_value=(True, "WAL archived")):
            self.assertFalse(self.Backup._cron_backup())
            copied = len(list(copy.rglob("*.enc")))
            self.assertGreater(copied, 0)
            self.assertEqual(self.Backup._sync_filestore(), (0, copied))
        shutil.rmtree(copy)

    def test_12_dashboard_for_administrators(self):
        """The backups and drills menu is for administrators; its list,
        kanban and form views show each backup's state, off-site copy, last
        drill and point-in-time status."""
        menu = self.env.ref("order_management.order_backup_root_menu")
        self.assertEqual(menu.groups_id, self.env.ref("base.group_system"))
        self.assertFalse(menu.with_user(self.manager)._filter_visible_menus())
        views = self.Backup.get_views(
            [(False, "list"), (False, "kanban"), (False, "form")]
        )["views"]
        for view_type in ("list", "kanban"):
            for name in ("state", "offsite_state", "last_drill_state"):
                self.assertIn(f'name="{name}"', views[view_type]["arch"])
        self.assertIn('name="pitr_note"', views["form"]["arch"])
        self.assertIn(
            "action_drill_now",
            self.Drill.get_views([(False, "list")])["views"]["list"]["arch"],
        )

    def run_runbook(self, commands, backup, new_db):
        """Run the runbook's order-backup commands; return what they wrote."""
        values = {
            "ADDONS": config["addons_path"],
            "CONF": "odoo.conf",
            "KEY_FILE": str(self.key_file),
            "BACKUP_DIR": str(self.tmp / "backups"),
            "BACKUP": backup,
            "NEW_DB": new_db,
        }
        out = io.StringIO()
        for command in commands:
            words = shlex.split(string.Template(command).substitute(values))
            args = words[words.index("order-backup") + 1 :]
            options, odoo_args = cli.parse_args(args)
            self.assertEqual(odoo_args, ["-c", "odoo.conf"])
            status = cli.run_file_action(out, options)
            self.assertEqual(status, cli.OK, f"{command}:\n{out.getvalue()}")
        return out.getvalue()


def runbook_commands():
    """The order-backup commands of the README's recovery runbook."""
    text = RUNBOOK.read_text().split("### Recovery runbook", 1)[1]
    step_one = text.split("\n2. ", 1)[0]
    return [
        line.strip()
        for line in step_one.splitlines()
        if line.strip().startswith("odoo-bin") and "order-backup" in line
    ]


def database_state(dbname):
    with closing(connect(dbname)) as cr:
        return read_state(cr)


def append_events(dbname, count):
    """Append ``count`` chained data-change events to ``dbname``'s history, as
    the audit writer would; return their ids."""
    ids = []
    with closing(connect(dbname)) as cr:
        cr.execute(
            "SELECT hash FROM order_audit_event "
            "WHERE order_id IS NULL AND hash IS NOT NULL ORDER BY id DESC LIMIT 1"
        )
        previous = (cr.fetchone() or [""])[0]
        for number in range(count):
            vals = {
                "timestamp": fields.Datetime.now(),
                "user_id": 2,
                "event": "change",
                "stage": "data",
                "res_model": "res.partner",
                "res_id": 1,
                "changes": f'{{"name": ["before {number}", "after {number}"]}}',
            }
            vals["previous_hash"] = previous
            vals["hash"] = previous = event_hash(vals, previous)
            cr.execute(
                SQL(
                    "INSERT INTO order_audit_event (%s) VALUES %s RETURNING id",
                    SQL(", ").join(map(SQL.identifier, vals)),
                    tuple(vals.values()),
                )
            )
            ids.append(cr.fetchone()[0])
        # Its own connection to a scratch database, not the test's cursor.
        cr.commit()  # pylint: disable=invalid-commit
    return ids


def fields_filestore(dbname):
    return config.filestore(dbname)
