import getpass
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from odoo import fields
from odoo.tests import TransactionCase, new_test_user, tagged
from odoo.tools import mute_logger

from odoo.addons.order_management.tools.backup_files import (
    checksum_path,
    file_sha256,
    read_checksum_file,
    write_checksum_file,
)
from odoo.addons.order_management.tools.backup_offsite import (
    OffsiteError,
    copy_backup,
    remove_copy,
    verify_copy,
)

# How long sshd may take to listen.
START_TIMEOUT = 20


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def keygen(path):
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(path)],
        check=True,
    )
    return path


@tagged("post_install", "-at_install")
class TestBackupSftp(TransactionCase):
    """Off-site copies to a real OpenSSH server on 127.0.0.1, started for
    these tests on a free port with keys made in a temporary folder."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tmp = tempfile.TemporaryDirectory(prefix="order-sftp-test-")
        cls.addClassCleanup(tmp.cleanup)
        cls.tmp = Path(tmp.name)
        cls.port = free_port()
        cls.user = getpass.getuser()
        host_key = keygen(cls.tmp / "host_key")
        cls.client_key = keygen(cls.tmp / "client_key")
        shutil.copyfile(f"{cls.client_key}.pub", cls.tmp / "authorized_keys")
        host_public = Path(f"{host_key}.pub").read_text().split()
        cls.known_hosts = cls.tmp / "known_hosts"
        cls.known_hosts.write_text(
            f"[127.0.0.1]:{cls.port} {host_public[0]} {host_public[1]}\n"
        )
        config = cls.tmp / "sshd_config"
        config.write_text(
            f"ListenAddress 127.0.0.1\n"
            f"Port {cls.port}\n"
            f"HostKey {host_key}\n"
            f"PidFile {cls.tmp / 'sshd.pid'}\n"
            f"AuthorizedKeysFile {cls.tmp / 'authorized_keys'}\n"
            f"AllowUsers {cls.user}\n"
            "PasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\n"
            "PermitRootLogin prohibit-password\n"
            "StrictModes no\n"
            "UsePAM no\n"
            "Subsystem sftp internal-sftp\n"
        )
        if os.geteuid() == 0:
            # sshd's privilege separation needs it; tmpfs /run is empty at boot.
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        sshd = shutil.which("sshd") or "/usr/sbin/sshd"
        cls.server_log = open(cls.tmp / "sshd.log", "wb")
        cls.server = subprocess.Popen(
            [sshd, "-D", "-e", "-f", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=cls.server_log,
        )
        cls.addClassCleanup(cls.stop_server)
        cls.wait_for_server()

        cls.remote = cls.tmp / "remote"
        cls.target = f"sftp://{cls.user}@127.0.0.1:{cls.port}{cls.remote}"
        cls.backup_path = cls.tmp / "db_20250101.ombackup"
        cls.backup_path.write_bytes(os.urandom(300_000))
        cls.checksum = file_sha256(cls.backup_path)
        write_checksum_file(cls.backup_path, cls.checksum)

    @classmethod
    def stop_server(cls):
        cls.server.terminate()
        try:
            cls.server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            cls.server.kill()
            cls.server.wait()
        cls.server_log.close()

    @classmethod
    def wait_for_server(cls):
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if cls.server.poll() is not None:
                raise RuntimeError(
                    "sshd stopped: " + (cls.tmp / "sshd.log").read_text()[-2000:]
                )
            try:
                with socket.create_connection(("127.0.0.1", cls.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"sshd does not listen on 127.0.0.1:{cls.port}")

    def copy(self, known_hosts=None):
        return copy_backup(
            self.backup_path,
            self.checksum,
            self.target,
            "db",
            key_file=str(self.client_key),
            known_hosts=str(known_hosts or self.known_hosts),
        )

    def test_01_upload_is_read_back_and_damage_reported(self):
        """The upload matches and is checked; changed later, it is reported."""
        location = self.copy()
        copy = self.remote / "db" / self.backup_path.name
        self.assertEqual(
            location,
            f"sftp://{self.user}@127.0.0.1:{self.port}{copy}",
        )
        self.assertEqual(file_sha256(copy), self.checksum)
        self.assertEqual(read_checksum_file(copy), self.checksum)
        self.assertFalse(copy.with_name(copy.name + ".part").exists())
        verify = (
            self.backup_path.name,
            self.checksum,
            self.target,
            "db",
            str(self.client_key),
            str(self.known_hosts),
        )
        verify_copy(*verify)

        # A second upload replaces the first.
        self.copy()
        data = bytearray(copy.read_bytes())
        data[100_000] ^= 0xFF
        copy.write_bytes(bytes(data))
        with self.assertRaisesRegex(OffsiteError, "has checksum"):
            verify_copy(*verify)

        # Retention removes the copy and its checksum file.
        remove_copy(
            self.backup_path.name,
            self.target,
            "db",
            str(self.client_key),
            str(self.known_hosts),
        )
        self.assertFalse(copy.exists())
        self.assertFalse(checksum_path(copy).exists())

    def test_02_an_unknown_server_is_refused(self):
        """A server whose host key is not the known one gets nothing."""
        other = keygen(self.tmp / "other_host_key")
        public = Path(f"{other}.pub").read_text().split()
        known = self.tmp / "other_known_hosts"
        known.write_text(f"[127.0.0.1]:{self.port} {public[0]} {public[1]}\n")
        with self.assertRaisesRegex(OffsiteError, "(?i)host key verification failed"):
            self.copy(known_hosts=known)
        with self.assertRaisesRegex(OffsiteError, "no SSH key file"):
            copy_backup(self.backup_path, self.checksum, self.target, "db")

    @mute_logger("odoo.addons.order_management.models.order_backup")
    def test_03_backups_go_off_site_by_sftp(self):
        """With an SFTP target configured, a backup is uploaded and verified,
        and a remote copy that changed alerts the Order Managers."""
        manager = new_test_user(
            self.env,
            login="om_sftp_manager",
            email="om_sftp_manager@example.com",
            groups="base.group_user,order_management.group_order_manager",
        )
        params = self.env["ir.config_parameter"].sudo()
        params.set_param("order_management.backup_offsite", self.target)
        params.set_param("order_management.backup_sftp_key_file", str(self.client_key))
        params.set_param(
            "order_management.backup_sftp_known_hosts", str(self.known_hosts)
        )
        backup = self.env["order.backup"].create(
            {
                "name": self.backup_path.name,
                "database": "model",
                "state": "done",
                "started_at": fields.Datetime.now(),
                "file_path": str(self.backup_path),
                "checksum": self.checksum,
            }
        )
        backup._copy_offsite()
        self.assertEqual(backup.offsite_state, "done", backup.offsite_error)
        copy = self.remote / "model" / self.backup_path.name
        self.assertEqual(file_sha256(copy), self.checksum)

        copy.write_bytes(b"truncated")
        backup._verify_offsite()
        self.assertEqual(backup.offsite_state, "failed")
        self.assertIn("has checksum", backup.offsite_error)
        activity = self.env["mail.activity"].search(
            [
                ("res_model", "=", "order.backup"),
                ("res_id", "=", backup.id),
                ("user_id", "=", manager.id),
            ]
        )
        self.assertEqual(len(activity), 1)
