"""``odoo-bin order-backup``: take, check and restore backups from a shell.

As for every addon command, the addons path comes first:
``odoo-bin --addons-path=PATHS order-backup -c odoo.conf ACTION ...``.

- ``backup -d DB``: a full backup now (off-site copy and retention too);
- ``drill -d DB``: a restore drill of DB's newest backup, recorded in DB;
- ``restore --file FILE --into NAME``: recovery; restore a backup file into
  the new database NAME, then check it (needs no database to exist);
- ``verify --file FILE``: decrypt and check a backup file, restore nothing;
- ``list [--dir DIR]``: the backup files of a folder, newest first, with
  whether each matches its checksum file;
- ``genkey --key-file PATH``: write a new encryption key;
- ``restore-filestore --from DIR --to DIR``: decrypt the incremental filestore
  copy (``<backup folder>/<db>/filestore``) into a database's filestore;
- ``base-backup --into DIR --pg-host H --pg-port P --pg-user U``: a base
  backup of the whole cluster for point-in-time recovery (a role with the
  REPLICATION right; run as root or the postgres account);
- ``pitr-restore --base DIR --wal-archive DIR --data-dir NEW --target-time T``:
  prepare a new data folder that recovers to T when started;
- ``check -d DB``: load the addon on DB and verify its audit chain (run by
  drills and restores on the database they restored).

The key comes from ``ORDER_BACKUP_KEY``, else ``--key-file``, else the
``order_backup_key_file`` option of the configuration file. What the command
writes on the standard output is its interface; it exits with 0 when all
went well, 1 otherwise.
"""

import argparse
import json
import sys
import tempfile
from pathlib import Path

from odoo import SUPERUSER_ID, api
from odoo.cli import Command
from odoo.modules.registry import Registry
from odoo.tools import config

from ..tools.backup_database import restore_backup, run_check
from ..tools.backup_files import (
    BACKUP_SUFFIX,
    BackupError,
    extract_backup,
    file_sha256,
    load_key,
    read_checksum_file,
    restore_filestore,
)
from ..tools.backup_pitr import prepare_recovery, take_base_backup
from ..tools.key_files import write_key_file
from .arguments import split_arguments

ACTIONS = (
    "backup",
    "drill",
    "restore",
    "verify",
    "list",
    "genkey",
    "check",
    "base-backup",
    "pitr-restore",
    "restore-filestore",
)
# The actions that work inside a database given with -d.
DATABASE_ACTIONS = ("backup", "drill", "check")

OK = 0
FAILED = 1


class OrderBackup(Command):
    """Take, check and restore order-management backups"""

    name = "order-backup"

    def run(self, args):
        options, odoo_args = parse_args(args)
        config.parse_config(odoo_args, setup_logging=True)
        if options.action in DATABASE_ACTIONS:
            dbname = config["db_name"]
            if not dbname or "," in dbname:
                sys.exit(f"order-backup {options.action} works on one database: -d")
            with Registry(dbname).cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                status = run_database_action(env, sys.stdout, options)
        else:
            status = run_file_action(sys.stdout, options)
        sys.exit(status)


def parse_args(args):
    """Split a command line into this command's options and Odoo's.

    :param list args: the arguments after ``order-backup``
    :return: (namespace with ``action`` and its options, Odoo's arguments)
    :raise SystemExit: on ``--help`` or a wrong command line
    """
    return split_arguments(_get_parser(), ACTIONS, args)


def run_database_action(env, out, options):
    """Run an action that works inside the database of ``env``."""
    if options.action == "backup":
        return backup(env, out)
    if options.action == "drill":
        return drill(env, out)
    return check(env, out)


def run_file_action(out, options):
    """Run an action that needs no database; return the exit status."""
    try:
        if options.action == "genkey":
            write_key_file(options.key_file)
            out.write(f"key written to {options.key_file}\n")
            return OK
        if options.action == "list":
            return list_backups(out, options.dir or default_dir())
        if options.action == "base-backup":
            files = take_base_backup(
                options.into, options.pg_host, options.pg_port, options.pg_user
            )
            out.write(f"base backup: {options.into} ({', '.join(files)})\n")
            return OK
        if options.action == "pitr-restore":
            prepare_recovery(
                options.base, options.wal_archive, options.data_dir, options.target_time
            )
            out.write(
                f"prepared: {options.data_dir} recovers to {options.target_time} "
                "when started\n"
            )
            return OK
        key = load_key(options.key_file or config.get("order_backup_key_file"))
        if options.action == "verify":
            return verify(out, options.file, key)
        if options.action == "restore-filestore":
            count = restore_filestore(options.source, key, options.to)
            out.write(f"restored: {count} files into {options.to}\n")
            return OK
        return restore(out, options.file, options.into, key)
    except (BackupError, OSError) as error:
        out.write(f"failed: {error}\n")
        return FAILED


def default_dir():
    """Return the backup folder of the configuration (all databases)."""
    return config.get("order_backup_dir") or str(
        Path(config["data_dir"], "order_backups")
    )


def backup(env, out):
    """Take a full backup of the database now; write where it went."""
    Backup = env["order.backup"]
    record = Backup._run_backup()
    Backup._apply_retention()
    if record.state != "done":
        out.write(f"failed: {record.error}\n")
        return FAILED
    out.write(
        f"backup: {record.file_path} ({record.file_size:.1f} MB, "
        f"{record.duration:.1f} s, sha256 {record.checksum})\n"
    )
    out.write(f"off-site: {record.offsite_state} {record.offsite_location or ''}\n")
    return OK if record.offsite_state != "failed" else FAILED


def drill(env, out):
    """Run a restore drill of the newest backup; write its result."""
    Drill = env["order.restore.drill"]
    record = Drill._run_drill(Drill._get_newest_backup())
    out.write(f"drill {record.state} in {record.duration:.1f} s\n{record.details}\n")
    return OK if record.state == "passed" else FAILED


def check(env, out):
    """Check the database of ``env`` as restored; write the report as JSON."""
    report = env["order.restore.drill"]._check_restored()
    out.write(json.dumps(report, sort_keys=True) + "\n")
    return OK if report["ok"] else FAILED


def verify(out, path, key):
    """Decrypt and unpack a backup file aside, check it against its manifest.

    :return: 0 when the whole file holds, 1 otherwise
    """
    with tempfile.TemporaryDirectory(prefix="order-verify-") as tmp:
        manifest = extract_backup(path, key, tmp)
    out.write(
        f"intact: {path} (database {manifest['database']}, taken "
        f"{manifest['created']}, {len(manifest['files'])} files, "
        f"{manifest['audit']['events']} audit events)\n"
    )
    return OK


def restore(out, path, dbname, key):
    """Restore a backup file into the new database ``dbname`` and check it.

    Nothing is left behind when the restore fails. When the restored database
    then fails its check (the addon does not load, or the audit chain is
    broken), it is kept for inspection and the status is 1.
    """
    manifest = restore_backup(path, key, dbname)
    out.write(
        f"restored: {path} into {dbname} (taken {manifest['created']}; "
        f"row counts of {len(manifest['row_counts'])} tables and the audit "
        "head match)\n"
    )
    report = run_check(dbname)
    out.write(
        f"check: {'ok' if report['ok'] else 'FAILED'}; addon "
        f"{report['module_state']} {report['module_version']}; audit chain "
        f"{report['chain']}; archives {report['archives']}\n"
    )
    return OK if report["ok"] else FAILED


def list_backups(out, folder):
    """Write the backup files under ``folder``, newest first, with whether
    each matches the checksum file beside it."""
    files = sorted(
        Path(folder).rglob(f"*{BACKUP_SUFFIX}"),
        key=lambda path: path.stat().st_mtime,
        reverse=True,
    )
    status = OK
    for path in files:
        expected = read_checksum_file(path)
        if not expected:
            verdict = "no checksum file"
        elif file_sha256(path) == expected:
            verdict = "checksum ok"
        else:
            verdict = "CHECKSUM MISMATCH"
            status = FAILED
        size = path.stat().st_size / 1e6
        out.write(f"{path}\t{size:.1f} MB\t{verdict}\n")
    if not files:
        out.write(f"no backup under {folder}\n")
    return status


def _get_parser():
    parser = argparse.ArgumentParser(
        prog=f"{Path(sys.argv[0]).name} order-backup",
        description="Take, check and restore order-management backups. Odoo's "
        "options (-c, -d...) go before or after the action.",
        allow_abbrev=False,
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("backup", help="take a full backup of the database (-d) now")
    actions.add_parser(
        "drill", help="restore the newest backup into a scratch database, check it"
    )
    actions.add_parser(
        "check", help="check a restored database (-d): addon and audit chain"
    )
    restore_parser = actions.add_parser(
        "restore", help="restore a backup file into a new database"
    )
    restore_parser.add_argument("--file", required=True, help="the backup file")
    restore_parser.add_argument(
        "--into", required=True, metavar="NAME", help="the database to create"
    )
    verify_parser = actions.add_parser(
        "verify", help="decrypt and check a backup file, restore nothing"
    )
    verify_parser.add_argument("--file", required=True, help="the backup file")
    filestore_parser = actions.add_parser(
        "restore-filestore", help="decrypt the incremental filestore copy"
    )
    filestore_parser.add_argument(
        "--from", dest="source", required=True, help="the filestore copy"
    )
    filestore_parser.add_argument(
        "--to", required=True, help="the database's filestore folder (new)"
    )
    for sub in (restore_parser, verify_parser, filestore_parser):
        sub.add_argument(
            "--key-file",
            help="the key file (default: ORDER_BACKUP_KEY, then "
            "the order_backup_key_file option)",
        )
    list_parser = actions.add_parser("list", help="list the backup files")
    list_parser.add_argument(
        "--dir", help="the backup folder (default: the configured one)"
    )
    base_parser = actions.add_parser(
        "base-backup", help="a base backup of the cluster, for point-in-time recovery"
    )
    base_parser.add_argument("--into", required=True, help="a new folder")
    base_parser.add_argument("--pg-host", required=True, help="socket folder or host")
    base_parser.add_argument("--pg-port", default="5432")
    base_parser.add_argument(
        "--pg-user", required=True, help="a role with the REPLICATION right"
    )
    pitr_parser = actions.add_parser(
        "pitr-restore", help="prepare a data folder that recovers to a time"
    )
    pitr_parser.add_argument("--base", required=True, help="the base backup folder")
    pitr_parser.add_argument("--wal-archive", required=True, help="the WAL archive")
    pitr_parser.add_argument("--data-dir", required=True, help="a new data folder")
    pitr_parser.add_argument(
        "--target-time",
        required=True,
        help="recover up to this time, with its zone: '2025-03-01 14:05:00+00'",
    )
    genkey_parser = actions.add_parser("genkey", help="write a new encryption key")
    genkey_parser.add_argument("--key-file", required=True, help="the file to create")
    return parser
