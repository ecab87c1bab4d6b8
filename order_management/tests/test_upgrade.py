"""``order-upgrade run`` from the previous release, once through, once rolled back.

The previous release (18.0.1.0.0) is made from a copy of the test database:
two incidents, one reported in the portal and one by staff, and a saved
filter on the old field, then the incident table, the field's metadata, the
incident views (naming the old field) and the module's version put back the
way 18.0.1.0.0 had them, in SQL.

Two databases are made from that copy (it is closed: a template can be used),
each with a copy of the test database's filestore, and the command runs on
both at once, in other processes, as an administrator would: once as it is,
once with an addons path whose migration fails at its last step.
"""

import configparser
import io
import os
import shutil
import subprocess
import sys
import tempfile
from contextlib import closing
from pathlib import Path

import psycopg2
from psycopg2 import sql as pgsql

import odoo
from odoo.modules.module import adapt_version, get_manifest
from odoo.tests import TransactionCase, tagged
from odoo.tools import config

from odoo.addons.order_management.cli.order_upgrade import NOT_STARTED, upgrade
from odoo.addons.order_management.tools.backup_database import (
    connect,
    create_database,
    drop_database,
    read_state,
    run_pg_tool,
)
from odoo.addons.order_management.tools.backup_files import (
    BACKUP_SUFFIX,
    KEY_ENV,
    checksum_path,
    list_files,
)
from odoo.addons.order_management.tools.key_files import generate_key

ADDON = Path(__file__).resolve().parents[1]
PREVIOUS = "18.0.1.0.0"
OLD_FILTER = "[('reported_by_customer', '=', True)]"
NEW_FILTER = "[('reported_via', '=', 'portal')]"
# Generous: the update loads every module of the database.
COMMAND_TIMEOUT = 900

MAKE_PREVIOUS_RELEASE = """
ALTER TABLE order_incident ADD COLUMN reported_by_customer boolean;
UPDATE order_incident SET reported_by_customer = (reported_via = 'portal');
ALTER TABLE order_incident DROP COLUMN reported_via;

DELETE FROM ir_model_fields_selection WHERE field_id = (
    SELECT id FROM ir_model_fields
    WHERE model = 'order.incident' AND name = 'reported_via'
);
DELETE FROM ir_model_data
WHERE module = 'order_management'
    AND name LIKE 'selection__order_incident__reported_via__%%';
UPDATE ir_model_fields
SET name = 'reported_by_customer', ttype = 'boolean', selectable = true,
    field_description = '{"en_US": "Reported By Customer"}', help = NULL,
    required = false
WHERE model = 'order.incident' AND name = 'reported_via';
UPDATE ir_model_data SET name = 'field_order_incident__reported_by_customer'
WHERE module = 'order_management'
    AND name = 'field_order_incident__reported_via';

UPDATE ir_ui_view
SET arch_db = replace(arch_db::text, 'reported_via', 'reported_by_customer')::jsonb
WHERE model = 'order.incident' AND arch_db::text LIKE '%%reported_via%%';

UPDATE ir_module_module SET latest_version = %(previous)s
WHERE name = 'order_management';
"""


def psql_rows(dbname, query, params=None):
    with closing(connect(dbname)) as cr:
        cr.execute(query, params)
        return cr.fetchall()


def fingerprint(dbname):
    """What a rollback must give back: version, incident schema and rows,
    incident filters and fields, key row counts, the audit head, the files."""
    queries = {
        "version": "SELECT latest_version, state FROM ir_module_module "
        "WHERE name = 'order_management'",
        "columns": "SELECT column_name, data_type, is_nullable "
        "FROM information_schema.columns WHERE table_name = 'order_incident' "
        "ORDER BY column_name",
        "incidents": "SELECT md5(string_agg(t::text, '|' ORDER BY id)) "
        "FROM order_incident t",
        "filters": "SELECT md5(string_agg(t::text, '|' ORDER BY id)) "
        "FROM ir_filters t WHERE model_id = 'order.incident'",
        "fields": "SELECT name, ttype FROM ir_model_fields "
        "WHERE model = 'order.incident' ORDER BY name",
        "xmlids": "SELECT count(*), md5(string_agg(name, ',' ORDER BY name)) "
        "FROM ir_model_data WHERE module = 'order_management'",
    }
    found = {name: psql_rows(dbname, query) for name, query in queries.items()}
    with closing(connect(dbname)) as cr:
        found["state"] = read_state(cr)
    found["filestore"] = list_files(config.filestore(dbname))
    # The command refuses a database another process is connected to.
    odoo.sql_db.close_db(dbname)
    return found


@tagged("post_install", "-at_install")
class TestUpgrade(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = Path(tempfile.mkdtemp(prefix="order-upgrade-test-"))
        cls.addClassCleanup(shutil.rmtree, cls.tmp, ignore_errors=True)
        cls.target = adapt_version(get_manifest("order_management")["version"])

        # 1. The previous release, and two databases made from it.
        cls.previous_db = cls._make_previous_release()
        cls.success_db = cls._copy_database(cls.previous_db, "success")
        cls.rollback_db = cls._copy_database(cls.previous_db, "rollback")
        cls.success_before = fingerprint(cls.success_db)
        cls.rollback_before = fingerprint(cls.rollback_db)

        # 2. Both upgrades at once: each spends most of its time alone in
        # Python, loading Odoo.
        success = cls._start_upgrade(cls.success_db, config["addons_path"])
        rollback = cls._start_upgrade(
            cls.rollback_db, cls._failing_addons_path(), "--keep-failed"
        )
        cls.success_result = cls._wait(success)
        cls.rollback_result = cls._wait(rollback)

    @classmethod
    def _new_name(cls, suffix):
        dbname = f"{cls.env.cr.dbname[:40]}_upgrade_{suffix}"
        drop_database(dbname)
        cls.addClassCleanup(drop_database, dbname)
        return dbname

    @classmethod
    def _make_previous_release(cls):
        """Copy the test database (open: pg_dump, not a template) and its
        filestore, then give the copy 18.0.1.0.0's shape; return its name."""
        source = cls.env.cr.dbname
        dump = cls.tmp / "current.dump"
        run_pg_tool("pg_dump", ["--format=custom", f"--file={dump}", source])
        dbname = cls._new_name("previous")
        create_database(dbname)
        run_pg_tool(
            "pg_restore",
            [
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                f"--dbname={dbname}",
                str(dump),
            ],
        )
        dump.unlink()
        if Path(config.filestore(source)).is_dir():
            shutil.copytree(config.filestore(source), config.filestore(dbname))

        with closing(connect(dbname)) as cr:
            cr.execute(
                "SELECT id, partner_id, company_id FROM sale_order ORDER BY id LIMIT 1"
            )
            order_id, partner_id, company_id = cr.fetchone()
            cr.execute(
                "INSERT INTO order_incident (name, order_id, partner_id, "
                "company_id, incident_type, description, state, reported_via) "
                "VALUES ('UPG-PORTAL', %(order)s, %(partner)s, %(company)s, "
                "'damage', 'Torn box.', 'open', 'portal'), "
                "('UPG-STAFF', %(order)s, %(partner)s, %(company)s, 'delay', "
                "'Truck late.', 'open', 'staff')",
                {"order": order_id, "partner": partner_id, "company": company_id},
            )
            cr.execute("SELECT id, reported_via FROM order_incident")
            cls.reporters = dict(cr.fetchall())
            cr.execute(
                "INSERT INTO ir_filters (name, model_id, domain, context, sort, "
                "active) VALUES ('From customers', 'order.incident', %s, '{}', "
                "'[]', true) RETURNING id",
                [OLD_FILTER],
            )
            cls.filter_id = cr.fetchone()[0]
            cr.execute(MAKE_PREVIOUS_RELEASE, {"previous": PREVIOUS})
            # Its own connection to a copy of the database, not the test's cursor.
            cr.commit()  # pylint: disable=invalid-commit
        odoo.sql_db.close_db(dbname)
        return dbname

    @classmethod
    def _copy_database(cls, template, suffix):
        """Copy the closed database ``template`` and its filestore."""
        dbname = cls._new_name(suffix)
        with closing(connect("postgres")) as cr:
            cr._cnx.autocommit = True
            cr.execute(
                pgsql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    pgsql.Identifier(dbname), pgsql.Identifier(template)
                )
            )
        if Path(config.filestore(template)).is_dir():
            shutil.copytree(config.filestore(template), config.filestore(dbname))
        return dbname

    @classmethod
    def _failing_addons_path(cls):
        """An addons path whose order_management fails at its last migration
        step, after the update committed its schema and data."""
        root = cls.tmp / "failing-addons"
        addon = root / "order_management"
        shutil.copytree(
            ADDON, addon, ignore=shutil.ignore_patterns("__pycache__", "tests")
        )
        (addon / "migrations" / cls.target / "end-fail.py").write_text(
            "def migrate(cr, version):\n"
            "    raise RuntimeError('a migration step failed (test)')\n"
        )
        return f"{root},{config['addons_path']}"

    @classmethod
    def _start_upgrade(cls, dbname, addons_path, *args):
        """Start ``order-upgrade run`` on ``dbname``; return the process and
        the files its output goes to."""
        conf = cls.tmp / f"{dbname}.conf"
        parser = configparser.ConfigParser(interpolation=None)
        parser.read(config.rcfile)
        parser["options"]["order_backup_dir"] = str(cls.tmp / "backups")
        # The command's own processes read the addons path from here.
        parser["options"]["addons_path"] = addons_path
        with open(conf, "w") as handle:
            parser.write(handle)

        odoo_root = Path(odoo.__file__).resolve().parent.parent
        environ = dict(os.environ, **{KEY_ENV: generate_key()})
        environ["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(odoo_root), environ.get("PYTHONPATH")])
        )
        command = [
            sys.executable,
            "-m",
            "odoo",
            f"--addons-path={addons_path}",
            "order-upgrade",
            f"--config={conf}",
            f"--database={dbname}",
            "--log-level=warn",
            "run",
            *args,
        ]
        out = open(cls.tmp / f"{dbname}.out", "w+")
        err = open(cls.tmp / f"{dbname}.err", "w+")
        process = subprocess.Popen(
            command, env=environ, stdin=subprocess.DEVNULL, stdout=out, stderr=err
        )
        return process, out, err

    @classmethod
    def _wait(cls, started):
        """Wait for a started upgrade; return (exit status, stdout, stderr)."""
        process, out, err = started
        try:
            process.wait(timeout=COMMAND_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        texts = []
        for handle in (out, err):
            handle.seek(0)
            texts.append(handle.read())
            handle.close()
        return process.returncode, *texts

    def test_upgrade_from_previous_release(self):
        """The command backs up, updates, moves the data and passes its check."""
        dbname = self.success_db
        status, out, err = self.success_result
        self.assertEqual(self.success_before["version"], [(PREVIOUS, "installed")])

        self.assertEqual(status, 0, out + err)
        self.assertIn(f"upgraded: {dbname} from {PREVIOUS} to {self.target}", out)
        self.assertIn("check ok (intact:", out)
        after = fingerprint(dbname)
        self.assertEqual(after["version"], [(self.target, "installed")])
        columns = [row[0] for row in after["columns"]]
        self.assertIn("reported_via", columns)
        self.assertNotIn("reported_by_customer", columns)
        old_views = psql_rows(
            dbname,
            "SELECT name FROM ir_ui_view WHERE arch_db::text LIKE %s",
            ["%reported_by_customer%"],
        )
        self.assertEqual(old_views, [])
        self.assertEqual(
            dict(psql_rows(dbname, "SELECT id, reported_via FROM order_incident")),
            self.reporters,
        )
        self.assertIn("portal", self.reporters.values())
        self.assertEqual(
            psql_rows(
                dbname, "SELECT domain FROM ir_filters WHERE id = %s", [self.filter_id]
            ),
            [(NEW_FILTER,)],
        )
        self.assertEqual(
            after["state"]["row_counts"]["sale_order"],
            self.success_before["state"]["row_counts"]["sale_order"],
        )

        backups = list((self.tmp / "backups" / dbname).glob(f"*{BACKUP_SUFFIX}"))
        self.assertEqual(len(backups), 1)
        self.assertIn(f"_upgrade_{PREVIOUS}_to_{self.target}", backups[0].name)
        self.assertTrue(checksum_path(backups[0]).exists())

    def test_failed_upgrade_rolls_back(self):
        """A step failing after the update committed leaves the database as
        it was, files included, and the command says so."""
        dbname = self.rollback_db
        status, out, err = self.rollback_result

        self.assertEqual(status, 1, out + err)
        self.assertIn("rolled back: the update failed", out)
        self.assertIn(f"{dbname} restored from", out)
        self.assertIn("a migration step failed (test)", err)
        after = fingerprint(dbname)
        self.assertEqual(after, self.rollback_before)
        self.assertTrue(after["filestore"])

        # The restore undid real changes: the update had committed its new
        # column, not its version, when its last step failed.
        failed = psql_rows(
            "postgres",
            "SELECT datname FROM pg_database WHERE datname LIKE %s",
            [f"{dbname}_failed_upgrade_%"],
        )
        self.assertEqual(len(failed), 1, out)
        self.addCleanup(drop_database, failed[0][0])
        left = fingerprint(failed[0][0])
        self.assertIn("reported_via", [row[0] for row in left["columns"]])
        self.assertEqual(left["version"][0][0], PREVIOUS)

    def test_upgrade_refuses_to_start(self):
        """Another session on the database, or a newer version in it than in
        the code: nothing is backed up nor changed."""
        dbname = self._copy_database(self.previous_db, "refused")
        _name, params = odoo.sql_db.connection_info_for(dbname)
        with closing(psycopg2.connect(**dict(params, application_name="another-odoo"))):
            out = io.StringIO()
            self.assertEqual(upgrade(dbname, out), NOT_STARTED)
        self.assertIn("1 other sessions use", out.getvalue())

        with closing(connect(dbname)) as cr:
            cr.execute(
                "UPDATE ir_module_module SET latest_version = '18.0.9.0.0' "
                "WHERE name = 'order_management'"
            )
            # Its own connection to a copy of the database, not the test's cursor.
            cr.commit()  # pylint: disable=invalid-commit
        out = io.StringIO()
        self.assertEqual(upgrade(dbname, out), NOT_STARTED)
        self.assertIn("newer than this code's", out.getvalue())
        self.assertFalse((self.tmp / "backups" / dbname).exists())
