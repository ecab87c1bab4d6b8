"""``odoo-bin order-upgrade``: update the addon with a backup and a way back.

As for every addon command, the addons path comes first:
``odoo-bin --addons-path=PATHS order-upgrade -c odoo.conf -d DB run``.

- ``run``: the upgrade. With Odoo stopped (no other session may use DB):

  1. take a full backup of DB and its filestore with the addon's backup
     tooling (an encrypted ``.ombackup`` file and its checksum, in the backup
     folder; the key as for ``order-backup``);
  2. update the addon in another process (``-u order_management
     --stop-after-init``);
  3. check the result in another process (``check`` below), and that no
     order, line, delivery, invoice, incident or audit event was lost;
  4. when step 2 or 3 fails or is interrupted: move the database as the
     update left it aside, restore the backup under DB's name (the restore
     itself compares row counts and the audit chain's head with the backup),
     then drop the moved-aside copy (``--keep-failed`` keeps it).

- ``check``: the smoke check of DB as it is, written as JSON: the registry
  loads, the addon is installed at its manifest's version and no module
  waits for an update, the audit chains and archives verify (the same walk
  as ``order-audit verify``), and the main views and counts of orders and
  incidents can be read.

It exits with 0 when DB was upgraded and checked, 1 when the upgrade failed
and DB was restored, 2 when it could not even start (nothing changed) and 3
when the restore failed too (the output says where DB and the backup are).
What it writes on the standard output is its interface; the steps are logged.

Not checked: an HTTP login (it would need a server started for the check).
The backup file is kept; the addon's retention policy prunes only the
backups it took itself.
"""

import argparse
import io
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from psycopg2 import sql as pgsql

import odoo
from odoo import SUPERUSER_ID, api, release
from odoo.cli import Command
from odoo.modules.module import adapt_version, get_manifest
from odoo.modules.registry import Registry
from odoo.tools import config

from ..models.order_backup import SETTINGS as BACKUP_SETTINGS
from ..tools.backup_database import (
    ERROR_TAIL,
    connect,
    database_exists,
    drop_database,
    read_state,
    restore_backup,
    run_odoo,
    take_backup,
)
from ..tools.backup_files import (
    BACKUP_SUFFIX,
    BackupError,
    file_sha256,
    load_key,
    write_checksum_file,
)
from .arguments import split_arguments
from .order_audit import verify as verify_audit

_logger = logging.getLogger(__name__)

MODULE = "order_management"
ACTIONS = ("run", "check")

UPGRADED = 0
ROLLED_BACK = 1
NOT_STARTED = 2
RESTORE_FAILED = 3

# Tables an upgrade must never lose rows of.
KEPT_TABLES = (
    "sale_order",
    "sale_order_line",
    "stock_picking",
    "account_move",
    "order_incident",
    "order_audit_event",
)

# The views the smoke check renders: the order's and the incident's.
CHECKED_VIEWS = {
    "sale.order": ("form", "list", "search"),
    "order.incident": ("form", "list", "search"),
}

# Longest the update and the check may take, each.
STEP_TIMEOUT = 3600


class UpgradeError(Exception):
    """A step of the upgrade failed; the message says which and why."""


class OrderUpgrade(Command):
    """Update order_management with a backup, a smoke check and a rollback"""

    name = "order-upgrade"

    def run(self, args):
        options, odoo_args = split_arguments(_get_parser(), ACTIONS, args)
        config.parse_config(odoo_args, setup_logging=True)
        dbname = config["db_name"]
        if not dbname or "," in dbname:
            sys.exit("order-upgrade works on one database: give it with -d")
        if options.action == "check":
            sys.exit(check(dbname, sys.stdout))
        sys.exit(upgrade(dbname, sys.stdout, keep_failed=options.keep_failed))


# ---------------------------------------------------------------- upgrade --


def upgrade(dbname, out, keep_failed=False):
    """Back up ``dbname``, update the addon, check it, restore on failure.

    :param out: text stream the outcome is written to
    :return: the exit status (see the module's docstring)
    """
    try:
        before, target, key, backup_root = _prepare(dbname)
    except (UpgradeError, BackupError) as error:
        _logger.error("upgrade of %s not started: %s", dbname, error)
        out.write(f"not started: {error}\n")
        return NOT_STARTED

    clock = time.monotonic()
    backup_path = _backup_path(dbname, backup_root, before, target)
    _logger.info("upgrade %s: backup to %s", dbname, backup_path)
    try:
        manifest = take_backup(
            dbname,
            backup_path,
            key,
            {
                "created": datetime.now(UTC).isoformat(),
                "odoo_version": release.version,
                "kind": "upgrade",
                "upgrade_to": target,
            },
            work_dir=backup_path.parent,
        )
        write_checksum_file(backup_path, file_sha256(backup_path))
    except (BackupError, OSError) as error:
        _logger.error("upgrade of %s not started: backup failed: %s", dbname, error)
        out.write(f"not started: backup failed: {error}\n")
        return NOT_STARTED
    _logger.info("upgrade %s: backup taken in %.1f s", dbname, time.monotonic() - clock)

    try:
        _update(dbname)
        report = _smoke_check(dbname, target, manifest)
    except UpgradeError as error:
        _logger.error("upgrade of %s failed: %s", dbname, error)
        return _roll_back(dbname, out, error, backup_path, key, before, keep_failed)
    except Exception as unexpected:
        # Whatever went wrong after the backup, the backup goes back.
        _logger.exception("upgrade of %s failed", dbname)
        error = UpgradeError(f"the upgrade failed: {unexpected}")
        return _roll_back(dbname, out, error, backup_path, key, before, keep_failed)
    except KeyboardInterrupt:
        # The update's process got the same signal: what it left is unknown.
        _logger.error("upgrade of %s interrupted", dbname)
        error = UpgradeError("the upgrade was interrupted")
        return _roll_back(dbname, out, error, backup_path, key, before, keep_failed)

    _logger.info(
        "upgrade %s: %s -> %s done in %.1f s",
        dbname,
        before,
        target,
        time.monotonic() - clock,
    )
    out.write(
        f"upgraded: {dbname} from {before} to {target}; check ok ({report['chain']}); "
        f"backup {backup_path}\n"
    )
    return UPGRADED


def _prepare(dbname):
    """Check that the upgrade can start.

    :return: (installed version, new version, backup key, backup folder or None)
    :raise UpgradeError: (or BackupError for the key) saying why not
    """
    if not database_exists(dbname):
        raise UpgradeError(f"database {dbname} does not exist")

    with closing(connect(dbname)) as cr:
        cr.execute(
            "SELECT latest_version, state FROM ir_module_module WHERE name = %s",
            [MODULE],
        )
        row = cr.fetchone()
        # Odoo's pool may hold idle connections of this process, and
        # autovacuum comes and goes: neither is a session.
        cr.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND backend_type = 'client backend' "
            "AND application_name <> current_setting('application_name')"
        )
        others = cr.fetchone()[0]
        settings = _read_backup_settings(cr)
    if not row or row[1] != "installed":
        raise UpgradeError(f"{MODULE} is not installed in {dbname}")
    if others:
        raise UpgradeError(
            f"{others} other sessions use {dbname}: stop Odoo (and its cron "
            "workers) first"
        )

    installed = row[0]
    target = adapt_version(get_manifest(MODULE)["version"])
    if _version_key(installed) > _version_key(target):
        raise UpgradeError(
            f"{dbname} has {MODULE} {installed}, newer than this code's {target}: "
            "downgrades are not supported"
        )
    key = load_key(settings["key_file"])
    return installed, target, key, settings["dir"]


def _read_backup_settings(cr):
    """Return the backup folder and key file as the addon's backups find them:
    the configuration file's option, else the system parameter."""
    settings = {}
    for name in ("dir", "key_file"):
        option, param = BACKUP_SETTINGS[name]
        settings[name] = config.get(option)
        if not settings[name]:
            cr.execute("SELECT value FROM ir_config_parameter WHERE key = %s", [param])
            settings[name] = (cr.fetchone() or [None])[0]
    return settings


def _version_key(version):
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def _backup_path(dbname, root, before, target):
    """Return a new backup file's path in the database's backup folder."""
    root = root or os.path.join(config["data_dir"], "order_backups")
    folder = Path(root, dbname)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    stamp = datetime.now(UTC).strftime("%Y%m%d_%H%M%S_%f")
    return folder / f"{dbname}_{stamp}_upgrade_{before}_to_{target}{BACKUP_SUFFIX}"


def _update(dbname):
    """Run ``-u order_management --stop-after-init`` in another process.

    :raise UpgradeError: when it exits with an error
    """
    clock = time.monotonic()
    _logger.info("upgrade %s: updating %s", dbname, MODULE)
    result = _run_odoo(
        dbname,
        ["-u", MODULE, "--stop-after-init", "--no-http"],
        capture=False,
    )
    if result.returncode < 0:
        raise UpgradeError(f"the update was stopped by signal {-result.returncode}")
    if result.returncode:
        raise UpgradeError(
            f"the update failed (exit status {result.returncode}): see the log above"
        )
    _logger.info("upgrade %s: updated in %.1f s", dbname, time.monotonic() - clock)


def _smoke_check(dbname, target, manifest):
    """Run ``check`` in another process and compare row counts with the backup.

    :return: the check's report
    :raise UpgradeError: when the check fails or cannot run
    """
    clock = time.monotonic()
    result = _run_odoo(dbname, ["order-upgrade", "check"], capture=True)
    lines = result.stdout.strip().splitlines()
    try:
        report = json.loads(lines[-1])
    except (IndexError, ValueError) as error:
        errors = result.stderr.strip()
        _logger.error("the smoke check's output: %s", errors[-ERROR_TAIL:])
        raise UpgradeError(
            f"the smoke check could not run (exit status {result.returncode}): "
            f"{errors.splitlines()[-1] if errors else 'no output'}"
        ) from error
    if not report["ok"]:
        raise UpgradeError(f"the smoke check failed: {'; '.join(report['problems'])}")
    if report["module_version"] != target:
        raise UpgradeError(
            f"the smoke check failed: {MODULE} is at {report['module_version']}, "
            f"not {target}"
        )

    with closing(connect(dbname)) as cr:
        counts = read_state(cr)["row_counts"]
    lost = [
        f"{table}: {counts.get(table)} rows, {rows} before"
        for table, rows in sorted(manifest["row_counts"].items())
        if table in KEPT_TABLES and (counts.get(table) or 0) < rows
    ]
    if lost:
        raise UpgradeError(f"the update lost rows: {'; '.join(lost)}")
    _logger.info(
        "upgrade %s: smoke check passed in %.1f s", dbname, time.monotonic() - clock
    )
    return report


def _run_odoo(dbname, args, capture):
    """Run Odoo (``python -m odoo``) on ``dbname`` with this configuration."""
    try:
        return run_odoo(
            dbname, args, STEP_TIMEOUT, capture=capture, log_level=config["log_level"]
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise UpgradeError(f"{args[0]} could not run: {error}") from error


# --------------------------------------------------------------- rollback --


def _roll_back(dbname, out, error, backup_path, key, before, keep_failed):
    """Put the backup back under ``dbname``; return the exit status."""
    clock = time.monotonic()
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    failed = f"{dbname[:40]}_failed_upgrade_{stamp}"
    _logger.warning(
        "upgrade %s: restoring %s; the failed database moves to %s",
        dbname,
        backup_path,
        failed,
    )
    try:
        _rename_database(dbname, failed)
    except Exception as rename_error:
        _logger.exception("upgrade %s: cannot move the failed database", dbname)
        out.write(
            f"failed: {error}; the database could not be moved aside to restore "
            f"it ({rename_error}): restore {backup_path} by hand\n"
        )
        return RESTORE_FAILED

    try:
        restore_backup(backup_path, key, dbname, work_dir=backup_path.parent)
    except Exception as restore_error:
        _logger.exception("upgrade %s: the restore failed", dbname)
        try:
            _rename_database(failed, dbname)
            where = f"{dbname} is as the failed upgrade left it"
        except Exception:
            _logger.exception(
                "upgrade %s: cannot move the failed database back", dbname
            )
            where = f"the failed upgrade is in {failed}"
        out.write(
            f"failed: {error}; the restore failed too ({restore_error}): {where}, "
            f"the backup is {backup_path}\n"
        )
        return RESTORE_FAILED

    kept = f"; the failed upgrade is kept as {failed}"
    if not keep_failed:
        try:
            drop_database(failed)
            kept = ""
        except Exception:
            _logger.exception("upgrade %s: cannot drop %s", dbname, failed)
    _logger.warning(
        "upgrade %s: restored to %s in %.1f s", dbname, before, time.monotonic() - clock
    )
    # The code on disk is the new release's: it must not serve the old data.
    out.write(
        f"rolled back: {error}; {dbname} restored from {backup_path} "
        f"({MODULE} {before}){kept}; serve it with the code of {before}, or fix "
        "the cause and upgrade again\n"
    )
    return ROLLED_BACK


def _rename_database(old, new):
    """Rename database ``old`` and its filestore to ``new``."""
    odoo.sql_db.close_db(old)
    with closing(connect("postgres")) as cr:
        cr._cnx.autocommit = True
        cr.execute(
            pgsql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                pgsql.Identifier(old), pgsql.Identifier(new)
            )
        )
    filestore = Path(config.filestore(old))
    if filestore.exists():
        shutil.move(filestore, config.filestore(new))


# ------------------------------------------------------------------ check --


def check(dbname, out):
    """Load ``dbname`` and check it as upgraded; write the report as JSON.

    :return: 0 when every check passed, 1 otherwise
    """
    problems = []
    with Registry(dbname).cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        module = env["ir.module.module"].search([("name", "=", MODULE)])
        target = adapt_version(get_manifest(MODULE)["version"])
        if module.state != "installed":
            problems.append(f"{MODULE} is {module.state}")
        if module.latest_version != target:
            problems.append(f"{MODULE} is at {module.latest_version}, not {target}")
        pending = env["ir.module.module"].search(
            [("state", "in", ("to install", "to upgrade", "to remove"))]
        )
        if pending:
            problems.append(
                f"modules still pending: {', '.join(pending.mapped('name'))}"
            )

        audit = io.StringIO()
        if verify_audit(env, audit):
            problems.append(audit.getvalue().strip())

        for model, view_types in CHECKED_VIEWS.items():
            env[model].get_views([(False, view_type) for view_type in view_types])
        counts = {
            "orders": env["sale.order"].search_count([]),
            "incidents": env["order.incident"].search_count([]),
        }
        report = {
            "ok": not problems,
            "problems": problems,
            "module_version": module.latest_version,
            "chain": audit.getvalue().strip(),
            "counts": counts,
        }
        # A check changes nothing.
        cr.rollback()

    out.write(json.dumps(report, sort_keys=True) + "\n")
    return 0 if report["ok"] else 1


def _get_parser():
    parser = argparse.ArgumentParser(
        prog=f"{Path(sys.argv[0]).name} order-upgrade",
        description="Update order_management with a backup first, a smoke check "
        "after, and the backup restored when either fails. Odoo's options (-c, "
        "-d...) go before or after the action.",
        allow_abbrev=False,
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    run_parser = actions.add_parser(
        "run",
        help="back up, update, check; restore the backup on failure",
        allow_abbrev=False,
    )
    run_parser.add_argument(
        "--keep-failed",
        action="store_true",
        help="after a rollback, keep the failed database as DB_failed_upgrade_TIME",
    )
    actions.add_parser(
        "check", help="smoke-check the database (-d) as it is", allow_abbrev=False
    )
    return parser
