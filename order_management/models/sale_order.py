import logging

from psycopg2.errors import LockNotAvailable

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from ..tools.fingerprint import order_fingerprint

_logger = logging.getLogger(__name__)

REVIEW_STATES = [
    ("draft", "Not submitted"),
    ("waiting", "Waiting for review"),
    ("rejected", "Rejected"),
    ("approved", "Approved"),
]

SHIPMENT_STATES = [
    ("none", "Nothing to ship"),
    ("to_ship", "To ship"),
    ("shipped", "Shipped"),
    ("signed", "Signed"),
]

COMPLETION_STATES = [
    ("open", "Open"),
    ("to_invoice", "To invoice"),
    ("invoiced", "Invoiced"),
    ("paid", "Paid"),
    ("completed", "Completed"),
]

# Written only by the review and completion services, never by a form or RPC.
PROTECTED_FIELDS = {"review_state", "review_fingerprint", "completed_date"}

# Events recorded when Odoo's own order state moves.
SALE_STATE_EVENTS = {
    "sale": "confirm",
    "cancel": "cancel",
    "sent": "send",
    "draft": "reset",
}

PAID_STATES = ("paid", "in_payment")


class SaleOrder(models.Model):
    _inherit = "sale.order"

    # ------------------------------------------------------------ fields --

    review_state = fields.Selection(
        REVIEW_STATES,
        default="draft",
        required=True,
        copy=False,
        readonly=True,
        index=True,
        tracking=True,
    )
    review_fingerprint = fields.Char(
        copy=False,
        readonly=True,
        help="Fingerprint of the order as it was approved. The order can be "
        "confirmed only while its content still has this fingerprint.",
    )
    order_review_ids = fields.One2many(
        "sale.order.review", "order_id", string="Review Rounds", readonly=True
    )
    review_reason = fields.Text(
        string="Rejection Reason",
        compute="_compute_review_reason",
        help="Why the latest review rejected the order.",
    )
    audit_event_ids = fields.One2many(
        "order.audit.event", "order_id", string="History", readonly=True
    )
    shipment_state = fields.Selection(
        SHIPMENT_STATES,
        compute="_compute_shipment_state",
        store=True,
        index=True,
    )
    completion_state = fields.Selection(
        COMPLETION_STATES,
        compute="_compute_completion_state",
        store=True,
        index=True,
    )
    completed_date = fields.Datetime(copy=False, readonly=True)

    # ----------------------------------------------------------- compute --

    @api.depends("order_review_ids.decision", "order_review_ids.reason")
    def _compute_review_reason(self):
        for order in self:
            latest = order.order_review_ids.sorted("id", reverse=True)[:1]
            order.review_reason = latest.decision == "rejected" and latest.reason

    @api.depends(
        "state",
        "picking_ids.state",
        "picking_ids.picking_type_code",
        "picking_ids.shipment_state",
    )
    def _compute_shipment_state(self):
        rank = [state for state, _label in SHIPMENT_STATES]
        for order in self:
            deliveries = order.picking_ids.filtered(
                lambda p: p.picking_type_code == "outgoing" and p.state != "cancel"
            )
            if order.state != "sale" or not deliveries:
                order.shipment_state = "none"
            elif any(p.state != "done" for p in deliveries):
                order.shipment_state = "to_ship"
            else:
                # The order is as far along as its least advanced delivery.
                order.shipment_state = min(
                    (p.shipment_state or "shipped" for p in deliveries),
                    key=rank.index,
                )

    @api.depends(
        "state",
        "invoice_status",
        "completed_date",
        "order_line.invoice_lines.move_id.state",
        "order_line.invoice_lines.move_id.payment_state",
    )
    def _compute_completion_state(self):
        for order in self:
            invoices = order.invoice_ids.filtered(
                lambda m: m.state == "posted" and m.move_type == "out_invoice"
            )
            if order.completed_date:
                order.completion_state = "completed"
            elif order.state != "sale":
                order.completion_state = "open"
            elif not invoices:
                order.completion_state = "to_invoice"
            elif order.invoice_status == "invoiced" and all(
                move.payment_state in PAID_STATES for move in invoices
            ):
                order.completion_state = "paid"
            else:
                order.completion_state = "invoiced"

    # -------------------------------------------------------------- CRUD --

    @api.model_create_multi
    def create(self, vals_list):
        orders = super().create(vals_list)

        # Review starts by itself once an order has been entered with lines.
        entered = orders.filtered(
            lambda o: o.order_line and o.state in ("draft", "sent")
        )
        if entered:
            entered._submit_for_review()
        return orders

    def write(self, vals):
        protected = PROTECTED_FIELDS.intersection(vals)
        if protected and not self.env.su:
            raise AccessError(
                self.env._(
                    "The fields %(fields)s change only through the review "
                    "and completion actions.",
                    fields=", ".join(sorted(protected)),
                )
            )
        old_states = {order.id: order.state for order in self}
        if vals.get("state") == "sale":
            self._check_confirmations(old_states, dict.fromkeys(self.ids, "sale"))

        result = super().write(vals)

        if "state" in vals:
            # Again after the write: it may have changed what was approved.
            self._check_confirmations(old_states)
            self._record_state_changes(old_states)
        self._reopen_changed_approvals()
        return result

    # ------------------------------------------------------------ gate --

    def _review_block_reason(self):
        """Return why this order may not be confirmed, or False.

        The single confirmation gate of the addon: every path that confirms
        an order (button, RPC, portal signature, online payment, import)
        ends in ``action_confirm`` or in a write of ``state``, and both ask
        this method.
        """
        self.ensure_one()
        if self.review_state != "approved":
            state = dict(REVIEW_STATES)[self.review_state]
            return self.env._(
                "Order %(order)s cannot be confirmed: it has not been approved "
                "by a reviewer (review: %(state)s).",
                order=self.name,
                state=state,
            )
        if self.review_fingerprint != self._review_content_fingerprint():
            return self.env._(
                "Order %(order)s cannot be confirmed: it changed after it was "
                "approved and must be reviewed again.",
                order=self.name,
            )
        return False

    def _confirmation_error_message(self):
        return super()._confirmation_error_message() or self._review_block_reason()

    def _check_confirmations(self, old_states, new_states=None):
        # A direct write of the state is a confirmation path like the others.
        for order in self:
            new_state = (new_states or {}).get(order.id, order.state)
            if new_state == "sale" and old_states[order.id] != "sale":
                reason = order._review_block_reason()
                if reason:
                    raise UserError(reason)

    def _review_content_fingerprint(self):
        """Return the fingerprint of what a reviewer approves on this order."""
        self.ensure_one()
        header = {
            "partner": self.partner_id.id,
            "invoice_address": self.partner_invoice_id.id,
            "delivery_address": self.partner_shipping_id.id,
            "pricelist": self.pricelist_id.id,
            "currency": self.currency_id.id,
            "payment_term": self.payment_term_id.id,
            "delivery_date": fields.Datetime.to_string(self.commitment_date),
            "amount_total": self.currency_id.round(self.amount_total),
        }
        lines = [
            (
                line.display_type or "",
                line.product_id.id,
                line.product_uom_qty,
                line.product_uom.id,
                line.price_unit,
                line.discount,
                sorted(line.tax_id.ids),
            )
            for line in self.order_line.sorted(lambda line: (line.sequence, line.id))
        ]
        return order_fingerprint(header, lines)

    def _reopen_changed_approvals(self):
        """Send approved quotations whose content changed back to review."""
        changed = self.filtered(
            lambda o: o.review_state == "approved"
            and o.state in ("draft", "sent")
            and o.review_fingerprint != o._review_content_fingerprint()
        )
        if changed:
            changed._submit_for_review(event="reopen")

    # ----------------------------------------------------------- actions --

    def action_submit_for_review(self):
        """Send entered or corrected orders to review."""
        self._check_role("order_management.group_order_clerk")
        for order in self:
            if order.review_state not in ("draft", "rejected"):
                raise UserError(
                    self.env._(
                        "Order %(order)s is already %(state)s.",
                        order=order.name,
                        state=dict(REVIEW_STATES)[order.review_state].lower(),
                    )
                )
            if order.state not in ("draft", "sent"):
                raise UserError(
                    self.env._(
                        "Order %(order)s is no longer a quotation.", order=order.name
                    )
                )
            if not order.order_line:
                raise UserError(
                    self.env._(
                        "Order %(order)s has no lines to review.", order=order.name
                    )
                )
        self._submit_for_review()
        return True

    def action_approve(self):
        """Approve the current version of orders waiting for review."""
        self._check_role("order_management.group_order_reviewer")
        self._lock_for_decision()

        reviews = self.env["sale.order.review"]
        for order in self:
            pending = order._pending_review()
            order._check_separation_of_duties(pending)
            fingerprint = order._review_content_fingerprint()
            pending.write(order._prepare_decision_vals("approved", fingerprint))
            reviews |= pending
            # The service writes what no form may write: see PROTECTED_FIELDS.
            order.sudo().write(
                {"review_state": "approved", "review_fingerprint": fingerprint}
            )

        self.env["order.audit.event"]._record(
            self, "approve", "review", "approved", dict.fromkeys(self.ids, "waiting")
        )
        return True

    def action_reject(self, reason):
        """Reject orders waiting for review and hand them back to their clerk.

        :param str reason: why; the clerk sees it on the order and in a to-do
        """
        self._check_role("order_management.group_order_reviewer")
        reason = (reason or "").strip()
        if not reason:
            raise UserError(self.env._("Give the reason for the rejection."))
        self._lock_for_decision()

        for order in self:
            pending = order._pending_review()
            order._check_separation_of_duties(pending)
            pending.write(order._prepare_decision_vals("rejected", reason=reason))
            order.sudo().write(
                {"review_state": "rejected", "review_fingerprint": False}
            )
            order._schedule_correction_activity(reason)

        self.env["order.audit.event"]._record(
            self,
            "reject",
            "review",
            "rejected",
            dict.fromkeys(self.ids, "waiting"),
            note=reason,
        )
        return True

    def action_open_reject_wizard(self):
        self._check_role("order_management.group_order_reviewer")
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Reject Order"),
            "res_model": "sale.order.reject.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_order_ids": self.ids},
        }

    # ------------------------------------------------------ completion --

    def _try_complete(self):
        """Complete and lock the orders that are signed for and paid."""
        done = self.filtered(
            lambda o: o.state == "sale"
            and not o.completed_date
            and o.shipment_state == "signed"
            and o.completion_state == "paid"
        )
        if not done:
            return done

        # Completion follows from facts that logistics and finance recorded;
        # it is no one's write permission on the order.
        done.sudo().write({"completed_date": fields.Datetime.now(), "locked": True})
        self.env["order.audit.event"]._record(
            done, "complete", "completion", "completed", dict.fromkeys(done.ids, "paid")
        )
        _logger.info("%s orders completed", len(done))
        return done

    # ----------------------------------------------------------- helpers --

    def _submit_for_review(self, event="submit"):
        """Open a new review round on each order (no rights check)."""
        from_states = {order.id: order.review_state for order in self}
        now = fields.Datetime.now()

        # Earlier pending rounds lose their object when the content changed.
        self.order_review_ids.filtered(lambda r: r.decision == "pending").sudo().write(
            {"decision": "superseded", "decision_date": now}
        )
        self.env["sale.order.review"].sudo().create(
            [
                {
                    "order_id": order.id,
                    "round": len(order.order_review_ids) + 1,
                    "requested_by_id": self.env.uid,
                    "requested_date": now,
                }
                for order in self
            ]
        )
        self.sudo().write({"review_state": "waiting", "review_fingerprint": False})
        self.activity_feedback(["order_management.mail_activity_type_order_correction"])
        self.env["order.audit.event"]._record(
            self, event, "review", "waiting", from_states
        )

    def _pending_review(self):
        self.ensure_one()
        pending = self.order_review_ids.filtered(lambda r: r.decision == "pending")
        if self.review_state != "waiting" or not pending:
            raise UserError(
                self.env._(
                    "Order %(order)s is not waiting for review (review: %(state)s).",
                    order=self.name,
                    state=dict(REVIEW_STATES)[self.review_state],
                )
            )
        return pending.sudo()[:1]

    def _check_separation_of_duties(self, review):
        self.ensure_one()
        user = self.env.user
        if user == self.create_uid or user == review.requested_by_id:
            raise AccessError(
                self.env._(
                    "You entered or submitted order %(order)s: another reviewer "
                    "must decide on it.",
                    order=self.name,
                )
            )

    def _prepare_decision_vals(self, decision, fingerprint=False, reason=False):
        return {
            "decision": decision,
            "reviewer_id": self.env.uid,
            "decision_date": fields.Datetime.now(),
            "fingerprint": fingerprint,
            "reason": reason,
        }

    def _lock_for_decision(self):
        """Take the orders' rows so that two reviewers cannot both decide."""
        try:
            self.env.cr.execute(
                SQL(
                    "SELECT id FROM sale_order WHERE id IN %s FOR UPDATE NOWAIT",
                    tuple(self.ids),
                )
            )
        except LockNotAvailable:
            raise UserError(
                self.env._(
                    "Another person is deciding on this order right now. "
                    "Reload it to see their decision."
                )
            ) from None
        # What we read before the lock may be stale.
        self.invalidate_recordset(["review_state"])
        self.order_review_ids.invalidate_recordset(["decision"])

    def _schedule_correction_activity(self, reason):
        self.ensure_one()
        clerk = self.create_uid
        if not clerk.active or clerk.share or clerk._is_superuser():
            clerk = self.user_id or self.env.user
        self.activity_schedule(
            "order_management.mail_activity_type_order_correction",
            user_id=clerk.id,
            note=reason,
        )

    def _check_role(self, group_xmlid):
        if not self.env.su and not self.env.user.has_group(group_xmlid):
            group = self.env.ref(group_xmlid)
            raise AccessError(
                self.env._("Only the %(role)s role may do this.", role=group.name)
            )

    def _record_state_changes(self, old_states):
        by_event = {}
        for order in self:
            old = old_states[order.id]
            if order.state != old and order.state in SALE_STATE_EVENTS:
                by_event.setdefault(order.state, self.browse())
                by_event[order.state] |= order
        for state, orders in by_event.items():
            self.env["order.audit.event"]._record(
                orders, SALE_STATE_EVENTS[state], "sale", state, old_states
            )
