import io
import os
import shutil
import tempfile
import time
from contextlib import closing
from pathlib import Path
from unittest import TestCase

import psycopg2

from odoo.addons.order_management.cli import order_backup as cli
from odoo.addons.order_management.tools.backup_files import BackupError
from odoo.addons.order_management.tools.backup_pitr import (
    BASE_FILE,
    append_settings,
    archive_settings,
    archiving_status,
    as_pg_owner,
    give_to_pg_owner,
    pg_bindir,
    pg_ctl,
    prepare_recovery,
    run,
)

PORT = 5432
ADMIN = "om_admin"
# Longest wait for a WAL segment to be archived, or a recovery to end.
WAIT = 60


class TestPointInTimeRecovery(TestCase):
    """A throwaway cluster of this test's own (unix socket in a temporary
    folder, no TCP), archiving its WAL: a base backup, orders written after
    it, and a recovery to a time between two of them."""

    def setUp(self):
        super().setUp()
        tmp = tempfile.mkdtemp(prefix="order-pitr-test-")
        self.addCleanup(shutil.rmtree, tmp, ignore_errors=True)
        self.tmp = Path(tmp)
        # The postgres account must reach the folders inside.
        os.chmod(self.tmp, 0o755)
        self.archive = self.tmp / "wal_archive"
        self.data = self.tmp / "data"
        self.socket = self.tmp / "socket"
        for folder in (self.archive, self.data, self.socket):
            folder.mkdir()
        give_to_pg_owner(self.archive, self.data, self.socket)

        run(
            as_pg_owner(
                [
                    str(pg_bindir() / "initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    ADMIN,
                    "--auth-local=trust",
                    "--auth-host=reject",
                    "-E",
                    "UTF8",
                    "--locale=C.UTF-8",
                ]
            )
        )
        settings = {
            "listen_addresses": "",
            "unix_socket_directories": str(self.socket),
            "port": str(PORT),
            "fsync": "off",
            "max_wal_senders": "4",
            **archive_settings(self.archive),
        }
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.writelines(f"{name} = '{value}'\n" for name, value in settings.items())
        self.start(self.data)

    def start(self, data_dir):
        log = data_dir / "server.log"
        try:
            pg_ctl(data_dir, "start", "-l", str(log))
        except BackupError as error:
            # Why the server stopped is in its own log, gone with the folder.
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            self.fail(f"{error}\n--- {log} ---\n{tail}")
        self.addCleanup(self.stop, data_dir)

    def stop(self, data_dir):
        if (data_dir / "postmaster.pid").exists():
            pg_ctl(data_dir, "stop", "-m", "immediate")

    def connect(self, socket):
        cnx = psycopg2.connect(
            host=str(socket), port=PORT, user=ADMIN, dbname="postgres"
        )
        cnx.autocommit = True
        return closing(cnx)

    def query(self, socket, sql, args=None):
        with self.connect(socket) as cnx, cnx.cursor() as cr:
            cr.execute(sql, args)
            return cr.fetchall() if cr.description else None

    def wait_archived(self, segment):
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            if (self.archive / segment).exists():
                return
            time.sleep(0.2)
        self.fail(f"WAL segment {segment} was not archived")

    def test_recovery_stops_at_the_target_time(self):
        """The order created after the base backup comes back; the one
        created after the target time does not."""
        ok, reason = self.archiving(self.socket)
        self.assertTrue(ok, reason)
        self.query(
            self.socket,
            "CREATE TABLE sale_order (id serial PRIMARY KEY, name text NOT NULL);"
            "INSERT INTO sale_order (name) VALUES ('S00001')",
        )
        base = self.tmp / "base"
        out = self.order_backup(
            f"base-backup --into {base} --pg-host {self.socket} --pg-port {PORT} "
            f"--pg-user {ADMIN}"
        )
        self.assertIn(BASE_FILE, out)

        self.query(self.socket, "INSERT INTO sale_order (name) VALUES ('S00002')")
        time.sleep(1)
        target = self.query(self.socket, "SELECT clock_timestamp()::text")[0][0]
        time.sleep(1)
        self.query(self.socket, "INSERT INTO sale_order (name) VALUES ('S00003')")
        segment = self.query(self.socket, "SELECT pg_walfile_name(pg_switch_wal())")[0][
            0
        ]
        self.wait_archived(segment)
        self.stop(self.data)

        recovered = self.tmp / "recovered"
        recovered_socket = self.tmp / "recovered_socket"
        recovered_socket.mkdir()
        give_to_pg_owner(recovered_socket)
        self.order_backup(
            "pitr-restore",
            "--base",
            str(base),
            "--wal-archive",
            str(self.archive),
            "--data-dir",
            str(recovered),
            "--target-time",
            target,
        )
        append_settings(
            recovered / "postgresql.auto.conf",
            {"unix_socket_directories": str(recovered_socket), "archive_mode": "off"},
        )
        self.start(recovered)
        deadline = time.monotonic() + WAIT
        while self.query(recovered_socket, "SELECT pg_is_in_recovery()")[0][0]:
            self.assertLess(time.monotonic(), deadline, "recovery did not end")
            time.sleep(0.2)

        names = self.query(recovered_socket, "SELECT name FROM sale_order ORDER BY id")
        self.assertEqual([name for (name,) in names], ["S00001", "S00002"])

        # The recovered cluster does not archive: it says so.
        ok, reason = self.archiving(recovered_socket)
        self.assertFalse(ok)
        self.assertEqual(reason, "archive_mode is off")

        with self.assertRaisesRegex(BackupError, "not empty"):
            prepare_recovery(base, self.archive, recovered, target)

    def order_backup(self, *args):
        """Run an order-backup action; return what it wrote."""
        args = args[0].split() if len(args) == 1 else list(args)
        options, odoo_args = cli.parse_args(args)
        self.assertEqual(odoo_args, [])
        out = io.StringIO()
        self.assertEqual(cli.run_file_action(out, options), cli.OK, out.getvalue())
        return out.getvalue()

    def archiving(self, socket):
        with self.connect(socket) as cnx, cnx.cursor() as cr:
            return archiving_status(cr)
