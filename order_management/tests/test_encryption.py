"""Encryption in transit: the TLS proxy of ``./om run`` and SSL to PostgreSQL."""

import os
import re
import socket
import tempfile
from pathlib import Path
from unittest.mock import patch

import requests
import websocket

from odoo.sql_db import db_connect
from odoo.tests import HttpCase, TransactionCase, new_test_user, tagged
from odoo.tools import config

from odoo.addons.order_management.tools import tls_proxy

REQUEST_TIMEOUT = 10
PASSWORD = "om-tls-secret-1"


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@tagged("post_install", "-at_install")
class TestTlsProxy(HttpCase):
    """The nginx configuration ``./om run`` ships, started on free ports in
    front of the test HTTP server, with a certificate made as ``./om`` makes
    its own."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        tmp = tempfile.TemporaryDirectory(prefix="order-tls-test-")
        cls.addClassCleanup(tmp.cleanup)
        folder = Path(tmp.name)
        # Run as root, nginx's workers are another account: let them in.
        os.chmod(folder, 0o755)
        cls.cert, key = folder / "cert.pem", folder / "key.pem"
        tls_proxy.make_self_signed_certificate(cls.cert, key)

        cls.https_port, cls.http_port_plain = free_port(), free_port()
        tls_proxy.start(
            folder,
            https_port=cls.https_port,
            http_port=cls.http_port_plain,
            odoo_port=cls.http_port(),
            cert=cls.cert,
            key=key,
        )
        cls.addClassCleanup(tls_proxy.stop, folder)

    def setUp(self):
        super().setUp()
        # As ./om run configures Odoo behind the proxy.
        patcher = patch.dict(config.options, {"proxy_mode": True})
        patcher.start()
        self.addCleanup(patcher.stop)

    def https_url(self, path):
        return f"https://127.0.0.1:{self.https_port}{path}"

    def test_https_answers_with_hsts_and_secure_session_cookie(self):
        response = requests.get(
            self.https_url("/web/login"), verify=str(self.cert), timeout=REQUEST_TIMEOUT
        )

        self.assertEqual(response.status_code, 200)
        self.assertIn('name="csrf_token"', response.text)
        self.assertRegex(
            response.headers["Strict-Transport-Security"], r"^max-age=\d{7,}$"
        )
        session = next(c for c in response.cookies if c.name == "session_id")
        self.assertTrue(session.secure, response.headers["Set-Cookie"])
        self.assertIn("HttpOnly", response.headers["Set-Cookie"])

    def test_the_certificate_is_checked(self):
        # The client trusts only the proxy's certificate: it is the one served.
        with self.assertRaises(requests.exceptions.SSLError):
            requests.get(self.https_url("/web/login"), timeout=REQUEST_TIMEOUT)

    def test_plain_http_is_redirected_to_https(self):
        url = f"http://127.0.0.1:{self.http_port_plain}/web/login?redirect=%2Fodoo"
        response = requests.get(url, allow_redirects=False, timeout=REQUEST_TIMEOUT)

        self.assertEqual(response.status_code, 301)
        self.assertEqual(
            response.headers["Location"], self.https_url("/web/login?redirect=%2Fodoo")
        )
        # Nothing of Odoo's is served in the clear.
        self.assertNotIn("Set-Cookie", response.headers)
        self.assertNotIn("csrf_token", response.text)

    def test_odoo_sees_https_through_the_forwarded_headers(self):
        # An administrator's login records the URL Odoo was reached at: in
        # proxy mode, the proxy's scheme, host and port.
        self.env["ir.config_parameter"].set_param("web.base.url", "http://before")
        new_test_user(
            self.env,
            login="om_tls_admin",
            email="om_tls_admin@example.com",
            password=PASSWORD,
            groups="base.group_user,base.group_system",
        )
        browser = requests.Session()
        page = browser.get(
            self.https_url("/web/login"), verify=str(self.cert), timeout=REQUEST_TIMEOUT
        )
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)

        response = browser.post(
            self.https_url("/web/login"),
            data={"login": "om_tls_admin", "password": PASSWORD, "csrf_token": csrf},
            verify=str(self.cert),
            allow_redirects=False,
            timeout=REQUEST_TIMEOUT,
        )

        self.assertEqual(response.status_code, 303, response.text[:500])
        self.assertEqual(
            self.env["ir.config_parameter"].get_param("web.base.url"),
            f"https://127.0.0.1:{self.https_port}",
        )
        # The session of the logged-in user is Secure too.
        session = next(c for c in response.cookies if c.name == "session_id")
        self.assertTrue(session.secure)

    def test_websocket_is_upgraded_through_the_proxy(self):
        connection = websocket.create_connection(
            f"wss://127.0.0.1:{self.https_port}/websocket",
            sslopt={"ca_certs": str(self.cert)},
            origin=self.https_url(""),
            timeout=REQUEST_TIMEOUT,
        )
        try:
            self.assertEqual(connection.getstatus(), 101)
        finally:
            connection.close()


@tagged("post_install", "-at_install")
class TestDatabaseSsl(TransactionCase):
    """Odoo's connections to PostgreSQL are encrypted. ``./om`` (and so CI)
    connects Odoo to its cluster over 127.0.0.1 with SSL required; a server
    without SSL fails these tests."""

    def assert_ssl(self, cr):
        cr.execute("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        encrypted, version = cr.fetchone()
        self.assertTrue(
            encrypted,
            "Odoo's database connection is not encrypted: the server needs SSL "
            "and Odoo a TCP connection (db_host) with db_sslmode=require",
        )
        self.assertIn(version, ("TLSv1.2", "TLSv1.3"))

    def test_the_test_cursor_is_encrypted(self):
        self.assert_ssl(self.env.cr)

    def test_a_new_connection_of_odoo_is_encrypted(self):
        with db_connect(self.env.cr.dbname).cursor() as cr:
            self.assert_ssl(cr)
