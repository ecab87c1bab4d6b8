"""Backup files: encryption, the archive inside it, its manifest and checksums.

A backup is one file: a tar stream (the database dump, the filestore, then
``manifest.json``) encrypted with AES-256-GCM in chunks, so that neither
writing nor reading it holds more than one chunk in memory. Each chunk is
sealed with a nonce made of a random prefix, its number and a flag set on the
last chunk only, and with the file header as associated data: a changed,
reordered, dropped or appended chunk, a cut file or a changed header fails to
decrypt. The header also carries an identifier of the key (a keyed hash, it
reveals nothing of the key), so a wrong key is told apart from a damaged file
before anything is decrypted.

The key is 32 random bytes written as URL-safe base64. It is read from the
``ORDER_BACKUP_KEY`` environment variable or from a key file, never from the
database. Plain functions: the models and the command line feed them paths.
"""

import hashlib
import hmac
import io
import json
import os
import re
import secrets
import shutil
import stat
import struct
import tarfile
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .key_files import KEY_SIZE, decode_key

KEY_ENV = "ORDER_BACKUP_KEY"
MAGIC = b"OMBACKUP"
FORMAT_VERSION = 1
# magic, version, key id, nonce prefix, chunk size
HEADER = struct.Struct(">8sB16s7sI")
TAG_SIZE = 16
CHUNK_SIZE = 1024 * 1024

DUMP_NAME = "database.dump"
FILESTORE_DIR = "filestore"
MANIFEST_NAME = "manifest.json"
BACKUP_SUFFIX = ".ombackup"
CHECKSUM_SUFFIX = ".sha256"

READ_SIZE = 1024 * 1024


class BackupError(Exception):
    """A backup cannot be written or read; the message says why."""


class WrongKeyError(BackupError):
    """The backup was encrypted with another key."""


class CorruptBackupError(BackupError):
    """The backup file is damaged: it does not hold what was written."""


# ------------------------------------------------------------------- keys --


def parse_key(text):
    """Return the 32 key bytes written as URL-safe base64 in ``text``.

    :raise BackupError: when ``text`` is not such a key
    """
    key = decode_key(text)
    if key is None:
        raise BackupError(
            f"the backup key must be {KEY_SIZE} bytes written as URL-safe base64"
        )
    return key


def load_key(key_file=None, environ=None):
    """Return the backup key: the environment variable, else the key file.

    :param key_file: path of the key file (from the configuration), or None
    :raise BackupError: when neither gives a key, or the file cannot be read
    """
    environ = os.environ if environ is None else environ
    if environ.get(KEY_ENV):
        return parse_key(environ[KEY_ENV])
    if not key_file:
        raise BackupError(
            f"no backup key: set {KEY_ENV} or give the path of a key file"
        )
    path = Path(key_file)
    try:
        mode = path.stat().st_mode
        text = path.read_text()
    except OSError as error:
        raise BackupError(f"cannot read the backup key file {path}: {error}") from error
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise BackupError(
            f"the backup key file {path} is open to other users: chmod 600 it"
        )
    return parse_key(text)


def key_id(key):
    """Return the 16-byte identifier of ``key`` kept in the file header."""
    return hmac.new(key, b"order-backup key id", hashlib.sha256).digest()[:16]


# -------------------------------------------------------------- encryption --


def _nonce(prefix, counter, last):
    return prefix + struct.pack(">I?", counter, last)


class EncryptingWriter(io.RawIOBase):
    """A binary file that encrypts what is written to it into ``raw``.

    ``close()`` seals the last chunk; without it the file is incomplete and
    reading it fails.
    """

    def __init__(self, raw, key, chunk_size=CHUNK_SIZE):
        super().__init__()
        self._raw = raw
        self._aead = AESGCM(key)
        self._prefix = secrets.token_bytes(7)
        self._chunk_size = chunk_size
        self._header = HEADER.pack(
            MAGIC, FORMAT_VERSION, key_id(key), self._prefix, chunk_size
        )
        self._buffer = bytearray()
        self._counter = 0
        raw.write(self._header)

    def writable(self):
        return True

    def write(self, data):
        self._buffer += data
        # Keep a full chunk back: the last one is only known at close().
        while len(self._buffer) > self._chunk_size:
            self._seal(bytes(self._buffer[: self._chunk_size]), last=False)
            del self._buffer[: self._chunk_size]
        return len(data)

    def close(self):
        if not self.closed:
            self._seal(bytes(self._buffer), last=True)
            self._buffer.clear()
        super().close()

    def _seal(self, chunk, last):
        nonce = _nonce(self._prefix, self._counter, last)
        self._raw.write(self._aead.encrypt(nonce, chunk, self._header))
        self._counter += 1


def read_header(raw, key):
    """Read and check the header of an encrypted file; return (header, prefix,
    chunk size).

    :raise CorruptBackupError: when it is not a backup of this format
    :raise WrongKeyError: when it was encrypted with another key
    """
    header = raw.read(HEADER.size)
    if len(header) != HEADER.size:
        raise CorruptBackupError("the file is too short to be a backup")
    magic, version, file_key_id, prefix, chunk_size = HEADER.unpack(header)
    if magic != MAGIC or version != FORMAT_VERSION or not chunk_size:
        raise CorruptBackupError("the file is not an order backup (bad header)")
    if not hmac.compare_digest(file_key_id, key_id(key)):
        raise WrongKeyError("the backup was encrypted with another key")
    return header, prefix, chunk_size


def decrypt_chunks(raw, key):
    """Yield the plain chunks of the encrypted file ``raw``.

    :raise WrongKeyError: before yielding anything, when the key differs
    :raise CorruptBackupError: at the first chunk that does not authenticate,
        or when the file is cut short or has trailing data
    """
    header, prefix, chunk_size = read_header(raw, key)
    aead = AESGCM(key)
    sealed_size = chunk_size + TAG_SIZE
    counter = 0
    sealed = raw.read(sealed_size)
    while True:
        following = raw.read(sealed_size)
        last = not following
        if len(sealed) < TAG_SIZE or (not last and len(sealed) != sealed_size):
            raise CorruptBackupError(f"chunk {counter} is cut short")
        try:
            yield aead.decrypt(_nonce(prefix, counter, last), sealed, header)
        except InvalidTag as error:
            raise CorruptBackupError(
                f"chunk {counter} does not authenticate: the file was changed "
                "or cut short"
            ) from error
        if last:
            return
        sealed = following
        counter += 1


class DecryptingReader(io.RawIOBase):
    """A binary file that reads the plain content of an encrypted one."""

    def __init__(self, raw, key):
        super().__init__()
        self._chunks = decrypt_chunks(raw, key)
        self._pending = b""
        # Checks the header now: a wrong key is reported before any read.
        self._pending = next(self._chunks)

    def readable(self):
        return True

    def readinto(self, buffer):
        while not self._pending:
            self._pending = next(self._chunks, None)
            if self._pending is None:
                self._pending = b""
                return 0
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


# --------------------------------------------------------------- checksums --


def file_sha256(path):
    """Return the SHA-256 hex digest of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(READ_SIZE):
            digest.update(block)
    return digest.hexdigest()


def checksum_path(backup_path):
    """Return the path of the checksum file kept beside a backup file."""
    backup_path = Path(backup_path)
    return backup_path.with_name(backup_path.name + CHECKSUM_SUFFIX)


def write_checksum_file(backup_path, checksum):
    """Write ``checksum`` beside the backup, in the format of ``sha256sum``."""
    backup_path = Path(backup_path)
    checksum_path(backup_path).write_text(f"{checksum}  {backup_path.name}\n")


def read_checksum_file(backup_path):
    """Return the checksum kept beside a backup, or None when there is none."""
    try:
        text = checksum_path(backup_path).read_text()
    except FileNotFoundError:
        return None
    return text.split()[0] if text.strip() else None


# ----------------------------------------------------------------- archive --


def list_files(root):
    """Return the files under ``root`` as sorted relative POSIX paths."""
    root = Path(root)
    if not root.is_dir():
        return []
    return sorted(
        path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()
    )


def write_backup(path, key, dump_path, filestore, manifest, chunk_size=CHUNK_SIZE):
    """Write an encrypted backup file; return the manifest it holds.

    The dump goes first, then the filestore's files, then the manifest,
    completed with the size and SHA-256 of every file it carries. The file is
    written under a temporary name and renamed when complete, so a backup that
    exists under its name is whole.

    :param path: the backup file to write
    :param bytes key: the encryption key
    :param dump_path: the ``pg_dump`` custom-format file
    :param filestore: the database's filestore folder (may not exist)
    :param dict manifest: what to record besides the files
    """
    path = Path(path)
    partial = path.with_name(path.name + ".part")
    files = {}
    try:
        with open(partial, "wb") as raw:
            writer = EncryptingWriter(raw, key, chunk_size)
            buffered = io.BufferedWriter(writer, buffer_size=chunk_size)
            with tarfile.open(fileobj=buffered, mode="w|") as tar:
                files[DUMP_NAME] = _add_file(tar, dump_path, DUMP_NAME)
                for name in list_files(filestore):
                    member = f"{FILESTORE_DIR}/{name}"
                    files[member] = _add_file(tar, Path(filestore, name), member)
                manifest = dict(manifest, files=files)
                data = json.dumps(manifest, indent=1, sort_keys=True).encode()
                info = tarfile.TarInfo(MANIFEST_NAME)
                info.size = len(data)
                info.mode = 0o600
                tar.addfile(info, io.BytesIO(data))
            buffered.close()
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, path)
    finally:
        if partial.exists():
            partial.unlink()
    return manifest


def _add_file(tar, source, name):
    """Add ``source`` to the stream as ``name``; return its size and digest."""
    digest = hashlib.sha256()

    class Hashing(io.RawIOBase):
        def __init__(self, handle):
            self._handle = handle

        def readable(self):
            return True

        def readinto(self, buffer):
            size = self._handle.readinto(buffer)
            digest.update(memoryview(buffer)[:size])
            return size

    with open(source, "rb") as handle:
        info = tar.gettarinfo(fileobj=handle, arcname=name)
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        info.mode = 0o600
        tar.addfile(info, Hashing(handle))
    return {"size": info.size, "sha256": digest.hexdigest()}


def extract_backup(path, key, target):
    """Decrypt and unpack a backup into the empty folder ``target``, check
    every file against the manifest, and return the manifest.

    Nothing is restored from here: the caller restores only what this
    returned without error.

    :raise WrongKeyError: the key is not the backup's
    :raise CorruptBackupError: the file is damaged, holds an unexpected member,
        or a file does not match the manifest
    """
    target = Path(target)
    with open(path, "rb") as raw:
        reader = io.BufferedReader(DecryptingReader(raw, key), buffer_size=READ_SIZE)
        try:
            with tarfile.open(fileobj=reader, mode="r|") as tar:
                for member in tar:
                    _extract_member(tar, member, target)
        except tarfile.TarError as error:
            raise CorruptBackupError(f"the archive is unreadable: {error}") from error
        # The tar stream ends before the padding of its last block is read:
        # read on so that the last chunk is authenticated too.
        while reader.read(READ_SIZE):
            pass
    return verify_extracted(target)


def _extract_member(tar, member, target):
    name = member.name
    parts = Path(name).parts
    allowed = name in (DUMP_NAME, MANIFEST_NAME) or (
        len(parts) > 1 and parts[0] == FILESTORE_DIR
    )
    if not member.isfile() or not allowed or ".." in parts or Path(name).is_absolute():
        raise CorruptBackupError(f"the archive holds an unexpected member {name!r}")
    destination = target / name
    destination.parent.mkdir(parents=True, exist_ok=True)
    source = tar.extractfile(member)
    with open(destination, "xb") as handle:
        shutil.copyfileobj(source, handle, READ_SIZE)


def verify_extracted(target):
    """Check an unpacked backup against its manifest; return the manifest.

    :raise CorruptBackupError: naming the first file that is missing, extra
        or different
    """
    target = Path(target)
    try:
        manifest = json.loads((target / MANIFEST_NAME).read_text())
        expected = manifest["files"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise CorruptBackupError(
            f"the manifest is missing or unreadable: {error}"
        ) from error
    present = set(list_files(target)) - {MANIFEST_NAME}
    if DUMP_NAME not in expected:
        raise CorruptBackupError("the manifest lists no database dump")
    extra = sorted(present - set(expected))
    if extra:
        raise CorruptBackupError(f"{extra[0]} is in the backup but not in its manifest")
    for name, entry in sorted(expected.items()):
        if name not in present:
            raise CorruptBackupError(f"{name} is in the manifest but not in the backup")
        if file_sha256(target / name) != entry["sha256"]:
            raise CorruptBackupError(f"{name} does not match its checksum")
    return manifest


def read_manifest(path, key):
    """Return the manifest of a backup file, decrypting the whole file to
    reach it (it is written last) without keeping anything else."""
    with open(path, "rb") as raw:
        reader = io.BufferedReader(DecryptingReader(raw, key), buffer_size=READ_SIZE)
        manifest = None
        try:
            with tarfile.open(fileobj=reader, mode="r|") as tar:
                for member in tar:
                    if member.name == MANIFEST_NAME and member.isfile():
                        manifest = json.loads(tar.extractfile(member).read())
        except (tarfile.TarError, ValueError) as error:
            raise CorruptBackupError(f"the archive is unreadable: {error}") from error
        while reader.read(READ_SIZE):
            pass
    if manifest is None:
        raise CorruptBackupError("the backup holds no manifest")
    return manifest


# ------------------------------------------------------ incremental filestore --

ENCRYPTED_SUFFIX = ".enc"
# Odoo's marks of files to collect: empty, and rebuilt by Odoo itself.
GC_CHECKLIST = "checklist/"
SHA1_NAME = re.compile(r"[0-9a-f]{40}")


def sync_filestore(source, target, key):
    """Copy the filestore files that ``target`` does not hold yet, each
    encrypted on its own.

    Odoo names a filestore file after the SHA-1 of its content and never
    changes it: a file already copied needs no second look, so a run copies
    only what was added since the last one.

    :return: (files copied, files already there)
    """
    target = Path(target)
    copied = kept = 0
    for name in list_files(source):
        if name.startswith(GC_CHECKLIST):
            continue
        destination = target / (name + ENCRYPTED_SUFFIX)
        if destination.exists():
            kept += 1
            continue
        destination.parent.mkdir(parents=True, exist_ok=True)
        partial = destination.with_name(destination.name + ".part")
        with open(Path(source, name), "rb") as src, open(partial, "wb") as raw:
            writer = EncryptingWriter(raw, key)
            while block := src.read(READ_SIZE):
                writer.write(block)
            writer.close()
        os.replace(partial, destination)
        copied += 1
    return copied, kept


def restore_filestore(source, key, destination):
    """Decrypt a filestore copy made by :func:`sync_filestore` into the
    folder ``destination`` (which must not exist), checking each file's
    content against its name.

    :return: the number of files restored
    :raise CorruptBackupError: naming the first file that does not hold
    """
    destination = Path(destination)
    destination.mkdir(parents=True)
    count = 0
    for name in list_files(source):
        if not name.endswith(ENCRYPTED_SUFFIX):
            continue
        plain = name[: -len(ENCRYPTED_SUFFIX)]
        output = destination / plain
        output.parent.mkdir(parents=True, exist_ok=True)
        # Not for security: Odoo names filestore files after their SHA-1.
        digest = hashlib.sha1(usedforsecurity=False)
        with open(Path(source, name), "rb") as raw, open(output, "xb") as handle:
            for block in decrypt_chunks(raw, key):
                digest.update(block)
                handle.write(block)
        stem = Path(plain).name
        if SHA1_NAME.fullmatch(stem) and stem != digest.hexdigest():
            raise CorruptBackupError(f"{plain} does not match its name")
        count += 1
    return count
