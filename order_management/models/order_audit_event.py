import json
import logging

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.http import request
from odoo.tools import SQL

from ..tools.audit_chain import CHAINED_FIELDS, event_hash, first_broken_link

_logger = logging.getLogger(__name__)

# Appends to an order's chain take a transaction-level lock on (this, order
# id), so that two transactions never chain to the same previous event.
CHAIN_LOCK = 421_186_510

# Longest user agent kept: beyond it, browsers' strings carry nothing useful.
USER_AGENT_SIZE = 512

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
    ("change", "Data changed"),
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
        "res.users", string="User", readonly=True, ondelete="restrict", index=True
    )
    order_id = fields.Many2one(
        "sale.order", string="Order", readonly=True, ondelete="restrict", index=True
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
    login = fields.Char(readonly=True)
    ip_address = fields.Char(string="IP Address", readonly=True)
    user_agent = fields.Char(readonly=True)
    # Data changes: {field name: [old value, new value]} as JSON.
    changes = fields.Text(readonly=True)
    previous_hash = fields.Char(readonly=True)
    hash = fields.Char(readonly=True)

    def init(self):
        # The database itself refuses to change or remove an event, whoever
        # asks, the Odoo superuser included. A new field with a default would
        # need its value written into existing rows: give new fields none.
        self.env.cr.execute(
            """
            CREATE OR REPLACE FUNCTION order_audit_event_refuse_change()
            RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
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
        # Access events by login and kind, newest last: the lockout counts a
        # login's recent failures and the access review reads last logins.
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS order_audit_event_login_event_index
                ON order_audit_event (login, event, timestamp)
                WHERE login IS NOT NULL
            """
        )

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

    @api.model
    def _chain(self, vals_list):
        """Give each new event the hash of its order's previous event, and its own.

        Two queries whatever the number of orders: lock their chains, then
        read the hash each of them ends on.
        """
        if not vals_list:
            return
        cr = self.env.cr
        keys = sorted({vals.get("order_id") or 0 for vals in vals_list})
        # In key order: two transactions locking several chains cannot deadlock.
        cr.execute(
            SQL(
                "SELECT pg_advisory_xact_lock(%s, key) "
                "FROM unnest(%s::int[]) AS key ORDER BY key",
                CHAIN_LOCK,
                keys,
            )
        )
        cr.execute(
            SQL(
                "SELECT DISTINCT ON (COALESCE(order_id, 0)) "
                "COALESCE(order_id, 0), hash FROM order_audit_event "
                "WHERE COALESCE(order_id, 0) = ANY(%s) AND hash IS NOT NULL "
                "ORDER BY COALESCE(order_id, 0), id DESC",
                keys,
            )
        )
        last = dict(cr.fetchall())
        for vals in vals_list:
            key = vals.get("order_id") or 0
            vals["previous_hash"] = last.get(key, "")
            vals["hash"] = last[key] = event_hash(vals, vals["previous_hash"])

    # -------------------------------------------------------- verification --

    @api.model
    def _verify_chain(self):
        """Walk every order's chain; return the first broken event, or nothing.

        Events written before the chains existed (no hash) are left out.
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
            broken, chain, last_hash = first_broken_link(walk, chain, last_hash)
            if broken:
                return self.browse(broken)
            last_id = walk[-1][0]

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
