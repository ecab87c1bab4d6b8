import base64
import json
import re
import time
from datetime import timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import AccessDenied, UserError, ValidationError
from odoo.fields import Command
from odoo.tests import Form, HttpCase, new_test_user, tagged

from odoo.addons.auth_totp.models.totp import TOTP, hotp

from .common import OrderManagementCommon

USER_AGENT = "OrderManagementTest/1.0 (accounts)"
PASSWORD = "om-acc-secret-1"


@tagged("post_install", "-at_install")
class TestLoginAudit(HttpCase):
    """Logins, refused logins and logouts in the audit log; the lockout."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.user = new_test_user(
            cls.env,
            login="om_acc_login",
            email="om_acc_login@example.com",
            password=PASSWORD,
            groups="base.group_user,order_management.group_order_clerk",
        )

    def _events(self, login, since_id=0):
        return self.env["order.audit.event"].search(
            [("login", "=", login), ("id", ">", since_id)], order="id"
        )

    def _last_event_id(self):
        return self.env["order.audit.event"].search([], limit=1, order="id desc").id

    def _post_login(self, login, password):
        page = self.url_open("/web/login", headers={"User-Agent": USER_AGENT})
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        return self.url_open(
            "/web/login",
            data={"login": login, "password": password, "csrf_token": csrf},
            headers={"User-Agent": USER_AGENT},
            allow_redirects=False,
        )

    def _authenticate(self, login, password, interactive=False):
        """Log in as Odoo's RPC does, without an HTTP request."""
        self.env.flush_all()
        return self.registry["res.users"].authenticate(
            self.env.cr.dbname,
            {"type": "password", "login": login, "password": password},
            {"interactive": interactive},
        )

    def _refused(self, login, password, totp=False):
        """Try to log in (or give a 2FA code), expecting a refusal; return why.

        Not assertRaises: Odoo's rolls back a savepoint around the call, and
        with it the events written in their own transaction (here the test's).
        """
        try:
            if totp:
                self.user._totp_check(password)
            else:
                self._authenticate(login, password)
        except AccessDenied as error:
            return str(error)
        return self.fail(f"{login} was let in")

    def test_01_login_logged_with_origin(self):
        """A login through the login page is logged with address and browser."""
        response = self._post_login("om_acc_login", PASSWORD)
        self.assertEqual(response.status_code, 303)

        event = self._events("om_acc_login")
        self.assertEqual(len(event), 1)
        self.assertEqual(
            (event.event, event.stage, event.user_id, event.ip_address),
            ("login", "access", self.user, "127.0.0.1"),
        )
        self.assertEqual(event.user_agent, USER_AGENT)
        self.assertFalse(event.note)

    def test_02_failed_logins_logged_with_login_typed(self):
        """Wrong passwords and unknown logins are logged as typed, with origin."""
        response = self._post_login("om_acc_login", "not-the-password")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Wrong login/password", response.text)
        response = self._post_login("om_acc_nobody", "whatever")
        self.assertEqual(response.status_code, 200)

        failed = self._events("om_acc_login")
        self.assertEqual(len(failed), 1)
        self.assertEqual(
            (failed.event, failed.user_id, failed.ip_address, failed.user_agent),
            ("login_failed", self.user, "127.0.0.1", USER_AGENT),
        )
        unknown = self._events("om_acc_nobody")
        self.assertEqual(
            (unknown.event, unknown.user_id, unknown.ip_address),
            ("login_failed", self.env["res.users"], "127.0.0.1"),
        )
        # The hash chain covers them like any other event.
        self.assertFalse(self.env["order.audit.event"]._verify_chain())

    def test_03_logout_logged(self):
        """Logging out of the web client is logged with address and browser."""
        self.authenticate("om_acc_login", PASSWORD)
        since = self._last_event_id()

        response = self.url_open(
            "/web/session/logout",
            headers={"User-Agent": USER_AGENT},
            allow_redirects=False,
        )

        self.assertEqual(response.status_code, 303)
        event = self._events("om_acc_login", since)
        self.assertEqual(
            (event.event, event.user_id, event.ip_address, event.user_agent),
            ("logout", self.user, "127.0.0.1", USER_AGENT),
        )

    def test_04_lockout_after_failures_lifts_after_window(self):
        """5 failures in 15 minutes refuse even the right password, for a while."""
        start = fields.Datetime.now()
        with freeze_time(start) as frozen:
            for _attempt in range(5):
                self._refused("om_acc_login", "wrong")
            frozen.tick(timedelta(minutes=1))

            self.assertIn(
                "Too many failed logins", self._refused("om_acc_login", PASSWORD)
            )
            locked = self._events("om_acc_login")[-1]
            self.assertEqual(
                (locked.event, locked.user_id), ("login_locked", self.user)
            )
            self.assertIn("14 minute(s)", locked.note)
            # The refusal does not count as a failure: the lock does not grow.
            # The lock itself is recorded once, on the failure that made it.
            self.assertEqual(
                self._events("om_acc_login").mapped("event"),
                ["login_failed"] * 5 + ["account_locked", "login_locked"],
            )

            # 15 minutes after the failures, the same password is let in.
            frozen.tick(timedelta(minutes=14, seconds=1))
            auth = self._authenticate("om_acc_login", PASSWORD)
            self.assertEqual(auth["uid"], self.user.id)
            self.assertEqual(self._events("om_acc_login")[-1].event, "login")

    def test_04b_passwords_sent_with_rpc_calls_count_and_lock(self):
        """A wrong password with each RPC call is a failed login; locked, the
        right one is refused too."""
        dbname, users = self.env.cr.dbname, self.registry["res.users"]
        self.env.flush_all()
        with freeze_time(fields.Datetime.now()):
            for _attempt in range(5):
                with self.assertRaisesRegex(AccessDenied, "Access Denied"):
                    users.check(dbname, self.user.id, "wrong")
            events = self._events("om_acc_login")
            self.assertEqual(
                events.mapped("event"), ["login_failed"] * 5 + ["account_locked"]
            )
            failures = events[:5]
            self.assertIn("RPC", failures[-1].note)
            self.assertEqual(failures.user_id, self.user)

            with self.assertRaisesRegex(AccessDenied, "Too many failed logins"):
                users.check(dbname, self.user.id, PASSWORD)
            self.assertIn(
                "Too many failed logins", self._refused("om_acc_login", PASSWORD)
            )

    def test_05_successful_login_restarts_the_count(self):
        """Failures before a successful login no longer count towards a lock."""
        with freeze_time(fields.Datetime.now()):
            for _attempt in range(4):
                self._refused("om_acc_login", "wrong")
            self._authenticate("om_acc_login", PASSWORD)
            for _attempt in range(4):
                self._refused("om_acc_login", "wrong")

            auth = self._authenticate("om_acc_login", PASSWORD)

        self.assertEqual(auth["uid"], self.user.id)
        self.assertNotIn("login_locked", self._events("om_acc_login").mapped("event"))

    def test_06_lockout_settings(self):
        """The number of failures that lock is a system parameter; 0 disables."""
        params = self.env["ir.config_parameter"].sudo()
        params.set_param("order_management.lockout_attempts", "2")
        with freeze_time(fields.Datetime.now()):
            for _attempt in range(2):
                self._refused("om_acc_login", "wrong")
            self.assertIn(
                "Too many failed logins", self._refused("om_acc_login", PASSWORD)
            )

            params.set_param("order_management.lockout_attempts", "0")
            auth = self._authenticate("om_acc_login", PASSWORD)
        self.assertEqual(auth["uid"], self.user.id)

    def test_07_wrong_two_factor_code_logged(self):
        """With 2FA, the login notes the code asked; a wrong code is a failure."""
        key = b"order-management-totp-key"
        self.user.sudo().totp_secret = base64.b32encode(key).decode()

        self._authenticate("om_acc_login", PASSWORD, interactive=True)
        login = self._events("om_acc_login")[-1]
        self.assertEqual(login.event, "login")
        self.assertIn("two-factor", login.note)

        now = time.time()
        self.assertIsNotNone(TOTP(key).match(hotp(key, int(now / 30)), t=now))
        valid = {hotp(key, int(now / 30) + shift) for shift in (-1, 0, 1)}
        wrong = next(code for code in range(10) if code not in valid)
        self._refused("om_acc_login", wrong, totp=True)

        failed = self._events("om_acc_login")[-1]
        self.assertEqual((failed.event, failed.user_id), ("login_failed", self.user))
        self.assertIn("two-factor", failed.note)


@tagged("post_install", "-at_install")
class TestAccounts(OrderManagementCommon):
    """One account per person, handing work over, the access review."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin = new_test_user(
            cls.env,
            login="om_acc_admin",
            email="om_acc_admin@example.com",
            groups="base.group_user,base.group_erp_manager",
        )
        both = (
            "base.group_user,order_management.group_order_clerk,"
            "order_management.group_order_reviewer"
        )
        cls.leaver = new_test_user(
            cls.env, login="om_acc_leaver", email="leaver@example.com", groups=both
        )
        cls.successor = new_test_user(
            cls.env,
            login="om_acc_successor",
            email="successor@example.com",
            groups=both,
        )
        cls.reviewer_group = cls.env.ref("order_management.group_order_reviewer")

    # ------------------------------------------------------------ helpers --

    def _give_review(self, user):
        """A clerk's order waiting for review, its round assigned to ``user``."""
        order = self._create_order()
        review = order.order_review_ids.filtered(lambda r: r.decision == "pending")
        review.sudo().assigned_user_id = user
        return review

    def _give_incident(self, user):
        return self.env["order.incident"].create(
            {
                "order_id": self._confirmed_order().id,
                "incident_type": "delay",
                "description": "The truck is two days late.",
                "responsible_id": user.id,
            }
        )

    def _handover_events(self, since_id):
        return self.env["order.audit.event"].search(
            [("event", "=", "handover"), ("id", ">", since_id)], order="id"
        )

    # -------------------------------------------------------------- email --

    def test_01_duplicate_email_refused(self):
        """Two active internal users never share an email, whatever its case."""
        with self.assertRaisesRegex(ValidationError, "om_test_reviewer"):
            new_test_user(
                self.env,
                login="om_acc_twin",
                email="OM_Test_Reviewer@Example.com",
                groups="base.group_user",
            )
        with self.assertRaisesRegex(ValidationError, "om_test_finance@example.com"):
            self.clerk.email = "om_test_finance@example.com"
        with self.assertRaisesRegex(ValidationError, "om_test_finance"):
            self.clerk.partner_id.email = "om_test_finance@example.com"

    def test_02_email_of_portal_or_archived_users_free(self):
        """Portal users and archived users do not hold their email."""
        portal = new_test_user(
            self.env,
            login="om_acc_portal",
            email="om_test_reviewer@example.com",
            groups="base.group_portal",
        )
        self.assertTrue(portal.share)

        self.users["clerk2"].active = False
        again = new_test_user(
            self.env,
            login="om_acc_again",
            email="om_test_clerk2@example.com",
            groups="base.group_user",
        )
        self.assertEqual(again.email, "om_test_clerk2@example.com")

    # ----------------------------------------------------------- handover --

    def test_03_handover_moves_every_kind_of_work(self):
        """Reviews, activities, incidents, rules and orders go to the successor."""
        review = self._give_review(self.leaver)
        todo = review.order_id.activity_schedule(
            "mail.mail_activity_data_todo", user_id=self.leaver.id
        )
        incident = self._give_incident(self.leaver)
        rule = self.env.ref("order_management.assignment_rule_logistics")
        rule.lead_user_id = self.leaver
        own_order = self._create_order(user=self.leaver)
        activities = self.env["mail.activity"].search(
            [("user_id", "=", self.leaver.id)]
        )
        self.assertIn(todo, activities)
        since = self.env["order.audit.event"].search([], limit=1).id

        form = Form(
            self.env["res.users.handover"]
            .with_user(self.admin)
            .with_context(default_user_id=self.leaver.id, default_archive=True)
        )
        self.assertIn("Incidents: 1", form.work_summary)
        form.successor_id = self.successor
        form.save().action_hand_over()

        self.assertEqual(review.assigned_user_id, self.successor)
        self.assertEqual(activities.user_id, self.successor)
        self.assertEqual(incident.responsible_id, self.successor)
        self.assertEqual(rule.lead_user_id, self.successor)
        self.assertEqual(own_order.user_id, self.successor)
        self.assertFalse(self.leaver.active)

        events = self._handover_events(since)
        self.assertEqual(
            events.mapped("res_model"),
            [
                "sale.order.review",
                "mail.activity",
                "order.incident",
                "order.assignment.rule",
                "sale.order",
            ],
        )
        self.assertEqual(events.user_id, self.admin)
        by_model = {event.res_model: event for event in events}
        self.assertEqual(
            json.loads(by_model["order.incident"].changes),
            {"responsible_id": [self.leaver.id, self.successor.id]},
        )
        self.assertIn(
            f"Activities: {len(activities)} of {self.leaver.name} handed over to "
            f"{self.successor.name}",
            by_model["mail.activity"].note,
        )
        self.assertIn("Incidents: 1 of", by_model["order.incident"].note)

    def test_04_archiving_with_open_work_needs_a_successor(self):
        """Archiving is refused, naming the work; the archive action asks whom."""
        incident = self._give_incident(self.leaver)

        with self.assertRaisesRegex(UserError, re.escape(incident.name)):
            self.leaver.with_user(self.admin).active = False
        self.assertTrue(self.leaver.active)

        action = self.leaver.with_user(self.admin).action_archive()
        self.assertEqual(action["res_model"], "res.users.handover")
        self.assertEqual(
            action["context"],
            {"default_user_id": self.leaver.id, "default_archive": True},
        )
        self.assertTrue(self.leaver.active)

        # Several users at once: refused, naming the one with work.
        with self.assertRaisesRegex(UserError, "om_acc_leaver|leaver"):
            (self.leaver | self.users["clerk2"]).with_user(self.admin).action_archive()

        self.leaver.with_user(self.admin)._hand_over_work(self.successor)
        self.leaver.with_user(self.admin).action_archive()
        self.assertFalse(self.leaver.active)

    def test_05_successor_must_be_able_to_do_the_work(self):
        """No successor without the role, nor one who may not decide the review."""
        review = self._give_review(self.leaver)
        clerk_only = self.users["clerk2"]
        with self.assertRaisesRegex(UserError, "Order Reviewer"):
            self.leaver._hand_over_work(clerk_only)

        # The clerk who entered the order may not review it.
        self.clerk.groups_id = [Command.link(self.reviewer_group.id)]
        with self.assertRaisesRegex(UserError, review.order_id.name):
            self.leaver._hand_over_work(self.clerk)
        with self.assertRaisesRegex(UserError, "another active internal user"):
            self.leaver._hand_over_work(self.leaver)
        self.assertEqual(review.assigned_user_id, self.leaver)

    def test_06_removing_a_role_with_open_work_refused(self):
        """The reviewer role stays while its reviews are pending; then it goes."""
        review = self._give_review(self.leaver)
        # Odoo's assertRaises rolls the refused write back, as a request would.
        with self.assertRaises(UserError) as refusal:
            self.leaver.with_user(self.admin).write(
                {"groups_id": [Command.unlink(self.reviewer_group.id)]}
            )
        self.assertIn(review.order_id.name, str(refusal.exception))
        self.assertIn(self.reviewer_group, self.leaver.groups_id)

        self.leaver.with_user(self.admin)._hand_over_work(self.successor)
        self.leaver.with_user(self.admin).write(
            {"groups_id": [Command.unlink(self.reviewer_group.id)]}
        )
        self.assertNotIn(self.reviewer_group, self.leaver.groups_id)

    def test_07_removing_a_team_role_with_its_tasks_refused(self):
        """A shipper keeps Logistics while a shipping task is theirs."""
        order = self._confirmed_order()
        task = order.activity_ids.filtered(
            lambda a: a.activity_type_id
            == self.env.ref("order_management.mail_activity_type_order_ship")
        )
        task.user_id = self.logistics
        logistics_group = self.env.ref("order_management.group_order_logistics")

        with self.assertRaises(UserError) as refusal:
            self.logistics.write({"groups_id": [Command.unlink(logistics_group.id)]})
        self.assertIn(order.name, str(refusal.exception))
        self.assertIn(logistics_group, self.logistics.groups_id)

    # ------------------------------------------------------- access review --

    def test_08_access_review_rows(self):
        """One row per active user and role, implied roles marked, last login."""
        Event = self.env["order.audit.event"]
        login = Event._record_events(
            [
                {
                    "event": "login",
                    "stage": "access",
                    "login": "om_test_reviewer",
                    "user_id": self.reviewer.id,
                }
            ]
        )
        Event._record_events(
            [
                {
                    "event": "login_failed",
                    "stage": "access",
                    "login": "om_test_reviewer",
                    "user_id": self.reviewer.id,
                }
            ]
        )
        self.users["clerk2"].active = False
        self.env.flush_all()
        Review = self.env["order.access.review"]

        rows = Review.search([("user_id", "=", self.reviewer.id)])
        self.assertEqual(
            [(row.group_id, row.implied, row.last_login) for row in rows],
            [(self.reviewer_group, False, login.timestamp)],
        )
        manager_rows = Review.search([("user_id", "=", self.manager.id)])
        self.assertEqual(
            {row.group_id.name: row.implied for row in manager_rows},
            {
                "Order Entry Clerk": True,
                "Order Reviewer": True,
                "Logistics": True,
                "Finance": True,
                "Order Manager": False,
            },
        )
        self.assertFalse(manager_rows.mapped("last_login")[0])
        self.assertFalse(Review.search([("user_id", "=", self.users["clerk2"].id)]))
        self.assertFalse(Review.search([("user_id", "=", self.users["salesman"].id)]))

    def test_09_quarterly_reminder_once_per_manager(self):
        """Each Order Manager gets one to-do to review the access, not two."""
        Review = self.env["order.access.review"]
        activities = Review._cron_remind_review()
        self.assertIn(self.manager, activities.user_id)
        self.assertEqual(len(activities), len(activities.user_id))
        self.assertNotIn(self.env.ref("base.user_root"), activities.user_id)

        self.assertFalse(Review._cron_remind_review())

    def test_10_lockout_check_is_one_query_with_its_index(self):
        """Checking a login's lockout costs one query, with an index for it."""
        Users = self.env["res.users"]
        Users._login_unlock_time("om_test_clerk")  # parameters cached
        with self.assertQueryCount(1):
            self.assertIsNone(Users._login_unlock_time("om_test_clerk"))

        # An index leads with what the query selects on. Which index the
        # planner takes depends on the table's statistics: not asserted.
        self.env.cr.execute(
            "SELECT pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indexrelid = 'order_audit_event_login_event_index'::regclass"
        )
        self.assertIn('(login, event, "timestamp")', self.env.cr.fetchone()[0])
