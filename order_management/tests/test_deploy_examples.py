"""The scaled-out deployment of docs/deploy: valid, and its parts agree."""

import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from unittest import TestCase

import odoo
from odoo.tools.config import configmanager

DEPLOY = Path(__file__).resolve().parent.parent.parent / "docs" / "deploy"
SERVERS = ["odoo-1.conf", "odoo-2.conf"]
NGINX = DEPLOY / "nginx-odoo.conf"

# What both servers must share to serve the same users from the same data.
SHARED = [
    "db_host",
    "db_port",
    "db_user",
    "db_name",
    "dbfilter",
    "db_replica_host",
    "db_replica_port",
    "data_dir",
    "addons_path",
    "gevent_port",
    "http_port",
    "limit_time_real",
]


def odoo_options(path):
    """Read ``path`` with Odoo's own parser, leaving the running one alone.

    A parser fills the module-wide addons paths as it parses: they are put
    back afterwards.
    """
    saved = odoo.conf.addons_paths, odoo.conf.server_wide_modules
    try:
        parsed = configmanager()
        parsed._parse_config(["-c", str(path)])
    finally:
        odoo.conf.addons_paths, odoo.conf.server_wide_modules = saved
    return parsed


def upstream_servers(text, name):
    """The ``host:port`` of each server of nginx's upstream block ``name``."""
    pattern = r"upstream\s+" + re.escape(name) + r"\s*\{(.*?)\}"
    block = re.search(pattern, text, re.S)
    return re.findall(r"^\s*server\s+([\w.:]+)", block.group(1), re.M)


def nginx_test(site):
    """Run ``nginx -t`` on a main configuration that includes ``site``.

    Everything nginx would write goes to a temporary folder.

    :return: (exit status, what nginx said)
    """
    nginx = shutil.which("nginx")
    with tempfile.TemporaryDirectory() as folder:
        main = Path(folder) / "nginx.conf"
        temp_paths = "\n".join(
            f"    {kind}_temp_path {folder}/{kind};"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        main.write_text(
            f"pid {folder}/nginx.pid;\n"
            f"error_log {folder}/error.log;\n"
            "events {}\n"
            "http {\n"
            f"{temp_paths}\n"
            "    access_log off;\n"
            f"    include {site};\n"
            "}\n",
            encoding="utf-8",
        )
        done = subprocess.run(
            [nginx, "-t", "-p", folder, "-e", f"{folder}/error.log", "-c", str(main)],
            capture_output=True,
            text=True,
            check=False,
        )
    return done.returncode, done.stderr


class TestDeployExamples(TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.servers = [odoo_options(DEPLOY / name) for name in SERVERS]

    def test_each_server_runs_workers_behind_the_proxy(self):
        for name, options in zip(SERVERS, self.servers, strict=True):
            with self.subTest(server=name):
                self.assertGreaterEqual(options["workers"], 2)
                self.assertTrue(options["proxy_mode"])
                self.assertFalse(options["list_db"])
                self.assertNotEqual(options["gevent_port"], options["http_port"])
                self.assertNotIn(options["http_interface"], ("", "0.0.0.0"))
                self.assertLess(
                    options["limit_memory_soft"], options["limit_memory_hard"]
                )

    def test_servers_share_database_replica_and_data(self):
        first, second = self.servers
        for key in SHARED:
            with self.subTest(option=key):
                self.assertEqual(first[key], second[key])
        self.assertTrue(first["db_replica_host"])
        self.assertNotEqual(first["db_replica_host"], first["db_host"])
        self.assertIsInstance(first["db_replica_port"], int)
        self.assertNotEqual(first["http_interface"], second["http_interface"])

    def test_one_server_runs_the_scheduled_actions(self):
        crons = [options["max_cron_threads"] for options in self.servers]
        self.assertEqual(sorted(crons), [0, 1])
        with_crons = self.servers[crons.index(1)]
        self.assertTrue(with_crons.get("order_backup_key_file"))

    def test_proxy_sends_to_the_servers_ports(self):
        text = NGINX.read_text(encoding="utf-8")
        web = {f"{o['http_interface']}:{o['http_port']}" for o in self.servers}
        live = {f"{o['http_interface']}:{o['gevent_port']}" for o in self.servers}
        self.assertEqual(sorted(upstream_servers(text, "odoo")), sorted(web))
        self.assertEqual(sorted(upstream_servers(text, "odoo_websocket")), sorted(live))
        # The proxy waits longer than a worker may take.
        read_timeout = int(re.search(r"proxy_read_timeout (\d+)s;", text).group(1))
        self.assertGreater(read_timeout, self.servers[0]["limit_time_real"])
        self.assertNotIn("sticky", text)
        self.assertNotIn("ip_hash", text)

    def test_nginx_accepts_the_proxy_configuration(self):
        self.assertTrue(shutil.which("nginx"), "nginx is missing: ./om installs it")
        status, said = nginx_test(NGINX)
        self.assertEqual(status, 0, said)
        self.assertIn("test is successful", said)

    def test_nginx_test_refuses_a_broken_configuration(self):
        self.assertTrue(shutil.which("nginx"), "nginx is missing: ./om installs it")
        with tempfile.TemporaryDirectory() as folder:
            broken = Path(folder) / "broken.conf"
            text = NGINX.read_text(encoding="utf-8")
            broken.write_text(text.replace("least_conn;", "least_conn", 1))
            status, said = nginx_test(broken)
        self.assertNotEqual(status, 0)
        self.assertIn("broken.conf", said)
