"""Off-site copies of backup files: another folder (a mount) or an SFTP server.

Every copy is read back and its SHA-256 compared with the original's before
it counts: a copy that does not read back identical is reported, never
trusted. SFTP goes through OpenSSH's ``sftp`` client in batch mode, with key
authentication and a known-hosts file: no password, no unknown host.
"""

import os
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .backup_files import (
    CHECKSUM_SUFFIX,
    READ_SIZE,
    BackupError,
    checksum_path,
    file_sha256,
)

SFTP_TIMEOUT = 600


class OffsiteError(BackupError):
    """The off-site copy failed or does not match the original."""


def parse_target(target):
    """Split an off-site target into (kind, details).

    ``/path`` or ``file:///path``: ("dir", Path); ``sftp://user@host:port/path``
    (port optional, 22): ("sftp", dict(user, host, port, path)).

    :raise OffsiteError: for any other form
    """
    target = (target or "").strip()
    if target.startswith("/"):
        return "dir", Path(target)
    parts = urlsplit(target)
    if parts.scheme == "file" and parts.path:
        return "dir", Path(unquote(parts.path))
    if parts.scheme == "sftp" and parts.hostname and parts.username:
        try:
            port = parts.port or 22
        except ValueError as error:
            raise OffsiteError(f"bad port in the off-site target {target}") from error
        user = unquote(parts.username)
        if user.startswith("-") or parts.hostname.startswith("-"):
            # sftp would read it as an option (-oProxyCommand=... runs a command).
            raise OffsiteError(
                f"the user or host of the off-site target {target!r} starts with '-'"
            )
        return "sftp", {
            "user": user,
            "host": parts.hostname,
            "port": port,
            "path": unquote(parts.path) or ".",
        }
    raise OffsiteError(
        f"the off-site target {target!r} is neither a folder (/path) nor "
        "sftp://user@host[:port]/path"
    )


def describe_target(target, name):
    """Return where the copy of the backup ``name`` goes, for messages."""
    kind, details = parse_target(target)
    if kind == "dir":
        return str(details / name)
    return (
        f"sftp://{details['user']}@{details['host']}:{details['port']}"
        f"{details['path'].rstrip('/')}/{name}"
    )


# ----------------------------------------------------------------- folder --


def _copy_file(source, destination):
    """Copy ``source`` to ``destination`` and flush it to the disk."""
    with open(source, "rb") as src, open(destination, "wb") as dst:
        shutil.copyfileobj(src, dst, READ_SIZE)
        dst.flush()
        os.fsync(dst.fileno())


def copy_to_dir(backup_path, checksum, folder, subdir):
    """Copy a backup and its checksum file into ``folder/subdir``; read the
    copy back and compare it with ``checksum``.

    :return: the path of the copy
    :raise OffsiteError: when the copy fails or differs
    """
    backup_path = Path(backup_path)
    target = Path(folder) / subdir
    copy = target / backup_path.name
    partial = copy.with_name(copy.name + ".part")
    try:
        target.mkdir(parents=True, exist_ok=True)
        _copy_file(backup_path, partial)
        os.replace(partial, copy)
        shutil.copyfile(checksum_path(backup_path), checksum_path(copy))
    except OSError as error:
        raise OffsiteError(f"copying to {target} failed: {error}") from error
    finally:
        if partial.exists():
            partial.unlink()
    verify_dir_copy(copy, checksum)
    return copy


def verify_dir_copy(copy, checksum):
    """Read an off-site copy back; raise OffsiteError unless it matches."""
    try:
        found = file_sha256(copy)
    except OSError as error:
        raise OffsiteError(
            f"the off-site copy {copy} cannot be read: {error}"
        ) from error
    if found != checksum:
        raise OffsiteError(
            f"the off-site copy {copy} has checksum {found}, the backup {checksum}"
        )


# ------------------------------------------------------------------- SFTP --


def _sftp(details, commands, key_file, known_hosts):
    """Run ``commands`` (lines of an sftp batch) against the server."""
    if not key_file:
        raise OffsiteError("no SSH key file is configured for the SFTP target")
    options = [
        "-b",
        "-",
        "-i",
        str(key_file),
        "-P",
        str(details["port"]),
        "-o",
        "BatchMode=yes",
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "ConnectTimeout=30",
    ]
    if known_hosts:
        options += ["-o", f"UserKnownHostsFile={known_hosts}"]
    command = ["sftp", *options, f"{details['user']}@{details['host']}"]
    try:
        result = subprocess.run(
            command,
            input="\n".join(commands) + "\n",
            capture_output=True,
            text=True,
            timeout=SFTP_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise OffsiteError(f"sftp could not run: {error}") from error
    if result.returncode:
        raise OffsiteError(
            f"sftp to {details['host']}:{details['port']} failed: "
            f"{result.stderr.strip()[-2000:]}"
        )
    return result


def _quote(path):
    # sftp batch files take double-quoted arguments with backslash escapes.
    return '"' + str(path).replace("\\", "\\\\").replace('"', '\\"') + '"'


def copy_to_sftp(backup_path, checksum, details, subdir, key_file, known_hosts):
    """Upload a backup and its checksum file, then download the upload and
    compare it with ``checksum``.

    :return: the remote path of the copy
    :raise OffsiteError: when the upload fails or differs
    """
    backup_path = Path(backup_path)
    folder = f"{details['path'].rstrip('/')}/{subdir}"
    remote = f"{folder}/{backup_path.name}"
    sidecar = checksum_path(backup_path)
    _sftp(
        details,
        [
            # "-": a folder that already exists is no error.
            f"-mkdir {_quote(details['path'])}",
            f"-mkdir {_quote(folder)}",
            f"put {_quote(backup_path)} {_quote(remote + '.part')}",
            f"-rm {_quote(remote)}",
            f"rename {_quote(remote + '.part')} {_quote(remote)}",
            f"put {_quote(sidecar)} {_quote(folder + '/' + sidecar.name)}",
        ],
        key_file,
        known_hosts,
    )
    verify_sftp_copy(remote, checksum, details, key_file, known_hosts)
    return remote


def verify_sftp_copy(remote, checksum, details, key_file, known_hosts):
    """Download an SFTP copy; raise OffsiteError unless it matches."""
    with tempfile.TemporaryDirectory(prefix="order-offsite-") as tmp:
        local = Path(tmp, "copy")
        _sftp(
            details,
            [f"get {_quote(remote)} {_quote(local)}"],
            key_file,
            known_hosts,
        )
        found = file_sha256(local)
    if found != checksum:
        raise OffsiteError(
            f"the off-site copy {shlex.quote(remote)} has checksum {found}, the "
            f"backup {checksum}"
        )


# ---------------------------------------------------------------- entries --


def copy_backup(backup_path, checksum, target, subdir, key_file=None, known_hosts=None):
    """Copy a backup to ``target`` and check the copy; return where it is."""
    kind, details = parse_target(target)
    if kind == "dir":
        return str(copy_to_dir(backup_path, checksum, details, subdir))
    copy_to_sftp(backup_path, checksum, details, subdir, key_file, known_hosts)
    return describe_target(target, f"{subdir}/{Path(backup_path).name}")


def verify_copy(name, checksum, target, subdir, key_file=None, known_hosts=None):
    """Check that the off-site copy of the backup ``name`` still matches."""
    kind, details = parse_target(target)
    if kind == "dir":
        return verify_dir_copy(details / subdir / name, checksum)
    remote = f"{details['path'].rstrip('/')}/{subdir}/{name}"
    return verify_sftp_copy(remote, checksum, details, key_file, known_hosts)


def remove_copy(name, target, subdir, key_file=None, known_hosts=None):
    """Remove the off-site copy of the backup ``name`` and its checksum file
    (those that are there)."""
    kind, details = parse_target(target)
    if kind == "dir":
        copy = details / subdir / name
        try:
            copy.unlink(missing_ok=True)
            checksum_path(copy).unlink(missing_ok=True)
        except OSError as error:
            raise OffsiteError(f"removing {copy} failed: {error}") from error
        return
    remote = f"{details['path'].rstrip('/')}/{subdir}/{name}"
    _sftp(
        details,
        [f"-rm {_quote(remote)}", f"-rm {_quote(remote + CHECKSUM_SUFFIX)}"],
        key_file,
        known_hosts,
    )
