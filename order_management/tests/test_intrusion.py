import json
import time
from datetime import timedelta
from unittest.mock import patch

from freezegun import freeze_time

from odoo import fields, http
from odoo.exceptions import AccessDenied, ValidationError
from odoo.fields import Command
from odoo.tests import Form, HttpCase, new_test_user, tagged

from ..models.ir_http import LAST_ACTIVITY_KEY

USER_AGENT = "OrderManagementTest/1.0 (intrusion)"
PASSWORD = "om-int-secret-1"


@tagged("post_install", "-at_install")
class TestIntrusionSignals(HttpCase):
    """Lockouts per login and per address with alerts, the portal rate limit,
    idle sessions: each in the audit log."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = new_test_user(
            cls.env,
            login="om_int_login",
            email="om_int_login@example.com",
            password=PASSWORD,
            groups="base.group_user,order_management.group_order_clerk",
        )
        cls.admin = new_test_user(
            cls.env,
            login="om_int_admin",
            email="om_int_admin@example.com",
            groups="base.group_user,base.group_system",
        )
        cls.channel = cls.env.ref("order_management.channel_security_alerts")
        cls.params = cls.env["ir.config_parameter"].sudo()

    # ------------------------------------------------------------ helpers --

    def _events(self, since_id=0, **where):
        domain = [("id", ">", since_id)] + [(k, "=", v) for k, v in where.items()]
        return self.env["order.audit.event"].search(domain, order="id")

    def _last_event_id(self):
        return self.env["order.audit.event"].search([], limit=1, order="id desc").id

    def _alerts(self):
        # Posted through a cursor of their own: not in this cache yet.
        self.env.invalidate_all()
        return self.channel.message_ids.filtered(lambda m: m.message_type == "comment")

    def _from_address(self, address):
        """Serve the logins as if they came from ``address``."""
        return patch.object(
            type(self.env["order.audit.event"]),
            "_request_origin",
            return_value=(address, USER_AGENT),
        )

    def _authenticate(self, login, password):
        """Log in as Odoo's RPC does, without an HTTP request."""
        self.env.flush_all()
        return self.registry["res.users"].authenticate(
            self.env.cr.dbname,
            {"type": "password", "login": login, "password": password},
            {"interactive": False},
        )

    def _refused(self, login, password):
        """Try to log in, expecting a refusal; return why.

        Not assertRaises: it rolls back a savepoint around the call, and with
        it the events written in their own transaction (here the test's).
        """
        try:
            self._authenticate(login, password)
        except AccessDenied as error:
            return str(error)
        return self.fail(f"{login} was let in")

    # ------------------------------------------------------------ lockout --

    def test_01_login_burst_locks_alerts_once_then_unlocks(self):
        """5 failures lock the login: one lock event, one alert; it lifts."""
        self.assertIn(self.admin.partner_id, self.channel.channel_member_ids.partner_id)
        alerts_before = self._alerts()
        since = self._last_event_id()

        with freeze_time(fields.Datetime.now()) as frozen:
            for _attempt in range(5):
                self._refused("om_int_login", "wrong")
            frozen.tick(timedelta(minutes=1))
            for _attempt in range(2):
                message = self._refused("om_int_login", PASSWORD)
                self.assertIn("Too many failed logins for om_int_login", message)

            locks = self._events(since, event="account_locked")
            self.assertEqual(len(locks), 1)
            self.assertEqual(
                (locks.login, locks.user_id, locks.stage),
                ("om_int_login", self.user, "access"),
            )
            self.assertIn("5 failed logins for om_int_login within 15", locks.note)
            alerts = self._alerts() - alerts_before
            self.assertEqual(len(alerts), 1, "one alert per lock, not per try")
            self.assertIn("om_int_login within 15 minutes: the login is", alerts.body)

            # 15 minutes after the failures, the password is let in again.
            frozen.tick(timedelta(minutes=14, seconds=1))
            auth = self._authenticate("om_int_login", PASSWORD)

        self.assertEqual(auth["uid"], self.user.id)
        self.assertEqual(
            self._events(since, login="om_int_login").mapped("event"),
            ["login_failed"] * 5
            + ["account_locked", "login_locked", "login_locked", "login"],
        )

    def test_02_address_burst_across_logins_locks_alerts_then_unlocks(self):
        """Failures for several logins from one address lock the address for
        its lock time, whatever the login; other addresses are let in."""
        self.params.set_param("order_management.address_lockout_attempts", "4")
        self.params.set_param("order_management.address_lockout_duration", "30")
        alerts_before = self._alerts()
        since = self._last_event_id()

        with freeze_time(fields.Datetime.now()) as frozen:
            with self._from_address("203.0.113.7"):
                for login in ("om_int_login", "om_int_admin", "nobody", "root"):
                    self._refused(login, "wrong")
                message = self._refused("om_int_login", PASSWORD)
            self.assertIn("Too many failed logins from your address", message)
            self.assertIn("30 minute(s)", message)

            lock = self._events(since, event="address_locked")
            self.assertEqual(len(lock), 1)
            self.assertEqual(
                (lock.ip_address, lock.user_agent, lock.login),
                ("203.0.113.7", USER_AGENT, "root"),
            )
            self.assertIn("4 failed logins for 4 login(s) from 203.0.113.7", lock.note)
            refusal = self._events(since, event="login_locked")
            self.assertEqual(
                (refusal.login, refusal.ip_address, refusal.user_id),
                ("om_int_login", "203.0.113.7", self.user),
            )
            alerts = self._alerts() - alerts_before
            self.assertEqual(len(alerts), 1)
            self.assertIn("203.0.113.7", alerts.body)

            # Only the address is locked: the same login elsewhere is let in.
            with self._from_address("203.0.113.8"):
                self._authenticate("om_int_login", PASSWORD)

            with self._from_address("203.0.113.7"):
                frozen.tick(timedelta(minutes=29))
                self.assertIn(
                    "from your address", self._refused("om_int_login", PASSWORD)
                )
                frozen.tick(timedelta(minutes=1, seconds=1))
                auth = self._authenticate("om_int_login", PASSWORD)
                self.assertEqual(auth["uid"], self.user.id)

                # The failures that locked it once do not lock it again.
                self._refused("nobody", "wrong")
                self._authenticate("om_int_login", PASSWORD)

        self.assertEqual(len(self._events(since, event="address_locked")), 1)
        self.assertEqual(len(self._alerts() - alerts_before), 1)
        self.assertFalse(self._events(since, event="account_locked"))

    def test_03_address_lock_over_http(self):
        """Through the login page: the address and browser are those of the
        request, and the page says why the login is refused."""
        self.params.set_param("order_management.address_lockout_attempts", "3")
        # Odoo's own cooldown per address lives in the registry: leave none.
        self.addCleanup(
            lambda: getattr(self.registry, "_login_failures", {}).pop("127.0.0.1", 0)
        )
        since = self._last_event_id()

        for login in ("om_int_login", "nobody", "om_int_admin"):
            response = self._post_login(login, "wrong")
            self.assertIn("Wrong login/password", response.text)
        response = self._post_login("om_int_login", PASSWORD)

        self.assertEqual(response.status_code, 200)
        self.assertIn("Too many failed logins from your address", response.text)
        lock = self._events(since, event="address_locked")
        self.assertEqual((lock.ip_address, lock.user_agent), ("127.0.0.1", USER_AGENT))
        self.assertEqual(
            self._events(since, event="login_locked").ip_address, "127.0.0.1"
        )

    def _post_login(self, login, password):
        page = self.url_open("/web/login", headers={"User-Agent": USER_AGENT})
        csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
        return self.url_open(
            "/web/login",
            data={"login": login, "password": password, "csrf_token": csrf},
            headers={"User-Agent": USER_AGENT},
            allow_redirects=False,
        )

    # ------------------------------------------------------- idle session --

    def _idle_session(self, minutes):
        """Log in and make the session's last request ``minutes`` old."""
        self.authenticate("om_int_login", PASSWORD)
        self.session[LAST_ACTIVITY_KEY] = time.time() - minutes * 60
        http.root.session_store.save(self.session)
        return self.session

    def _json_call(self):
        return self.url_open(
            "/web/dataset/call_kw/res.partner/search_count",
            data=json.dumps(
                {
                    "jsonrpc": "2.0",
                    "method": "call",
                    "params": {
                        "model": "res.partner",
                        "method": "search_count",
                        "args": [[]],
                        "kwargs": {},
                    },
                }
            ),
            headers={"Content-Type": "application/json", "User-Agent": USER_AGENT},
        ).json()

    def test_04_idle_session_expires_to_the_login_page(self):
        """A page asked on a session idle for 31 minutes leads to the login;
        the expiry is logged once, with address and browser."""
        self._idle_session(31)
        since = self._last_event_id()

        response = self.url_open(
            "/odoo", headers={"User-Agent": USER_AGENT}, allow_redirects=False
        )

        self.assertEqual(response.status_code, 303)
        self.assertIn("/web/login", response.headers["Location"])
        expired = self._events(since, event="session_expired")
        self.assertEqual(
            (expired.login, expired.user_id, expired.ip_address, expired.user_agent),
            ("om_int_login", self.user, "127.0.0.1", USER_AGENT),
        )
        self.assertIn("after 31 minutes", expired.note)

        # The session stays logged out: the next request expires nothing.
        response = self.url_open("/odoo", allow_redirects=False)
        self.assertIn("/web/login", response.headers["Location"])
        self.assertEqual(len(self._events(since, event="session_expired")), 1)

    def test_05_idle_session_expires_for_json_calls(self):
        """A JSON call on an idle session answers that the session expired."""
        self._idle_session(45)
        since = self._last_event_id()

        error = self._json_call()["error"]

        self.assertEqual(error["code"], 100)
        self.assertEqual(error["data"]["name"], "odoo.http.SessionExpiredException")
        self.assertEqual(len(self._events(since, event="session_expired")), 1)

    def test_06_active_session_is_kept_and_its_activity_noted(self):
        """A session idle for less than the limit goes on and starts again;
        a limit of 0 keeps any session."""
        session = self._idle_session(20)
        before = session[LAST_ACTIVITY_KEY]

        self.assertGreater(self._json_call()["result"], 0)
        stored = http.root.session_store.get(session.sid)
        self.assertGreater(stored[LAST_ACTIVITY_KEY], before + 19 * 60)

        self.params.set_param("order_management.session_idle_minutes", "0")
        since = self._last_event_id()
        self._idle_session(600)
        self.assertIn("result", self._json_call())
        self.assertFalse(self._events(since, event="session_expired"))

    # -------------------------------------------------------------- settings --

    def test_07_limits_are_settings(self):
        """An administrator sets every limit in Settings; none is negative."""
        form = Form(self.env["res.config.settings"].with_user(self.admin))
        form.order_address_lockout_attempts = 7
        form.order_address_lockout_duration = 45
        form.order_portal_rate_limit = 3
        form.order_session_idle_minutes = 15
        form.save().execute()

        self.assertEqual(
            [
                self.params.get_param(f"order_management.{key}")
                for key in (
                    "address_lockout_attempts",
                    "address_lockout_duration",
                    "portal_rate_limit",
                    "session_idle_minutes",
                )
            ],
            ["7", "45", "3", "15"],
        )
        self.assertEqual(self.env["res.users"]._address_lockout_settings(), (7, 15, 45))

        form = Form(self.env["res.config.settings"].with_user(self.admin))
        form.order_portal_rate_minutes = -1
        with self.assertRaisesRegex(
            ValidationError, "Portal Requests Count For .Minutes. cannot be negative"
        ):
            form.save()


@tagged("post_install", "-at_install")
class TestPortalRateLimit(HttpCase):
    """Portal writes per customer beyond the limit are refused and logged."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.clerk = new_test_user(
            cls.env,
            login="om_int_clerk",
            email="om_int_clerk@example.com",
            groups="base.group_user,order_management.group_order_clerk",
        )
        cls.reviewer = new_test_user(
            cls.env,
            login="om_int_reviewer",
            email="om_int_reviewer@example.com",
            groups="base.group_user,order_management.group_order_reviewer",
        )
        cls.company = cls.env["res.partner"].create(
            {
                "name": "Dock Road Trading",
                "is_company": True,
                "street": "3 Dock Road",
                "city": "Xiamen",
                "country_id": cls.env.ref("base.cn").id,
            }
        )
        cls.customer = new_test_user(
            cls.env,
            login="om_int_portal",
            password="om_int_portal_pw",
            groups="base.group_portal",
        )
        cls.customer.partner_id.parent_id = cls.company
        cls.colleague = cls.env["res.partner"].create(
            {"name": "Li Na", "parent_id": cls.company.id}
        )
        cls.product = cls.env["product.product"].create(
            {"name": "Pallet wrap", "type": "consu", "list_price": 20.0}
        )
        cls.order = cls._order(cls.customer.partner_id)
        cls.order.with_user(cls.reviewer).action_approve()
        cls.order.with_user(cls.clerk).action_confirm()
        cls.quotation = cls._order(cls.customer.partner_id, quantity=3)
        cls.env["ir.config_parameter"].sudo().set_param(
            "order_management.portal_rate_limit", "2"
        )

    @classmethod
    def _order(cls, partner, quantity=1):
        return (
            cls.env["sale.order"]
            .with_user(cls.clerk)
            .create(
                {
                    "partner_id": partner.id,
                    "commitment_date": fields.Datetime.now() + timedelta(days=7),
                    "order_line": [
                        Command.create(
                            {"product_id": cls.product.id, "product_uom_qty": quantity}
                        )
                    ],
                }
            )
        )

    def _report(self, description):
        return self.url_open(
            f"/my/orders/{self.order.id}/incident",
            data={
                "csrf_token": http.Request.csrf_token(self),
                "access_token": self.order.sudo()._portal_ensure_token(),
                "incident_type": "damage",
                "description": description,
            },
            headers={"User-Agent": USER_AGENT},
            allow_redirects=False,
        )

    def _sign(self):
        return self.url_open(
            f"/my/orders/{self.quotation.id}/accept",
            data=json.dumps(
                {
                    "jsonrpc": "2.0",
                    "method": "call",
                    "params": {
                        "access_token": self.quotation.sudo()._portal_ensure_token(),
                        "name": "Wei Zhang",
                    },
                }
            ),
            headers={"Content-Type": "application/json"},
        ).json()["result"]

    def test_01_excess_reports_and_signatures_are_refused(self):
        """Two writes pass; the third report gets 429 and the signature
        dialog an error; both refusals are logged with the customer."""
        self.authenticate("om_int_portal", "om_int_portal_pw")
        since = self.env["order.audit.event"].search([], limit=1).id

        for description in ("The wrap is torn.", "Two pallets missing."):
            self.assertEqual(self._report(description).status_code, 303)
        refused = self._report("A third report.")

        self.assertEqual(refused.status_code, 429)
        self.assertIn("Too many requests from your account", refused.text)
        self.assertEqual(refused.headers["Retry-After"], "600")
        self.assertEqual(
            set(self.order.incident_ids.mapped("description")),
            {"Two pallets missing.", "The wrap is torn."},
        )
        self.assertIn("Too many requests from your account", self._sign()["error"])

        events = self.env["order.audit.event"].search(
            [("id", ">", since), ("event", "=", "portal_rate_limited")], order="id"
        )
        self.assertEqual(events.order_id, self.order | self.quotation)
        self.assertEqual(set(events.mapped("res_id")), {self.company.id})
        self.assertEqual(set(events.mapped("login")), {"om_int_portal"})
        self.assertEqual(events[0].ip_address, "127.0.0.1")
        self.assertEqual(events[0].user_agent, USER_AGENT)
        self.assertIn("Incident report refused: Dock Road Trading", events[0].note)
        self.assertIn("Signature refused", events[1].note)

    def test_02_signature_within_the_limit_goes_to_odoo(self):
        """Below the limit the signature route is Odoo's own."""
        self.authenticate("om_int_portal", "om_int_portal_pw")
        self.assertEqual(self._sign(), {"error": "Signature is missing."})

    def test_03_the_company_shares_the_limit_which_frees_up_in_time(self):
        """Contacts of one company count together; the window moves on."""
        Requests = self.env["order.portal.request"]
        colleague_order = self._order(self.colleague, quantity=5)
        with freeze_time(fields.Datetime.now()) as frozen:
            self.assertIsNone(Requests._admit(self.order, "incident"))
            self.assertIsNone(Requests._admit(colleague_order, "sign"))
            refusal = Requests._admit(colleague_order, "decline")
            self.assertIn("try again in 10 minute(s)", refusal)

            frozen.tick(timedelta(minutes=10, seconds=1))
            self.assertIsNone(Requests._admit(colleague_order, "decline"))

        self.assertEqual(
            Requests.search([("partner_id", "=", self.company.id)]).mapped("action"),
            ["decline", "sign", "incident"],
        )
