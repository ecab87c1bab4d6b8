import hashlib
import io
import json
import os
import tempfile
from pathlib import Path
from unittest import TestCase

from odoo.addons.order_management.tools.backup_files import (
    KEY_ENV,
    BackupError,
    CorruptBackupError,
    DecryptingReader,
    EncryptingWriter,
    WrongKeyError,
    checksum_path,
    extract_backup,
    file_sha256,
    load_key,
    parse_key,
    read_checksum_file,
    read_manifest,
    restore_filestore,
    sync_filestore,
    verify_extracted,
    write_backup,
    write_checksum_file,
)
from odoo.addons.order_management.tools.backup_offsite import (
    OffsiteError,
    copy_backup,
    parse_target,
    verify_copy,
)
from odoo.addons.order_management.tools.key_files import (
    generate_key,
    write_key_file,
)


def encrypt(data, key, chunk_size):
    raw = io.BytesIO()
    writer = EncryptingWriter(raw, key, chunk_size)
    writer.write(data)
    writer.close()
    return raw.getvalue()


def decrypt(data, key):
    return DecryptingReader(io.BytesIO(data), key).read()


class TestBackupEncryption(TestCase):
    """The chunked AES-GCM stream, without any database."""

    def setUp(self):
        super().setUp()
        self.key = parse_key(generate_key())
        self.data = os.urandom(10_000)

    def test_round_trip_over_many_chunks(self):
        """What is written comes back whole, whatever the chunk size."""
        for chunk_size in (1, 64, 4096, 10_000, 20_000):
            with self.subTest(chunk_size=chunk_size):
                sealed = encrypt(self.data, self.key, chunk_size)
                self.assertNotIn(self.data[:64], sealed)
                self.assertEqual(decrypt(sealed, self.key), self.data)
        self.assertEqual(decrypt(encrypt(b"", self.key, 64), self.key), b"")

    def test_wrong_key_is_told_before_decrypting(self):
        """Another key is reported as such, not as a damaged file."""
        sealed = encrypt(self.data, self.key, 1024)
        other = parse_key(generate_key())
        with self.assertRaises(WrongKeyError):
            DecryptingReader(io.BytesIO(sealed), other)

    def test_any_change_to_the_file_is_caught(self):
        """A flipped byte, a cut, an extra chunk or a swap never decrypt."""
        chunk = 1024
        sealed = encrypt(self.data, self.key, chunk)
        header = len(sealed) - (len(self.data) + 16 * 10)
        sealed_chunk = chunk + 16
        flipped = bytearray(sealed)
        flipped[header + 3000] ^= 1
        first, second = (
            sealed[header : header + sealed_chunk],
            sealed[header + sealed_chunk : header + 2 * sealed_chunk],
        )
        swapped = sealed[:header] + second + first + sealed[header + 2 * sealed_chunk :]
        cases = {
            "flipped byte": bytes(flipped),
            "cut at a chunk boundary": sealed[: header + 3 * sealed_chunk],
            "cut inside a chunk": sealed[:-5],
            "data appended": sealed + sealed[header : header + sealed_chunk],
            "chunks swapped": swapped,
            "header only": sealed[:header],
            "not a backup": b"PK\x03\x04" + sealed[4:],
        }
        for name, damaged in cases.items():
            with self.subTest(name), self.assertRaises(CorruptBackupError):
                decrypt(damaged, self.key)


class TestBackupKey(TestCase):
    """Where the key comes from, and what a key file must look like."""

    def test_key_from_the_environment_or_a_private_file(self):
        """The variable wins; a key file must be readable by its owner only."""
        with tempfile.TemporaryDirectory() as tmp:
            path = write_key_file(Path(tmp, "backup.key"))
            self.assertEqual(path.stat().st_mode & 0o777, 0o600)
            key = load_key(path, environ={})
            self.assertEqual(len(key), 32)

            other = generate_key()
            self.assertEqual(load_key(path, {KEY_ENV: other}), parse_key(other))

            with self.assertRaises(FileExistsError):
                write_key_file(path)
            path.chmod(0o644)
            with self.assertRaisesRegex(BackupError, "open to other users"):
                load_key(path, environ={})
            with self.assertRaisesRegex(BackupError, "cannot read"):
                load_key(Path(tmp, "missing.key"), environ={})
        with self.assertRaisesRegex(BackupError, "no backup key"):
            load_key(None, environ={})
        for bad in ("", "short", "é" * 44, generate_key()[:-4]):
            with self.subTest(bad=bad), self.assertRaises(BackupError):
                parse_key(bad)


class TestBackupArchive(TestCase):
    """The dump, the filestore and the manifest in one encrypted file."""

    def setUp(self):
        super().setUp()
        tmp = tempfile.TemporaryDirectory()
        self.addCleanup(tmp.cleanup)
        self.tmp = Path(tmp.name)
        self.key = parse_key(generate_key())
        self.dump = self.tmp / "source.dump"
        self.dump.write_bytes(os.urandom(50_000))
        self.filestore = self.tmp / "filestore"
        (self.filestore / "ab").mkdir(parents=True)
        (self.filestore / "ab" / "ab12").write_bytes(b"attachment one")
        (self.filestore / "cd").mkdir()
        (self.filestore / "cd" / "cd34").write_bytes(os.urandom(3000))
        self.path = self.tmp / "db.ombackup"
        self.manifest = write_backup(
            self.path,
            self.key,
            self.dump,
            self.filestore,
            {"database": "db", "row_counts": {"sale_order": 3}},
            chunk_size=4096,
        )

    def test_round_trip_with_checksums(self):
        """Every file comes back identical, listed with its checksum."""
        self.assertEqual(
            sorted(self.manifest["files"]),
            ["database.dump", "filestore/ab/ab12", "filestore/cd/cd34"],
        )
        self.assertEqual(
            self.manifest["files"]["database.dump"]["sha256"], file_sha256(self.dump)
        )
        self.assertEqual(read_manifest(self.path, self.key), self.manifest)

        target = self.tmp / "out"
        target.mkdir()
        self.assertEqual(extract_backup(self.path, self.key, target), self.manifest)
        self.assertEqual(
            (target / "database.dump").read_bytes(), self.dump.read_bytes()
        )
        self.assertEqual((target / "filestore/ab/ab12").read_bytes(), b"attachment one")
        self.assertFalse(self.path.with_name("db.ombackup.part").exists())

        write_checksum_file(self.path, file_sha256(self.path))
        self.assertEqual(read_checksum_file(self.path), file_sha256(self.path))
        self.assertIn("db.ombackup", checksum_path(self.path).read_text())

    def test_a_damaged_or_foreign_file_extracts_nothing_usable(self):
        """A wrong key writes nothing; a damaged file raises, never returns."""
        target = self.tmp / "wrong-key"
        target.mkdir()
        with self.assertRaises(WrongKeyError):
            extract_backup(self.path, parse_key(generate_key()), target)
        self.assertEqual(list(target.iterdir()), [])

        data = bytearray(self.path.read_bytes())
        data[len(data) // 2] ^= 0x40
        self.path.write_bytes(bytes(data))
        target = self.tmp / "damaged"
        target.mkdir()
        with self.assertRaises(CorruptBackupError):
            extract_backup(self.path, self.key, target)

    def test_manifest_mismatch_is_reported(self):
        """A file that differs from the manifest's checksum is named."""
        manifest = dict(self.manifest)
        manifest["files"] = dict(manifest["files"])
        manifest["files"]["filestore/cd/cd34"] = {"size": 1, "sha256": "0" * 64}
        source = self.tmp / "tampered"
        source.mkdir()
        extract_backup(self.path, self.key, source)
        (source / "manifest.json").write_text(json.dumps(manifest))
        with self.assertRaisesRegex(CorruptBackupError, "cd34 does not match"):
            verify_extracted(source)
        (source / "filestore/extra").write_bytes(b"x")
        with self.assertRaisesRegex(CorruptBackupError, "extra is in the backup"):
            verify_extracted(source)


class TestIncrementalFilestore(TestCase):
    """The filestore copied file by file, only what is new, encrypted."""

    def test_only_new_files_are_copied_and_restored_checked(self):
        """A second run copies only the file added since the first; the copy
        restores identical, and a file that changed is named."""
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            key = parse_key(generate_key())
            filestore = tmp / "filestore"

            def add(content):
                sha = hashlib.sha1(content, usedforsecurity=False).hexdigest()
                path = filestore / sha[:2] / sha
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)
                return f"{sha[:2]}/{sha}"

            first = [add(os.urandom(2000)), add(b"invoice")]
            (filestore / "checklist" / "ab").mkdir(parents=True)
            (filestore / "checklist" / "ab" / "ab12").write_bytes(b"")
            copy = tmp / "copy"
            self.assertEqual(sync_filestore(filestore, copy, key), (2, 0))
            self.assertNotIn(b"invoice", (copy / f"{first[1]}.enc").read_bytes())
            new = add(b"delivery note")
            self.assertEqual(sync_filestore(filestore, copy, key), (1, 2))
            self.assertEqual(sync_filestore(filestore, copy, key), (0, 3))

            restored = tmp / "restored"
            self.assertEqual(restore_filestore(copy, key, restored), 3)
            for name in [*first, new]:
                self.assertEqual(
                    (restored / name).read_bytes(), (filestore / name).read_bytes()
                )
            self.assertFalse((restored / "checklist").exists())

            # A copy made from another file under the same name.
            other = tmp / "other"
            (other / new.split("/")[0]).mkdir(parents=True)
            (other / new).write_bytes(b"forged note")
            (copy / f"{new}.enc").unlink()
            sync_filestore(other, copy, key)
            with self.assertRaisesRegex(CorruptBackupError, "does not match its name"):
                restore_filestore(copy, key, tmp / "again")
            with self.assertRaises(WrongKeyError):
                restore_filestore(copy, parse_key(generate_key()), tmp / "wrong")


class TestOffsiteFolder(TestCase):
    """Off-site copies to another folder, read back before they count."""

    def test_copy_is_verified_and_later_damage_reported(self):
        """The copy matches; once changed, the verification says so."""
        with tempfile.TemporaryDirectory() as tmp:
            backup = Path(tmp, "db_1.ombackup")
            backup.write_bytes(os.urandom(5000))
            checksum = file_sha256(backup)
            write_checksum_file(backup, checksum)
            target = Path(tmp, "offsite")

            copy = Path(copy_backup(backup, checksum, str(target), "db"))
            self.assertEqual(copy, target / "db" / "db_1.ombackup")
            self.assertEqual(file_sha256(copy), checksum)
            self.assertEqual(read_checksum_file(copy), checksum)
            verify_copy(backup.name, checksum, str(target), "db")

            copy.write_bytes(b"changed" + copy.read_bytes()[7:])
            with self.assertRaisesRegex(OffsiteError, "has checksum"):
                verify_copy(backup.name, checksum, str(target), "db")
            copy.unlink()
            with self.assertRaisesRegex(OffsiteError, "cannot be read"):
                verify_copy(backup.name, checksum, str(target), "db")

    def test_targets(self):
        """Folders and SFTP URLs are understood, anything else refused."""
        self.assertEqual(parse_target("/mnt/copy"), ("dir", Path("/mnt/copy")))
        self.assertEqual(parse_target("file:///mnt/copy"), ("dir", Path("/mnt/copy")))
        self.assertEqual(
            parse_target("sftp://backup@127.0.0.1:2222/srv/copies"),
            (
                "sftp",
                {
                    "user": "backup",
                    "host": "127.0.0.1",
                    "port": 2222,
                    "path": "/srv/copies",
                },
            ),
        )
        self.assertEqual(parse_target("sftp://b@host/x")[1]["port"], 22)
        # A user or host starting with "-" would be an option of sftp.
        dashed = ("sftp://-oProxyCommand=touch%20x@host/x", "sftp://b@-host/x")
        for bad in ("", "copies", "http://host/x", "sftp://host/x", *dashed):
            with self.subTest(bad=bad), self.assertRaises(OffsiteError):
                parse_target(bad)
