"""Point-in-time recovery: WAL archiving, base backups, recovery to a time.

For a PostgreSQL server the project administers (the private cluster of the
``om`` script, or one whose configuration an administrator can change):
every WAL segment is copied to an archive folder by ``archive_command``, a
base backup (``pg_basebackup``) is taken from time to time, and a recovery
starts a new data folder from the base backup and replays the archived WAL
up to a chosen time. Odoo's own role cannot do this (it needs a role with
the REPLICATION right and the server's files): these functions are run by an
administrator, through ``order-backup``, or by tests on a cluster of their
own. Where the server's configuration is not ours, :func:`archiving_status`
says so and full backups are taken more often instead.
"""

import os
import shlex
import shutil
import subprocess
import tarfile
from pathlib import Path

from .backup_files import BackupError

# The settings a cluster needs for point-in-time recovery. %p and %f are
# PostgreSQL's: the segment's path and its file name.
ARCHIVE_COMMAND = "test ! -f {archive}/%f && cp %p {archive}/%f"
RESTORE_COMMAND = "cp {archive}/%f %p"

BASE_FILE = "base.tar.gz"
WAL_FILE = "pg_wal.tar.gz"

PG_OWNER = "postgres"


def pg_bindir():
    """Return the newest PostgreSQL server binaries folder of the machine."""
    root = Path("/usr/lib/postgresql")
    versions = sorted(
        (path for path in root.glob("*/bin") if path.is_dir()),
        key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0,
    )
    if not versions:
        raise BackupError(f"no PostgreSQL server binaries under {root}")
    return versions[-1]


def as_pg_owner(command):
    """Return ``command`` run as the ``postgres`` account when we are root:
    PostgreSQL refuses to run as root."""
    if os.geteuid() == 0:
        return ["runuser", "-u", PG_OWNER, "--", *command]
    return command


def run(command, **kwargs):
    """Run a server command (from "/": the postgres account may not enter
    the current folder); raise BackupError with its output when it fails."""
    result = subprocess.run(
        command,
        cwd="/",
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
        **kwargs,
    )
    if result.returncode:
        # as_pg_owner puts "runuser -u postgres --" before the tool.
        tool = command[4] if command[0] == "runuser" else command[0]
        raise BackupError(
            f"{Path(tool).name} failed: "
            f"{(result.stderr or result.stdout).strip()[-2000:]}"
        )
    return result


def give_to_pg_owner(*paths):
    """Make folders ours to PostgreSQL: owned by its account, private."""
    if os.geteuid() != 0:
        return
    for path in paths:
        shutil.chown(path, PG_OWNER, PG_OWNER)
        os.chmod(path, 0o700)


# ----------------------------------------------------------- configuration --


def archive_settings(archive_dir):
    """Return the ``postgresql.conf`` settings that archive every WAL segment
    into ``archive_dir`` (a segment already there is never overwritten)."""
    archive = shlex.quote(str(archive_dir))
    return {
        "wal_level": "replica",
        "archive_mode": "on",
        "archive_command": ARCHIVE_COMMAND.format(archive=archive),
        # A quiet server still archives a segment at least this often.
        "archive_timeout": "300",
    }


def format_settings(settings):
    """Return ``settings`` as ``postgresql.conf`` lines."""
    lines = []
    for name, value in settings.items():
        text = str(value).replace("\\", "\\\\").replace("'", "''")
        lines.append(f"{name} = '{text}'\n")
    return "".join(lines)


def append_settings(conf_path, settings):
    """Append settings to a configuration file (the last one wins)."""
    with open(conf_path, "a") as handle:
        handle.write("\n" + format_settings(settings))


def archiving_status(cr):
    """Say whether the server archives its WAL, so that point-in-time
    recovery is possible, from the settings and the archiver's statistics.

    :return: (bool, reason): the reason names the setting that is missing,
        or the archiver's last failure
    """
    cr.execute(
        "SELECT name, setting FROM pg_settings "
        "WHERE name IN ('wal_level', 'archive_mode', 'archive_command')"
    )
    settings = dict(cr.fetchall())
    if settings.get("wal_level") == "minimal":
        return False, "wal_level is minimal"
    if settings.get("archive_mode") not in ("on", "always"):
        return False, f"archive_mode is {settings.get('archive_mode')}"
    if not settings.get("archive_command"):
        return False, "archive_command is empty"
    cr.execute(
        "SELECT last_archived_wal, last_archived_time, failed_count, "
        "last_failed_wal, last_failed_time FROM pg_stat_archiver"
    )
    archived, archived_at, failed, failed_wal, failed_at = cr.fetchone()
    if failed and failed_at and (not archived_at or failed_at > archived_at):
        return False, f"archiving WAL segment {failed_wal} failed at {failed_at}"
    return True, f"WAL archived (last segment {archived or 'none yet'})"


# ------------------------------------------------------------ base backups --


def take_base_backup(target_dir, host, port, user):
    """Take a base backup of the whole cluster into ``target_dir`` (created),
    as compressed tar files with the WAL needed to make it consistent.

    :param host: the server's socket folder or host name
    :param user: a role with the REPLICATION right
    :return: the files written, sorted
    """
    target = Path(target_dir)
    target.mkdir(parents=True)
    give_to_pg_owner(target)
    run(
        as_pg_owner(
            [
                str(pg_bindir() / "pg_basebackup"),
                f"--host={host}",
                f"--port={port}",
                f"--username={user}",
                "--no-password",
                f"--pgdata={target}",
                "--format=tar",
                "--gzip",
                "--wal-method=stream",
                "--checkpoint=fast",
            ]
        )
    )
    return sorted(path.name for path in target.iterdir())


# --------------------------------------------------------------- recovery --


def prepare_recovery(base_dir, archive_dir, data_dir, target_time, settings=None):
    """Make ``data_dir`` a cluster that recovers to ``target_time`` when
    started: the base backup unpacked, the archived WAL replayed up to that
    time (transactions committed after it are not), then promoted.

    :param target_time: a time PostgreSQL reads, with its time zone
        (``2025-03-01 14:05:00+00``)
    :param dict settings: more settings for the recovered cluster (its socket
        folder, port, whether it archives in turn...)
    """
    base_dir, data_dir = Path(base_dir), Path(data_dir)
    if data_dir.exists() and any(data_dir.iterdir()):
        raise BackupError(f"{data_dir} is not empty: recover into a new folder")
    if not (base_dir / BASE_FILE).is_file():
        raise BackupError(f"{base_dir} holds no base backup ({BASE_FILE})")
    data_dir.mkdir(parents=True, exist_ok=True)
    _unpack(base_dir / BASE_FILE, data_dir)
    if (base_dir / WAL_FILE).is_file():
        _unpack(base_dir / WAL_FILE, data_dir / "pg_wal")
    append_settings(
        data_dir / "postgresql.auto.conf",
        {
            "restore_command": RESTORE_COMMAND.format(
                archive=shlex.quote(str(archive_dir))
            ),
            "recovery_target_time": target_time,
            "recovery_target_action": "promote",
            **(settings or {}),
        },
    )
    (data_dir / "recovery.signal").touch()
    if os.geteuid() == 0:
        for root, folders, files in os.walk(data_dir):
            for name in [*folders, *files]:
                shutil.chown(os.path.join(root, name), PG_OWNER, PG_OWNER)
        give_to_pg_owner(data_dir)


def _unpack(archive, folder):
    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive, "r:gz") as tar:
        tar.extractall(folder, filter="data")


def pg_ctl(data_dir, action, *args):
    """Run ``pg_ctl`` on ``data_dir`` as the postgres account (waiting)."""
    return run(
        as_pg_owner(
            [str(pg_bindir() / "pg_ctl"), "-D", str(data_dir), "-w", action, *args]
        )
    )
