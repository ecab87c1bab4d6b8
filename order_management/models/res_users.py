import logging
import math
from collections import namedtuple
from datetime import timedelta

from odoo import SUPERUSER_ID, api, fields, models
from odoo.exceptions import AccessDenied, AccessError, UserError, ValidationError
from odoo.http import request
from odoo.tools import SQL

from .order_audit_event import cursor_apart
from .order_incident import OPEN_STATES as INCIDENT_OPEN_STATES

_logger = logging.getLogger(__name__)

# Durable lockout, unless the system parameters say otherwise: this many failed
# logins for one login within this many minutes refuse it until they age out.
LOCKOUT_ATTEMPTS = 5
LOCKOUT_MINUTES = 15

# Lockout of an address, unless the system parameters say otherwise: this many
# failed logins from one address, whatever the logins, within this many
# minutes lock the address out for that many minutes.
ADDRESS_LOCKOUT_ATTEMPTS = 10
ADDRESS_LOCKOUT_MINUTES = 15
ADDRESS_LOCKOUT_DURATION = 30

# Records named in a message about open work, per kind; the rest is counted.
NAMED_RECORDS = 5

# Writes moving work: no e-mail per activity or order (a leaver can hold
# hundreds), the successor finds them in their to-dos and follows the orders.
QUIET_CONTEXT = {
    "mail_activity_quick_update": True,
    "mail_auto_subscribe_no_notify": True,
}

# One kind of work a user holds: its label, the records, the user field on them.
OpenWork = namedtuple("OpenWork", ["label", "records", "field"])


class ResUsers(models.Model):
    _inherit = "res.users"
    # Group membership, as the user form changes it.
    _order_audited_fields = ("groups_id",)

    order_audit_event_count = fields.Integer(
        string="Audit Events",
        compute="_compute_order_audit_event_count",
        groups="order_management.group_order_manager",
    )

    def _compute_order_audit_event_count(self):
        counts = dict(
            self.env["order.audit.event"]._read_group(
                [("user_id", "in", self.ids)], ["user_id"], ["__count"]
            )
        )
        for user in self:
            user.order_audit_event_count = counts.get(user._origin, 0)

    # ------------------------------------------------------- constraints --

    @api.constrains("email", "active", "groups_id", "partner_id")
    def _check_email_unique(self):
        """One account per person: no two active internal users share an email.

        Emails are compared normalized (lower case, without the name part),
        through the index on the partners' normalized email.
        """
        users = self.filtered(lambda u: u.active and not u.share and u.email_normalized)
        if not users:
            return
        # Users an administrator cannot read still hold the email.
        others = self.sudo().search(
            [
                ("email_normalized", "in", users.mapped("email_normalized")),
                ("share", "=", False),
            ],
            order="id",
        )
        for user in users:
            other = others.filtered(
                lambda o, u=user: o.email_normalized == u.email_normalized and o != u
            )[:1]
            if other:
                raise ValidationError(
                    self.env._(
                        "The email %(email)s is already used by %(other)s "
                        "(%(login)s): each person has a single account.",
                        email=user.email,
                        other=other.name,
                        login=other.login,
                    )
                )

    # -------------------------------------------------------------- CRUD --

    def write(self, vals):
        if "active" in vals and not vals["active"]:
            self._internal_active()._check_no_open_work()
        roles_change = any(
            key == "groups_id" or key.startswith(("in_group_", "sel_groups_"))
            for key in vals
        )
        groups_before = {user: user.groups_id for user in self} if roles_change else {}

        # The user form writes the groups as one field per application.
        written = self._remove_reified_groups(vals)
        with self.env["order.audit.event"]._changes_logged(self, written):
            result = super().write(vals)

        if roles_change:
            self._check_roles_keep_work(groups_before)
        return result

    # ----------------------------------------------------------- actions --

    def action_open_order_audit_events(self):
        """Show what this user did: the audit events recorded as theirs."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "order_management.order_audit_event_action"
        )
        action.update(
            name=self.env._("Audit Events of %(user)s", user=self.name),
            domain=[("user_id", "=", self.id)],
            context={},
        )
        return action

    def action_archive(self):
        """Archiving someone who still holds work asks for a successor first.

        Odoo would otherwise delete the user's activities and leave their
        reviews, incidents and orders to no one.
        """
        busy = self._internal_active()._with_open_work()
        if len(busy) == 1 and len(self) == 1:
            return busy.action_open_handover(archive=True)
        busy._check_no_open_work()
        return super().action_archive()

    def action_open_handover(self, archive=False):
        """Open the wizard handing this user's open work to a successor."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Hand Over Work"),
            "res_model": "res.users.handover",
            "view_mode": "form",
            "target": "new",
            "context": {"default_user_id": self.id, "default_archive": archive},
        }

    # ------------------------------------------------------- login audit --

    @classmethod
    def _login(cls, db, credential, user_agent_env):
        """Refuse a locked-out login; record every login, refused or not.

        The events are written in transactions of their own: a refused
        login's transaction is rolled back, its event must stay.
        """
        login = credential.get("login")
        refusal = cls._refuse_locked_out(login)
        if refusal:
            raise AccessDenied(refusal)
        try:
            auth_info = super()._login(db, credential, user_agent_env)
        except AccessDenied as error:
            # Odoo's own refusals (its cooldown per address) say why.
            reason = None if error.args == AccessDenied().args else str(error)
            cls._audit_login_apart(login, "login_failed", note=reason)
            raise
        # Only an interactive login goes on to the second factor, if any.
        interactive = (user_agent_env or {}).get("interactive", True)
        cls._audit_login_apart(
            login,
            "login",
            user_id=auth_info["uid"],
            second_factor=interactive and auth_info.get("mfa") != "skip",
        )
        return auth_info

    @classmethod
    def check(cls, db, uid, passwd):
        """A password sent with each RPC call counts and locks as a login does."""
        # Called on every RPC call: the login and its lock in one transaction.
        with cursor_apart(cls.pool) as cr:
            users = api.Environment(cr, SUPERUSER_ID, {"lang": _request_lang()})[
                cls._name
            ]
            login = users.browse(uid).exists().login
            refusal = login and users._locked_out_refusal(login)
        if refusal:
            raise AccessDenied(refusal)
        try:
            return super().check(db, uid, passwd)
        except AccessDenied:
            if login and passwd:
                with cursor_apart(cls.pool) as cr:
                    env = api.Environment(cr, SUPERUSER_ID, {"lang": _request_lang()})
                    env[cls._name]._audit_login(
                        login,
                        "login_failed",
                        note=env._("Wrong password sent with an RPC call."),
                        user_id=uid,
                    )
            raise

    def _totp_check(self, code):
        """Count a wrong two-factor code as a failed login of this user."""
        login = self.sudo().login
        refusal = self._refuse_locked_out(login)
        if refusal:
            raise AccessDenied(refusal)
        try:
            return super()._totp_check(code)
        except AccessDenied:
            note = self.env._("Wrong two-factor authentication code.")
            self._audit_login_apart(login, "login_failed", note=note, user_id=self.id)
            raise

    @classmethod
    def _refuse_locked_out(cls, login):
        """Return why ``login`` may not try now, having recorded the refusal.

        :return: the translated message, or None when the login may try
        """
        with cursor_apart(cls.pool) as cr:
            users = api.Environment(cr, SUPERUSER_ID, {"lang": _request_lang()})[
                cls._name
            ]
            return users._locked_out_refusal(login)

    @api.model
    def _locked_out_refusal(self, login):
        """Like ``_refuse_locked_out``, in this environment's transaction.

        The address of the request being served is checked first: a locked
        address may try no login at all.
        """
        address = self.env["order.audit.event"]._request_origin()[0]
        unlock = self._address_unlock_time(address)
        if unlock:
            message = self.env._(
                "Too many failed logins from your address: try again in "
                "%(minutes)s minute(s).",
                minutes=_minutes_until(unlock),
            )
            self._audit_login(login, "login_locked", note=message)
            _logger.warning(
                "Login %r refused: address %s locked out until %s",
                login,
                address,
                unlock,
            )
            return message

        unlock = self._login_unlock_time(login)
        if not unlock:
            return None
        message = self.env._(
            "Too many failed logins for %(login)s: try again in %(minutes)s "
            "minute(s).",
            login=login,
            minutes=_minutes_until(unlock),
        )
        self._audit_login(login, "login_locked", note=message)
        _logger.warning("Login %r refused: locked out until %s", login, unlock)
        return message

    @classmethod
    def _audit_login_apart(
        cls, login, event, note=None, user_id=None, second_factor=False
    ):
        """Record a login event in a transaction of its own, committed at once."""
        with cursor_apart(cls.pool) as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"lang": _request_lang()})
            env[cls._name]._audit_login(
                login, event, note=note, user_id=user_id, second_factor=second_factor
            )

    @api.model
    def _audit_login(self, login, event, note=None, user_id=None, second_factor=False):
        """Record a login event with the login typed and its user, if any.

        A failure that locks the login or the address out records the lock
        too, and alerts the administrators.

        :param str event: ``login``, ``login_failed`` or ``login_locked``
        :param int user_id: the user, when known; else the one with the login
        :param bool second_factor: a login that goes on to the user's second
            factor if they have one (noted)
        """
        if user_id is None:
            user_id = (
                self.with_context(active_test=False)
                .search(
                    self._get_login_domain(login or ""),
                    order=self._get_login_order(),
                    limit=1,
                )
                .id
            )
        if event == "login" and not note and second_factor:
            if self.browse(user_id)._mfa_url():
                note = self.env._("Password accepted; two-factor code asked.")
        self.env["order.audit.event"]._record_events(
            [
                {
                    "event": event,
                    "stage": "access",
                    "user_id": user_id or False,
                    "login": login,
                    "note": note,
                }
            ]
        )
        if event == "login_failed":
            self._lock_out_on_failure(login, user_id)

    # ----------------------------------------------------------- lockout --

    @api.model
    def _login_unlock_time(self, login):
        """Return when ``login`` may try to log in again, or None if it may now.

        A login is locked out once it failed N times within the last M minutes
        since its last successful login (system parameters
        ``order_management.lockout_attempts`` and ``_minutes``, 0 turning the
        lockout off). The lock lifts M minutes after the Nth latest of those
        failures. Refused attempts do not count: the lock does not last for
        as long as someone keeps trying. One indexed query.
        """
        attempts, minutes = self._lockout_settings()
        if not login or attempts <= 0 or minutes <= 0:
            return None
        window = timedelta(minutes=minutes)
        since = fields.Datetime.now() - window
        self.env.cr.execute(
            SQL(
                """
                SELECT failure.timestamp
                  FROM order_audit_event failure
                 WHERE failure.login = %(login)s
                   AND failure.event = 'login_failed'
                   AND failure.timestamp > %(since)s
                   AND failure.id > COALESCE((
                        SELECT max(success.id)
                          FROM order_audit_event success
                         WHERE success.login = %(login)s
                           AND success.event = 'login'
                           AND success.timestamp > %(since)s
                       ), 0)
                 ORDER BY failure.timestamp DESC, failure.id DESC
                OFFSET %(skip)s LIMIT 1
                """,
                login=login,
                since=since,
                skip=attempts - 1,
            )
        )
        row = self.env.cr.fetchone()
        return row[0] + window if row else None

    @api.model
    def _address_unlock_time(self, address):
        """Return when ``address`` may try to log in again, or None if it may now.

        An address is locked out for the lock time (system parameter
        ``order_management.address_lockout_duration``, minutes) from the
        ``address_locked`` event that ``_lock_out_on_failure`` wrote.
        """
        attempts, _minutes, duration = self._address_lockout_settings()
        if not address or attempts <= 0 or duration <= 0:
            return None
        lock_time = timedelta(minutes=duration)
        self.env.cr.execute(
            SQL(
                """
                SELECT max(lock.timestamp)
                  FROM order_audit_event lock
                 WHERE lock.ip_address = %(address)s
                   AND lock.event = 'address_locked'
                   AND lock.timestamp > %(since)s
                """,
                address=address,
                since=fields.Datetime.now() - lock_time,
            )
        )
        locked_at = self.env.cr.fetchone()[0]
        return locked_at + lock_time if locked_at else None

    @api.model
    def _address_failures(self, address, minutes):
        """Return (failed logins, distinct logins) from ``address`` that count.

        Those of the last ``minutes`` minutes, after the address's last lock:
        the failures that locked it once do not lock it again.
        """
        self.env.cr.execute(
            SQL(
                """
                SELECT count(*), count(DISTINCT failure.login)
                  FROM order_audit_event failure
                 WHERE failure.ip_address = %(address)s
                   AND failure.event = 'login_failed'
                   AND failure.timestamp > %(since)s
                   AND failure.id > COALESCE((
                        SELECT max(lock.id)
                          FROM order_audit_event lock
                         WHERE lock.ip_address = %(address)s
                           AND lock.event = 'address_locked'
                       ), 0)
                """,
                address=address,
                since=fields.Datetime.now() - timedelta(minutes=minutes),
            )
        )
        return self.env.cr.fetchone()

    @api.model
    def _lock_out_on_failure(self, login, user_id):
        """Lock the login and the address out if this failure was one too many.

        Called once the failure is recorded. Attempts on a locked login or
        from a locked address are refused before they can fail, so a lock
        starts once, on the failure that reaches the threshold: it is
        recorded then (``account_locked``, ``address_locked``) and posted to
        the administrators' Security Alerts channel.
        """
        # The administrators read the alert, and the event's note with it.
        alert = self.with_context(lang=self._security_alert_lang())
        events = []

        unlock = self._login_unlock_time(login)
        if unlock:
            attempts, minutes = self._lockout_settings()
            events.append(
                {
                    "event": "account_locked",
                    "stage": "access",
                    "user_id": user_id or False,
                    "login": login,
                    "note": alert.env._(
                        "%(attempts)s failed logins for %(login)s within "
                        "%(minutes)s minutes: the login is locked out until "
                        "%(until)s (UTC).",
                        attempts=attempts,
                        login=login,
                        minutes=minutes,
                        until=fields.Datetime.to_string(unlock),
                    ),
                }
            )

        address = self.env["order.audit.event"]._request_origin()[0]
        attempts, minutes, duration = self._address_lockout_settings()
        if address and attempts > 0 and minutes > 0 and duration > 0:
            failures, logins = self._address_failures(address, minutes)
            if failures >= attempts:
                until = fields.Datetime.now() + timedelta(minutes=duration)
                events.append(
                    {
                        "event": "address_locked",
                        "stage": "access",
                        "user_id": False,
                        "login": login,
                        "note": alert.env._(
                            "%(failures)s failed logins for %(logins)s login(s) "
                            "from %(address)s within %(minutes)s minutes: the "
                            "address is locked out until %(until)s (UTC).",
                            failures=failures,
                            logins=logins,
                            address=address,
                            minutes=minutes,
                            until=fields.Datetime.to_string(until),
                        ),
                    }
                )

        if not events:
            return
        self.env["order.audit.event"]._record_events(events)
        for event in events:
            _logger.warning("Intrusion signal: %s", event["note"])
            self._post_security_alert(event["note"])

    @api.model
    def _security_alert_lang(self):
        """Return the language the alerts are written in: the administrator's."""
        admin = self.env.ref("base.user_admin", raise_if_not_found=False)
        return (admin and admin.lang) or self.env.lang

    @api.model
    def _post_security_alert(self, message):
        """Post ``message`` to the Security Alerts channel of the administrators.

        Every user of *Settings* (``base.group_system``) is a member of the
        channel: the message shows in their Discuss inbox as unread.
        """
        channel = self.env.ref(
            "order_management.channel_security_alerts", raise_if_not_found=False
        )
        if not channel:
            _logger.warning("Security Alerts channel missing, alert not posted")
            return
        # Posted by the system, for whoever's login or address is concerned.
        channel.sudo().message_post(
            body=message, message_type="comment", subtype_xmlid="mail.mt_comment"
        )

    @api.model
    def _lockout_settings(self):
        """Return (failed logins that lock, minutes they count for)."""
        return self._int_settings(
            ("order_management.lockout_attempts", LOCKOUT_ATTEMPTS),
            ("order_management.lockout_minutes", LOCKOUT_MINUTES),
        )

    @api.model
    def _address_lockout_settings(self):
        """Return (failed logins from an address that lock it, minutes they
        count for, minutes it stays locked)."""
        return self._int_settings(
            ("order_management.address_lockout_attempts", ADDRESS_LOCKOUT_ATTEMPTS),
            ("order_management.address_lockout_minutes", ADDRESS_LOCKOUT_MINUTES),
            ("order_management.address_lockout_duration", ADDRESS_LOCKOUT_DURATION),
        )

    @api.model
    def _int_settings(self, *keys_defaults):
        """Return the integer system parameters named, or their defaults."""
        params = self.env["ir.config_parameter"].sudo()
        settings = []
        for key, default in keys_defaults:
            value = params.get_param(key, default)
            try:
                settings.append(int(value))
            except ValueError:
                # A typo in a parameter must not stop everyone from logging in.
                _logger.warning("System parameter %s is not a number: %r", key, value)
                settings.append(default)
        return tuple(settings)

    # --------------------------------------------------------- open work --

    def _internal_active(self):
        # Portal users hold no internal work: their own deactivation stays free.
        return self.filtered(lambda u: u.active and not u.share)

    def _get_open_work(self):
        """Return the work these users still hold, kind by kind.

        Searched as the superuser: whoever archives a user may not read the
        work itself.

        :return: list of OpenWork, only the kinds with records
        """
        kinds = [
            (
                self.env._("Review rounds"),
                "sale.order.review",
                "assigned_user_id",
                [
                    ("decision", "=", "pending"),
                    ("order_id.state", "in", ("draft", "sent")),
                ],
            ),
            (self.env._("Activities"), "mail.activity", "user_id", []),
            (
                self.env._("Incidents"),
                "order.incident",
                "responsible_id",
                [("state", "in", INCIDENT_OPEN_STATES)],
            ),
            (
                self.env._("Task assignment rules led"),
                "order.assignment.rule",
                "lead_user_id",
                [],
            ),
            # Their salesperson is who gets rejected orders back and who the
            # customer deals with; clerks see only their own orders.
            (
                self.env._("Open orders as salesperson"),
                "sale.order",
                "user_id",
                [
                    ("state", "in", ("draft", "sent", "sale")),
                    ("completed_date", "=", False),
                ],
            ),
        ]
        work = []
        for label, model, field, domain in kinds:
            records = self.env[model].sudo().search([(field, "in", self.ids)] + domain)
            if records:
                work.append(OpenWork(label, records, field))
        return work

    def _with_open_work(self):
        """Return those of these users who hold open work."""
        holders = self.browse()
        for item in self._get_open_work():
            holders |= item.records[item.field]
        return self & holders

    def _check_no_open_work(self):
        """Refuse to archive users who still hold work, naming it."""
        busy = self._with_open_work()
        if busy:
            user = busy[0]
            raise UserError(
                self.env._(
                    "%(user)s still holds open work: %(work)s. Hand it over to a "
                    "successor first (Hand Over Work on the user).",
                    user=user.display_name,
                    work=self._describe_work(user._get_open_work()),
                )
            )

    def _check_roles_keep_work(self, groups_before):
        """Refuse to take a role from users still holding work that needs it.

        The work of a role: the review rounds of its group, the team tasks of
        the assignment rules of its group.

        :param dict groups_before: user -> their groups before the change
        """
        lost = {
            user: groups_before[user] - user.groups_id
            for user in self
            if groups_before[user] - user.groups_id
        }
        if not lost:
            return
        users = self.browse([user.id for user in lost])
        groups = self.env["res.groups"].union(*lost.values())
        needing = []
        reviews = (
            self.env["sale.order.review"]
            .sudo()
            .search(
                [
                    ("assigned_user_id", "in", users.ids),
                    ("reviewer_group_id", "in", groups.ids),
                    ("decision", "=", "pending"),
                    ("order_id.state", "in", ("draft", "sent")),
                ]
            )
        )
        needing += [
            (review.assigned_user_id, review.reviewer_group_id, review.order_id)
            for review in reviews
        ]
        rules = (
            self.env["order.assignment.rule"]
            .sudo()
            .search([("group_id", "in", groups.ids)])
        )
        if rules:
            group_of = {rule.activity_type_id: rule.group_id for rule in rules}
            tasks = (
                self.env["mail.activity"]
                .sudo()
                .search(
                    [
                        ("user_id", "in", users.ids),
                        ("activity_type_id", "in", rules.activity_type_id.ids),
                    ]
                )
            )
            needing += [
                (task.user_id, group_of[task.activity_type_id], task) for task in tasks
            ]
        for user, group, record in needing:
            if group in lost[user]:
                raise UserError(
                    self.env._(
                        "%(user)s cannot leave the role %(role)s: they still hold "
                        "%(work)s of it. Hand their work over first (Hand Over "
                        "Work on the user).",
                        user=user.display_name,
                        role=group.full_name,
                        work=_work_names(record)[0],
                    )
                )

    @api.model
    def _describe_work(self, work, separator="; "):
        """Return "Review rounds: 2 (S00012, S00013); Incidents: 1 (INC/0001)"."""
        parts = []
        for item in work:
            names = _work_names(item.records[:NAMED_RECORDS])
            if len(item.records) > NAMED_RECORDS:
                names.append("...")
            parts.append(
                self.env._(
                    "%(kind)s: %(count)s (%(names)s)",
                    kind=item.label,
                    count=len(item.records),
                    names=", ".join(names),
                )
            )
        return separator.join(parts)

    # ---------------------------------------------------------- handover --

    def _hand_over_work(self, successor):
        """Give all the open work of this user to ``successor``, and log it.

        One ``handover`` event per kind of work moved, with its count.

        :return: list of OpenWork moved
        :raise UserError: when the successor cannot take part of the work
        """
        self.ensure_one()
        work = self._get_open_work()
        self._check_successor(successor, work)

        events = []
        for item in work:
            item.records.with_context(**QUIET_CONTEXT).write({item.field: successor.id})
            events.append(
                {
                    "event": "handover",
                    "stage": "access",
                    "res_model": item.records._name,
                    "changes": {item.field: [self.id, successor.id]},
                    "note": self.env._(
                        "%(kind)s: %(count)s of %(user)s handed over to "
                        "%(successor)s.",
                        kind=item.label,
                        count=len(item.records),
                        user=self.display_name,
                        successor=successor.display_name,
                    ),
                }
            )
        self.env["order.audit.event"]._record_events(events)
        _logger.info(
            "work of user %s handed over to user %s: %s",
            self.id,
            successor.id,
            ", ".join(f"{len(item.records)} {item.records._name}" for item in work),
        )
        return work

    def _check_successor(self, successor, work):
        """Refuse a successor who could not do the work handed over."""
        self.ensure_one()
        if not successor.active or successor.share or successor == self:
            raise UserError(
                self.env._(
                    "%(successor)s cannot take over the work of %(user)s: pick "
                    "another active internal user.",
                    successor=successor.display_name,
                    user=self.display_name,
                )
            )
        # Groups of which the successor needs one, per kind of work.
        needed = {
            "sale.order": ["sales_team.group_sale_salesman"],
            "order.incident": [
                "sales_team.group_sale_salesman",
                "stock.group_stock_user",
            ],
        }
        for item in work:
            groups = self.env["res.groups"].browse(
                [self.env.ref(xmlid).id for xmlid in needed.get(item.records._name, [])]
            )
            if groups and not groups & successor.groups_id:
                raise UserError(
                    self.env._(
                        "%(successor)s cannot take over %(kind)s: they need the "
                        "group %(groups)s.",
                        successor=successor.display_name,
                        kind=item.label,
                        groups=self.env._(" or ").join(groups.mapped("full_name")),
                    )
                )
            if item.records._name == "sale.order.review":
                self._check_successor_reviews(successor, item.records)

    def _check_successor_reviews(self, successor, reviews):
        """The successor must be allowed to decide every round they take."""
        for review in reviews:
            # The review's own rule, seen as the successor.
            order = review.order_id.with_user(successor).sudo()
            try:
                order._check_reviewer(review)
            except AccessError as error:
                raise UserError(
                    self.env._(
                        "%(successor)s cannot take over the review of %(order)s: "
                        "%(reason)s",
                        successor=successor.display_name,
                        order=order.name,
                        reason=error.args[0],
                    )
                ) from error


def _minutes_until(moment):
    """Return the whole minutes left until ``moment``, at least one."""
    seconds = (moment - fields.Datetime.now()).total_seconds()
    return max(math.ceil(seconds / 60), 1)


def _request_lang():
    """Return the language of the HTTP request being served, if any."""
    return request.env.lang if request and request.env else None


def _work_names(records):
    """Return how to name each of ``records`` to whoever must hand them over."""
    if records._name == "mail.activity":
        # An activity's name is its summary: say what it is about too.
        return [
            f"{task.display_name} ({task.res_name})"
            if task.res_name
            else task.display_name
            for task in records
        ]
    return records.mapped("display_name")
