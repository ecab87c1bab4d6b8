"""Take a database and its filestore into a backup file, and back out of one.

``pg_dump``/``pg_restore`` run with Odoo's own connection settings (host,
port, user, password of its configuration). The row counts and the audit
chain's head written to the manifest are read in the very snapshot that
``pg_dump`` dumps: they describe the dump exactly, whatever is written while
it runs. A restore unpacks and checks the whole file before it creates the
database, and drops what it created when anything fails after that: a
database is either restored whole and checked, or not there.
"""

import configparser
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from contextlib import closing
from pathlib import Path

import psycopg2.errors
from psycopg2 import sql as pgsql

import odoo
from odoo.tools.misc import exec_pg_environ, find_pg_tool

from .backup_files import (
    DUMP_NAME,
    FILESTORE_DIR,
    BackupError,
    extract_backup,
    write_backup,
)

_logger = logging.getLogger(__name__)

# Tables whose row counts a backup records and a restore must find again.
KEY_TABLES = (
    "res_company",
    "res_users",
    "res_partner",
    "product_product",
    "sale_order",
    "sale_order_line",
    "stock_picking",
    "stock_move",
    "account_move",
    "account_move_line",
    "order_incident",
    "order_audit_event",
    "order_audit_archive",
    "order_backup",
    "order_restore_drill",
    "ir_attachment",
)

# How much of a failing tool's error output a message quotes.
ERROR_TAIL = 2000

# Longest a restored database's check may take (loading Odoo included).
CHECK_TIMEOUT = 900

# The connection and paths a checking process needs from this one's
# configuration.
CHECK_OPTIONS = (
    "db_host",
    "db_port",
    "db_user",
    "db_password",
    "db_sslmode",
    "data_dir",
)


class RestoreCheckError(BackupError):
    """A restored database does not hold what the backup's manifest says."""


# ------------------------------------------------------------------ tools --


def run_pg_tool(name, args, env=None):
    """Run ``pg_dump``, ``pg_restore``... with Odoo's connection settings.

    :raise BackupError: with the end of the tool's error output when it fails
    """
    command = [find_pg_tool(name), *args]
    if env is None:
        env = exec_pg_environ()
        # Odoo's helper leaves the SSL mode out: the tools would settle for
        # "prefer", which neither requires SSL nor checks the server.
        env["PGSSLMODE"] = odoo.tools.config["db_sslmode"]
    result = subprocess.run(
        command,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        check=False,
    )
    if result.returncode:
        output = (result.stderr or result.stdout).decode(errors="replace")
        raise BackupError(
            f"{name} failed (exit status {result.returncode}): "
            f"{output.strip()[-ERROR_TAIL:]}"
        )
    return result


def connect(dbname):
    """Return a new cursor on ``dbname`` (closed by the caller)."""
    return odoo.sql_db.db_connect(dbname).cursor()


def database_exists(dbname):
    with closing(connect("postgres")) as cr:
        cr.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname])
        return bool(cr.fetchone())


def create_database(dbname):
    """Create an empty database the way Odoo does (UTF-8, C collation)."""
    with closing(connect("postgres")) as cr:
        cr._cnx.autocommit = True
        cr.execute(
            pgsql.SQL(
                "CREATE DATABASE {} ENCODING 'unicode' LC_COLLATE 'C' "
                "TEMPLATE template0"
            ).format(pgsql.Identifier(dbname))
        )


def drop_database(dbname):
    """Drop ``dbname`` and its filestore, if they exist."""
    odoo.sql_db.close_db(dbname)
    drop = pgsql.SQL("DROP DATABASE IF EXISTS {}").format(pgsql.Identifier(dbname))
    with closing(connect("postgres")) as cr:
        cr._cnx.autocommit = True
        try:
            cr.execute(pgsql.SQL("{} WITH (FORCE)").format(drop), log_exceptions=False)
        except psycopg2.errors.InsufficientPrivilege:
            # PostgreSQL 15 refuses FORCE to a role other than a superuser
            # while autovacuum works on the database (a restored one, often);
            # a plain drop stops autovacuum itself.
            cr.execute(drop)
    filestore = Path(odoo.tools.config.filestore(dbname))
    if filestore.exists():
        shutil.rmtree(filestore)


# ------------------------------------------------------------------ state --


def read_state(cr):
    """Return the row counts of the key tables and the audit chain's head.

    :return: dict with ``row_counts`` (table -> rows, for the key tables the
        database has) and ``audit`` (see :func:`audit_head`)
    """
    cr.execute(
        "SELECT relname FROM pg_class "
        "WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace "
        "AND relname = ANY(%s)",
        [list(KEY_TABLES)],
    )
    tables = sorted(row[0] for row in cr.fetchall())
    counts = {}
    for table in tables:
        cr.execute(pgsql.SQL("SELECT count(*) FROM {}").format(pgsql.Identifier(table)))
        counts[table] = cr.fetchone()[0]
    return {"row_counts": counts, "audit": audit_head(cr)}


def audit_head(cr):
    """Return where the order history's chains end.

    ``last_event_id``/``last_hash``: the newest chained event; ``digest``:
    SHA-256 of every chain's last hash, so any chain that ends elsewhere in
    a restore changes it.
    """
    cr.execute(
        "SELECT DISTINCT ON (COALESCE(order_id, 0)) COALESCE(order_id, 0), id, hash "
        "FROM order_audit_event WHERE hash IS NOT NULL "
        "ORDER BY COALESCE(order_id, 0), id DESC"
    )
    ends = cr.fetchall()
    cr.execute("SELECT count(*) FROM order_audit_event WHERE hash IS NOT NULL")
    events = cr.fetchone()[0]
    digest = hashlib.sha256()
    for key, _event_id, hash_ in ends:
        digest.update(f"{key}:{hash_}\n".encode())
    last_id, last_hash = max(((row[1], row[2]) for row in ends), default=(0, ""))
    return {
        "events": events,
        "chains": len(ends),
        "last_event_id": last_id,
        "last_hash": last_hash,
        "digest": digest.hexdigest(),
    }


def compare_state(expected, found):
    """Return the differences between a manifest's state and a database's.

    :return: list of messages, empty when the database holds what the
        manifest says
    """
    problems = []
    counts = found["row_counts"]
    for table, rows in sorted(expected["row_counts"].items()):
        if counts.get(table) != rows:
            problems.append(
                f"table {table}: {counts.get(table)} rows, the backup had {rows}"
            )
    for name, value in sorted(expected["audit"].items()):
        if found["audit"].get(name) != value:
            problems.append(
                f"audit chain {name}: {found['audit'].get(name)}, the backup had "
                f"{value}"
            )
    return problems


def modules_installed(cr):
    """Return {module: version} of the installed modules."""
    cr.execute(
        "SELECT name, latest_version FROM ir_module_module WHERE state = 'installed'"
    )
    return dict(cr.fetchall())


# ----------------------------------------------------------------- backup --


def take_backup(dbname, path, key, manifest, work_dir=None):
    """Dump ``dbname`` and its filestore into the encrypted file ``path``.

    :param dict manifest: what to record besides the state and the files
        (time, versions...)
    :return: the manifest written into the file
    """
    with tempfile.TemporaryDirectory(prefix="order-backup-", dir=work_dir) as tmp:
        dump_path = Path(tmp, DUMP_NAME)
        with closing(connect(dbname)) as cr:
            # Repeatable read (Odoo's default): the counts and pg_dump see the
            # same snapshot, exported while this transaction stays open.
            cr.execute("SELECT pg_export_snapshot()")
            snapshot = cr.fetchone()[0]
            state = read_state(cr)
            modules = modules_installed(cr)
            run_pg_tool(
                "pg_dump",
                [
                    "--format=custom",
                    f"--snapshot={snapshot}",
                    f"--file={dump_path}",
                    dbname,
                ],
            )
            cr.rollback()
        manifest = dict(
            manifest,
            database=dbname,
            modules=modules,
            addon_version=modules.get("order_management"),
            **state,
        )
        filestore = odoo.tools.config.filestore(dbname)
        return write_backup(path, key, dump_path, filestore, manifest)


# ---------------------------------------------------------------- restore --


def restore_backup(path, key, dbname, work_dir=None):
    """Restore the backup file ``path`` into the new database ``dbname``.

    The file is decrypted and checked whole first; then the database is
    created, the dump restored in one transaction, the filestore copied and
    the row counts and audit head compared with the manifest. When any step
    after the creation fails, the database and its filestore are dropped.

    :return: the backup's manifest
    :raise BackupError: (or a subclass) saying what failed; nothing is left
    """
    if database_exists(dbname):
        raise BackupError(f"database {dbname} already exists: restore into a new one")
    filestore = Path(odoo.tools.config.filestore(dbname))
    if filestore.exists():
        raise BackupError(
            f"the filestore {filestore} already exists: move it away or restore "
            "into another database"
        )
    with tempfile.TemporaryDirectory(prefix="order-restore-", dir=work_dir) as tmp:
        manifest = extract_backup(path, key, tmp)
        create_database(dbname)
        try:
            run_pg_tool(
                "pg_restore",
                [
                    "--no-owner",
                    "--no-privileges",
                    "--single-transaction",
                    "--exit-on-error",
                    f"--dbname={dbname}",
                    str(Path(tmp, DUMP_NAME)),
                ],
            )
            source = Path(tmp, FILESTORE_DIR)
            if source.is_dir():
                filestore.parent.mkdir(parents=True, exist_ok=True)
                shutil.copytree(source, filestore)
            with closing(connect(dbname)) as cr:
                problems = compare_state(manifest, read_state(cr))
            if problems:
                raise RestoreCheckError(
                    "the restored database differs from the backup: "
                    + "; ".join(problems)
                )
        except Exception:
            _logger.warning("restore of %s into %s failed: dropping it", path, dbname)
            drop_database(dbname)
            raise
    return manifest


# ------------------------------------------------------------------ check --


def run_odoo(dbname, args, timeout, capture=True, log_level="warn"):
    """Run Odoo (``python -m odoo <args>``) on ``dbname`` in another process.

    It gets this server's connection settings and addons path; the settings,
    the password among them, go through a file only its owner reads, not argv.

    :return: the finished process (``subprocess.CompletedProcess``)
    :raise OSError, subprocess.TimeoutExpired: when it cannot run or finish
    """
    config = odoo.tools.config
    odoo_root = Path(odoo.__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory(prefix="order-odoo-") as tmp:
        conf = Path(tmp, "odoo.conf")
        parser = configparser.ConfigParser(interpolation=None)
        parser["options"] = {
            name: str(config[name]) for name in CHECK_OPTIONS if config.get(name)
        }
        fd = os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            parser.write(handle)
        command = [
            sys.executable,
            "-m",
            "odoo",
            f"--addons-path={config['addons_path']}",
            *args,
            f"--config={conf}",
            f"--database={dbname}",
            f"--log-level={log_level}",
        ]
        environ = dict(os.environ)
        environ["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(odoo_root), environ.get("PYTHONPATH")])
        )
        result = subprocess.run(
            command,
            env=environ,
            stdin=subprocess.DEVNULL,
            capture_output=capture,
            text=True,
            timeout=timeout,
            check=False,
        )
    return result


def run_check(dbname):
    """Load Odoo on ``dbname`` in another process and check it there.

    Runs ``order-backup check`` (see the command), which loads the addon and
    verifies the audit chain and archives: loading a registry inside this
    process would leave it in this server's memory.

    :return: the check's report (dict); ``ok`` says whether it passed
    :raise BackupError: when the process fails without a report
    """
    try:
        result = run_odoo(dbname, ["order-backup", "check"], CHECK_TIMEOUT)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise BackupError(f"checking {dbname} could not run: {error}") from error
    lines = result.stdout.strip().splitlines()
    try:
        return json.loads(lines[-1])
    except (IndexError, ValueError) as error:
        raise BackupError(
            f"checking {dbname} failed (exit status {result.returncode}): "
            f"{result.stderr.strip()[-ERROR_TAIL:]}"
        ) from error
