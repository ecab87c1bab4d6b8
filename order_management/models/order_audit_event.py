import json
import logging
from contextlib import contextmanager

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.http import request
from odoo.tools import SQL

from ..tools.audit_chain import CHAINED_FIELDS, event_hash, first_broken_link

_logger = logging.getLogger(__name__)


@contextmanager
def cursor_apart(registry):
    """A transaction of its own, for events kept whatever the request does.

    Read committed, unlike Odoo's transactions: appending to a chain that
    another transaction holds then waits for it and reads the event it wrote,
    instead of failing with a serialization error that nothing would retry.
    """
    with registry.cursor() as cr:
        # In tests the cursor is a savepoint of the test's own transaction.
        if not registry.in_test_mode():
            cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        yield cr


# Longest user agent kept: beyond it, browsers' strings carry nothing useful.
USER_AGENT_SIZE = 512

# Who reads where logins come from: no other role needs it for its work.
AUDIT_GROUPS = (
    "order_management.group_order_manager,order_management.group_order_auditor"
)

# Events read at a time by the verification.
VERIFY_BATCH = 5000

EVENTS = [
    ("submit", "Submitted for review"),
    ("hold", "Held by checks"),
    ("escalate", "Review escalated"),
    ("accept", "Accepted by the customer"),
    ("approve", "Approved"),
    ("reject", "Rejected"),
    ("reopen", "Sent back to review"),
    ("send", "Sent to the customer"),
    ("reset", "Set back to quotation"),
    ("confirm", "Confirmed"),
    ("amend", "Amended after confirmation"),
    ("cancel", "Cancelled"),
    ("ship", "Shipped"),
    ("transit", "In transit"),
    ("deliver", "Delivered"),
    ("sign", "Signed by the customer"),
    ("incident", "Incident reported"),
    ("incident_closed", "Incident closed"),
    ("invoice", "Invoiced"),
    ("pay", "Paid"),
    ("complete", "Completed"),
    ("login", "Logged in"),
    ("login_failed", "Login refused"),
    ("logout", "Logged out"),
    ("login_locked", "Login refused: locked out"),
    ("account_locked", "Account locked out"),
    ("address_locked", "Address locked out"),
    ("session_expired", "Idle session expired"),
    ("portal_rate_limited", "Portal request refused: too many"),
    ("change", "Data changed"),
    ("create", "Record created"),
    ("delete", "Record deleted"),
    ("handover", "Work handed over"),
]

STAGES = [
    ("review", "Review"),
    ("sale", "Sale"),
    ("shipment", "Shipment"),
    ("incident", "Incident"),
    ("completion", "Completion"),
    ("access", "Access"),
    ("data", "Data"),
]


class OrderAuditEvent(models.Model):
    """One transition of an order, written once and never changed."""

    _name = "order.audit.event"
    _description = "Order Audit Event"
    _order = "id desc"
    _log_access = False

    # ------------------------------------------------------------ fields --

    timestamp = fields.Datetime(
        required=True, readonly=True, default=fields.Datetime.now, index=True
    )
    user_id = fields.Many2one(
        "res.users", readonly=True, ondelete="restrict", index=True
    )
    order_id = fields.Many2one(
        "sale.order", readonly=True, ondelete="restrict", index=True
    )
    event = fields.Selection(EVENTS, required=True, readonly=True)
    stage = fields.Selection(STAGES, required=True, readonly=True)
    from_state = fields.Char(string="From", readonly=True)
    to_state = fields.Char(string="To", readonly=True)
    note = fields.Text(readonly=True)
    # What an event that is not an order transition is about.
    res_model = fields.Char(string="Model", readonly=True, index=True)
    res_id = fields.Integer(string="Record", readonly=True)
    # Access events: the login typed (also when no user has it), and where from.
    # Personal data: for Order Managers and auditors only.
    login = fields.Char(readonly=True, groups=AUDIT_GROUPS)
    ip_address = fields.Char(string="IP Address", readonly=True, groups=AUDIT_GROUPS)
    user_agent = fields.Char(readonly=True, groups=AUDIT_GROUPS)
    # Data changes: {field name: [old value, new value]} as JSON.
    changes = fields.Text(readonly=True)
    previous_hash = fields.Char(readonly=True)
    hash = fields.Char(readonly=True)
    # Data changes as people read them: field labels, record names.
    res_name = fields.Char(string="Record Name", compute="_compute_readable_changes")
    changes_summary = fields.Char(string="Changed", compute="_compute_readable_changes")
    changes_html = fields.Html(
        string="Before and After",
        compute="_compute_readable_changes",
    )

    def init(self):
        # The database itself refuses to change or remove an event, whoever
        # asks, the Odoo superuser included. A new field with a default would
        # need its value written into existing rows: give new fields none.
        # The one exception: the archiver deleting the rows its archive, made
        # in the same transaction, covers (see order.audit.archive).
        self.env.cr.execute(
            """
            CREATE OR REPLACE FUNCTION order_audit_event_refuse_change()
            RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'DELETE' THEN
                    IF order_audit_archive_covers(
                        OLD.id, COALESCE(OLD.order_id, 0), OLD.timestamp
                    ) THEN
                        RETURN OLD;
                    END IF;
                END IF;
                RAISE EXCEPTION 'order audit events are append-only: % refused',
                    TG_OP USING ERRCODE = 'insufficient_privilege';
            END $$;
            DROP TRIGGER IF EXISTS order_audit_event_append_only
                ON order_audit_event;
            CREATE TRIGGER order_audit_event_append_only
                BEFORE UPDATE OR DELETE ON order_audit_event
                FOR EACH ROW EXECUTE FUNCTION order_audit_event_refuse_change();
            DROP TRIGGER IF EXISTS order_audit_event_no_truncate
                ON order_audit_event;
            CREATE TRIGGER order_audit_event_no_truncate
                BEFORE TRUNCATE ON order_audit_event
                FOR EACH STATEMENT EXECUTE FUNCTION order_audit_event_refuse_change();
            """
        )
        # Appending reads the end of each chain and the verification walks
        # them in order: both by chain, then event.
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS order_audit_event_chain_index
                ON order_audit_event ((COALESCE(order_id, 0)), id)
                WHERE hash IS NOT NULL
            """
        )
        # Access events by login and kind, newest last: the lockout counts a
        # login's recent failures and the access review reads last logins.
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS order_audit_event_login_event_index
                ON order_audit_event (login, event, timestamp)
                WHERE login IS NOT NULL
            """
        )
        # Failed logins and locks by address: the lockout of an address
        # counts its recent failures, across logins.
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS order_audit_event_address_event_index
                ON order_audit_event (ip_address, event, timestamp)
                WHERE ip_address IS NOT NULL
            """
        )
        # The hash each chain ends on, one row per chain (0: events of no
        # order). Appending locks its row: writers of one chain take turns,
        # and one whose snapshot is older than the last append fails with a
        # serialization error (Odoo retries the request) instead of chaining
        # to an event it cannot see. Empty for chains older than the table:
        # their end is then read from the events.
        self.env.cr.execute(
            """
            CREATE TABLE IF NOT EXISTS order_audit_chain_head (
                chain_key integer PRIMARY KEY,
                hash varchar
            )
            """
        )

    # ----------------------------------------------------------- compute --

    @api.depends("event", "order_id", "res_model", "res_id", "login")
    def _compute_display_name(self):
        labels = dict(self._fields["event"]._description_selection(self.env))
        for event in self:
            subject = event.order_id.display_name or event.res_name or event.login
            event.display_name = " · ".join(
                filter(None, [labels.get(event.event), subject])
            )

    @api.depends("event", "res_model", "res_id", "changes")
    def _compute_readable_changes(self):
        names = self._readable_names()
        for event in self:
            rows = event._readable_rows(names)
            model = self.env.get(event.res_model) if event.res_model else None
            event.res_name = (
                names.get((model._name, event.res_id), f"#{event.res_id}")
                if model is not None and event.res_id
                else False
            )
            event.changes_summary = "; ".join(
                f"{label}: {old} → {new}" for label, old, new in rows
            )
            event.changes_html = rows and self._changes_table(rows)

    def _readable_names(self):
        """Return {(model, id): display name} of every record these events name.

        One read per model for all the events: the records they are about and
        the records their changes point to. Records deleted since are missing.
        """
        wanted = {}
        for event in self:
            model = self.env.get(event.res_model) if event.res_model else None
            if model is None:
                continue
            if event.res_id:
                wanted.setdefault(model._name, set()).add(event.res_id)
            for name, values in event._changes_dict().items():
                field = model._fields.get(name)
                if field is None or not field.relational:
                    continue
                for value in values:
                    ids = value if isinstance(value, list) else [value]
                    wanted.setdefault(field.comodel_name, set()).update(
                        i for i in ids if isinstance(i, int) and i
                    )
        names = {}
        for model_name, ids in wanted.items():
            # The history names what a change pointed to, also for readers who
            # may not open that record.
            records = self.env[model_name].sudo().browse(ids).exists()
            names.update(
                ((model_name, record.id), record.display_name) for record in records
            )
        return names

    def _changes_table(self, rows):
        head = Markup("<tr><th>%s</th><th>%s</th><th>%s</th></tr>") % (
            self.env._("Field"),
            self.env._("Before"),
            self.env._("After"),
        )
        body = Markup().join(
            Markup("<tr><td>%s</td><td>%s</td><td>%s</td></tr>") % row for row in rows
        )
        return Markup(
            '<table class="table table-sm o_order_audit_changes">'
            "<thead>%s</thead><tbody>%s</tbody></table>"
        ) % (head, body)

    def _changes_dict(self):
        self.ensure_one()
        try:
            changes = json.loads(self.changes or "{}")
        except ValueError:
            return {}
        return changes if isinstance(changes, dict) else {}

    def _readable_rows(self, names):
        """Return [(field label, old text, new text)] of this event's changes."""
        self.ensure_one()
        model = self.env.get(self.res_model) if self.res_model else None
        rows = []
        for name, values in sorted(self._changes_dict().items()):
            field = model._fields.get(name) if model is not None else None
            old, new = (list(values) + [False, False])[:2]
            rows.append(
                (
                    field._description_string(self.env) if field else name,
                    # A record created had no values before, one deleted has
                    # none after: not even "No".
                    ""
                    if self.event == "create"
                    else self._readable_value(field, old, names),
                    ""
                    if self.event == "delete"
                    else self._readable_value(field, new, names),
                )
            )
        return rows

    def _readable_value(self, field, value, names):
        if field is None:
            return "" if value in (None, False) else str(value)
        if field.type == "boolean":
            return self.env._("Yes") if value else self.env._("No")
        if value is None or value is False or value == []:
            return ""
        if field.relational:
            ids = value if isinstance(value, list) else [value]
            return ", ".join(names.get((field.comodel_name, i), f"#{i}") for i in ids)
        if field.type == "selection":
            return dict(field._description_selection(self.env)).get(value, value)
        return str(value)

    # -------------------------------------------------------------- CRUD --

    def write(self, vals):
        raise UserError(self.env._("Audit events cannot be changed."))

    @api.ondelete(at_uninstall=False)
    def _unlink_except_always(self):
        raise UserError(self.env._("Audit events cannot be deleted."))

    # ---------------------------------------------------------- business --

    @api.model
    def _record(self, orders, event, stage, to_state, from_states=None, note=None):
        """Write one event per order in a single batch.

        The only writer of order events: every transition goes through here.

        :param orders: sale.order recordset the event applies to
        :param str event: short code of what happened (``submit``, ``ship``...)
        :param str stage: which of the order's states moved (see STAGES)
        :param str to_state: the state reached
        :param dict from_states: order id -> state left, when it is known
        :param str note: free text kept with the event (a rejection reason...)
        """
        from_states = from_states or {}
        now = fields.Datetime.now()
        vals_list = [
            {
                "timestamp": now,
                "user_id": self.env.uid,
                "order_id": order.id,
                "event": event,
                "stage": stage,
                "from_state": from_states.get(order.id),
                "to_state": to_state,
                "note": note,
            }
            for order in orders
        ]
        self._chain(vals_list)
        # Events are written by whoever acts; reading them is what rights guard.
        return self.sudo().create(vals_list)

    @api.model
    def _record_events(self, vals_list):
        """Write events that are not order transitions, in a single batch.

        The writer of access events (logins, handovers) and data changes. Each
        values dict holds ``event`` and ``stage`` and any of ``order_id``,
        ``res_model``, ``res_id``, ``login``, ``ip_address``, ``user_agent``,
        ``changes`` (a dict, stored as JSON) and ``note``. The time and the
        acting user are filled in, and the address and browser of the HTTP
        request being served, if any, when not given.

        :return: the created events
        """
        if not vals_list:
            return self.browse()
        now = fields.Datetime.now()
        ip_address, user_agent = self._request_origin()
        events = []
        for vals in vals_list:
            vals = dict(vals)
            vals.setdefault("timestamp", now)
            vals.setdefault("user_id", self.env.uid)
            vals.setdefault("ip_address", ip_address)
            vals.setdefault("user_agent", user_agent)
            if isinstance(vals.get("changes"), dict):
                vals["changes"] = json.dumps(
                    vals["changes"], sort_keys=True, default=str, ensure_ascii=False
                )
            events.append(vals)
        self._chain(events)
        return self.sudo().create(events)

    @api.model
    def _request_origin(self):
        """Return (IP address, user agent) of the HTTP request being served."""
        req = request
        if not req or not getattr(req, "httprequest", None):
            return False, False
        # The header as sent: Odoo's parsed user agent is false for any client
        # it does not recognise as a browser (scripts, tools).
        agent = req.httprequest.headers.get("User-Agent", "")
        return (
            req.httprequest.remote_addr or False,
            agent[:USER_AGENT_SIZE] or False,
        )

    # ------------------------------------------------------ data changes --
    # Models whose changes the regulation asks to keep list them in
    # ``_order_audited_fields``; ``_order_audit_domain`` narrows the records
    # concerned, ``_order_audit_order_path`` leads to a record's order, whose
    # chain its changes then join.

    @api.model
    @contextmanager
    def _changes_logged(self, records, vals):
        """Record what writing ``vals`` changes in the audited fields of ``records``.

        Wrap a model's ``super().write(vals)`` with it. The old values of the
        audited fields written are read for all the records at once before the
        write, compared after it, and every change goes in one batch of
        ``change`` events. Fields the write recomputes on its own are not what
        the caller wrote, and are left out. A write of no audited field costs
        nothing; one of audited fields costs the same queries for one record
        and field as for many.

        :param records: the records written
        :param dict vals: what is written (only its keys are used)
        """
        names = [name for name in records._order_audited_fields if name in vals]
        records = self._audited_records(records) if names else records.browse()
        before = self._audit_values(records, names)
        yield
        if not records:
            return
        after = self._audit_values(records, names)
        changes = {}
        for record_id, old_values in before.items():
            changed = {
                name: [old, after[record_id][name]]
                for name, old in old_values.items()
                if old != after[record_id][name]
            }
            if changed:
                changes[record_id] = changed
        if changes:
            changed = records.browse(list(changes))
            self._record_data_events(
                records._name, "change", changes, self._audit_order_ids(changed)
            )

    @api.model
    def _log_created(self, records):
        """Record the creation of ``records`` with their audited values."""
        records = self._audited_records(records)
        if not records:
            return
        values = self._audit_values(records, records._order_audited_fields)
        changes = {
            record_id: {
                name: [False, value]
                for name, value in record_values.items()
                if value is not False and value != []
            }
            for record_id, record_values in values.items()
        }
        self._record_data_events(
            records._name, "create", changes, self._audit_order_ids(records)
        )

    @api.model
    @contextmanager
    def _deletion_logged(self, records):
        """Record the deletion of ``records`` with the audited values they had.

        Wrap a model's ``super().unlink()`` with it: the values and the order
        are read before the records go, the events written once they are gone.
        """
        records = self._audited_records(records)
        values = self._audit_values(records, records._order_audited_fields)
        orders = self._audit_order_ids(records)
        model, ids = records._name, records.ids
        yield
        if not ids:
            return
        changes = {
            record_id: {
                name: [value, False]
                for name, value in record_values.items()
                if value is not False and value != []
            }
            for record_id, record_values in values.items()
        }
        self._record_data_events(model, "delete", changes, orders)

    @api.model
    def _audited_records(self, records):
        # The history needs the values whoever writes: the write checks rights.
        records = records.sudo()
        domain = getattr(records, "_order_audit_domain", None)
        return records.filtered_domain(domain) if domain and records else records

    @api.model
    def _audit_values(self, records, names):
        """Return {record id: {field: value as the history keeps it}}."""
        if not records or not names:
            return {}
        # Read as any field is: the first one read fetches the columns of all
        # the records at once, which the write itself then finds in memory.
        service = self.env["order.field.encryption"]
        encrypted = {
            name for name in names if service._is_enabled(records._fields[name])
        }
        return {
            record.id: {
                name: (
                    self._audit_encrypted_value(records._fields[name], record)
                    if name in encrypted
                    else self._audit_value(records._fields[name], record[name])
                )
                for name in names
            }
            for record in records
        }

    @api.model
    def _audit_encrypted_value(self, field, record):
        """Return a keyed hash of an encrypted field's value: the history
        shows that it changed, never what it holds."""
        service = self.env["order.field.encryption"]
        text = service._plain_value(field, record)
        return text and service._fingerprint(field, text, purpose="audit")

    @api.model
    def _audit_value(self, field, value):
        """Return ``value`` of ``field`` in a form JSON keeps and compares."""
        if field.type == "many2one":
            return value.id or False
        if field.type in ("one2many", "many2many"):
            return sorted(value.ids)
        if field.type == "datetime":
            return fields.Datetime.to_string(value) if value else False
        if field.type == "date":
            return fields.Date.to_string(value) if value else False
        if field.type in ("char", "text", "html"):
            # Empty text is "" or False depending on the path: both mean none.
            return str(value) if value else False
        return value

    @api.model
    def _audit_order_ids(self, records):
        """Return {record id: id of its sale order}, for records of exactly one."""
        if records._name == "sale.order":
            return {record.id: record.id for record in records}
        path = getattr(records, "_order_audit_order_path", None)
        if not path:
            return {}
        result = {}
        for record in records.sudo():
            orders = record.mapped(path)
            if len(orders) == 1:
                result[record.id] = orders.id
        return result

    @api.model
    def _record_data_events(self, model, event, changes, order_ids):
        """Write one ``event`` per ``model`` record in ``changes`` ({id: changes})."""
        return self._record_events(
            [
                {
                    "event": event,
                    "stage": "data",
                    "res_model": model,
                    "res_id": record_id,
                    "order_id": order_ids.get(record_id) or False,
                    "changes": record_changes,
                }
                for record_id, record_changes in changes.items()
            ]
        )

    @api.model
    def _chain(self, vals_list):
        """Give each new event the hash of its chain's previous event, and its own.

        Two queries whatever the number of chains: lock each chain's head row
        (made for a new chain), reading the hash it ends on, then write the
        new ends. A head without a hash (a chain older than the heads) ends
        on its last event, or when all its events were archived, on the head
        its latest archive kept.
        """
        if not vals_list:
            return
        cr = self.env.cr
        keys = sorted({vals.get("order_id") or 0 for vals in vals_list})
        # In key order: two transactions locking several chains cannot deadlock.
        cr.execute(
            SQL(
                "INSERT INTO order_audit_chain_head AS head (chain_key) "
                "SELECT key FROM unnest(%s::int[]) AS key ORDER BY key "
                "ON CONFLICT (chain_key) DO UPDATE SET chain_key = head.chain_key "
                "RETURNING head.chain_key, COALESCE(head.hash, "
                "(SELECT hash FROM order_audit_event "
                "WHERE COALESCE(order_id, 0) = head.chain_key AND hash IS NOT NULL "
                "ORDER BY id DESC LIMIT 1), "
                "(SELECT hash FROM order_audit_archive_head "
                "WHERE chain_key = head.chain_key "
                "ORDER BY archive_id DESC LIMIT 1))",
                keys,
            )
        )
        last = {key: hash_ for key, hash_ in cr.fetchall() if hash_}
        for vals in vals_list:
            key = vals.get("order_id") or 0
            vals["previous_hash"] = last.get(key, "")
            vals["hash"] = last[key] = event_hash(vals, vals["previous_hash"])
        cr.execute(
            SQL(
                "UPDATE order_audit_chain_head AS head SET hash = new.hash "
                "FROM unnest(%s::int[], %s::varchar[]) AS new(key, hash) "
                "WHERE head.chain_key = new.key",
                list(last),
                list(last.values()),
            )
        )

    # -------------------------------------------------------- verification --

    @api.model
    def _verify_chain(self):
        """Walk every order's chain; return the first broken event, or nothing.

        Events written before the chains existed (no hash) are left out. A
        chain whose older events were archived starts from the head its latest
        archive kept.
        """
        cr = self.env.cr
        self.flush_model()
        columns = SQL(", ").join(SQL.identifier(name) for name in CHAINED_FIELDS)
        chain, last_hash, last_id = None, "", 0
        while True:
            cr.execute(
                SQL(
                    "SELECT id, COALESCE(order_id, 0), %s, previous_hash, hash "
                    "FROM order_audit_event "
                    "WHERE hash IS NOT NULL AND (COALESCE(order_id, 0), id) > (%s, %s) "
                    "ORDER BY COALESCE(order_id, 0), id LIMIT %s",
                    columns,
                    chain or 0,
                    last_id,
                    VERIFY_BATCH,
                )
            )
            rows = cr.fetchall()
            if not rows:
                return self.browse()
            walk = [
                (row[0], row[1], dict(zip(CHAINED_FIELDS, row[2:-2], strict=True)))
                + tuple(row[-2:])
                for row in rows
            ]
            heads = self.env["order.audit.archive.head"]._get_latest_hashes(
                {row[1] for row in rows}
            )
            broken, chain, last_hash = first_broken_link(walk, chain, last_hash, heads)
            if broken:
                return self.browse(broken)
            last_id = walk[-1][0]

    @api.model
    def _get_chain_size(self):
        """Return (events, chains) that the verification walks."""
        self.flush_model()
        self.env.cr.execute(
            "SELECT count(*), count(DISTINCT COALESCE(order_id, 0)) "
            "FROM order_audit_event WHERE hash IS NOT NULL"
        )
        return self.env.cr.fetchone()

    @api.model
    def _cron_verify_chain(self):
        broken = self._verify_chain()
        if broken:
            _logger.error(
                "order audit chain broken at event %s: it or an earlier one was "
                "changed outside Odoo",
                broken.id,
            )
        else:
            _logger.info("order audit chain verified")
        return broken

    @api.model
    def action_verify_chain(self):
        """Verify the chain now and say what was found."""
        broken = self._cron_verify_chain()
        message = (
            self.env._(
                "The history was changed outside Odoo: the chain breaks at event "
                "%(event)s (%(order)s, %(when)s).",
                event=broken.id,
                order=broken.order_id.display_name,
                when=broken.timestamp,
            )
            if broken
            else self.env._("The whole order history is intact.")
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Order history verification"),
                "message": message,
                "type": "danger" if broken else "success",
                "sticky": bool(broken),
            },
        }
