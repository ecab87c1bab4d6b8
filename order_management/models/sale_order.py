import logging
from datetime import timedelta

from psycopg2.errors import LockNotAvailable

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL, plaintext2html

from ..tools.fingerprint import order_fingerprint
from .order_incident import OPEN_STATES as INCIDENT_OPEN_STATES

_logger = logging.getLogger(__name__)

REVIEW_STATES = [
    ("draft", "Not submitted"),
    ("hold", "Held by checks"),
    ("waiting", "Waiting for review"),
    ("rejected", "Rejected"),
    ("approved", "Approved"),
]

SHIPMENT_STATES = [
    ("none", "Nothing to ship"),
    ("to_ship", "To ship"),
    ("shipped", "Shipped"),
    ("in_transit", "In transit"),
    ("delivered", "Delivered"),
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
PROTECTED_FIELDS = {
    "review_state",
    "review_fingerprint",
    "completed_date",
    "confirm_after_review",
    "shipment_state",
    "completion_state",
}

# Fields of the order and of its lines that make up what a reviewer approves
# (see _review_content_fingerprint); other changes leave an approval alone.
REVIEWED_ORDER_FIELDS = {
    "company_id",
    "fiscal_position_id",
    "partner_id",
    "partner_invoice_id",
    "partner_shipping_id",
    "pricelist_id",
    "currency_id",
    "payment_term_id",
    "commitment_date",
    "order_line",
    "special_type_id",
    "special_note",
}
REVIEWED_LINE_FIELDS = {
    "is_delivery",
    "is_downpayment",
    "product_packaging_id",
    "product_packaging_qty",
    "display_type",
    "product_id",
    "product_uom_qty",
    "product_uom",
    "price_unit",
    "discount",
    "tax_id",
    "sequence",
    "order_id",
}

# Events recorded when Odoo's own order state moves.
SALE_STATE_EVENTS = {
    "sale": "confirm",
    "cancel": "cancel",
    "sent": "send",
    "draft": "reset",
}

PAID_STATES = ("paid", "in_payment")

# Who may decide a review round: reviewers, and Finance for credit reviews.
# Each round then names the one group that decides it.
REVIEWER_GROUPS = (
    "order_management.group_order_reviewer",
    "account.group_account_invoice",
)


class SaleOrder(models.Model):
    _name = "sale.order"
    _inherit = ["sale.order", "order.protected.fields.mixin"]
    _order_protected_fields = PROTECTED_FIELDS
    # Changes kept in the order's history. Not the states: their moves are
    # history events of their own. Not date_order: confirming sets it, and the
    # confirmation event says when.
    _order_audited_fields = (
        "partner_id",
        "partner_invoice_id",
        "partner_shipping_id",
        "company_id",
        "pricelist_id",
        "payment_term_id",
        "fiscal_position_id",
        "commitment_date",
        "validity_date",
        "client_order_ref",
        "origin",
        "user_id",
        "team_id",
        "warehouse_id",
        "carrier_id",
        "note",
        "special_type_id",
        "special_note",
        "locked",
    )

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
        groups="base.group_user",
        help="Fingerprint of the order as it was approved. The order can be "
        "confirmed only while its content still has this fingerprint.",
    )
    order_review_ids = fields.One2many(
        "sale.order.review",
        "order_id",
        string="Review Rounds",
        readonly=True,
        groups="base.group_user",
    )
    review_reason = fields.Text(
        string="Why Sent Back",
        compute="_compute_review_reason",
        groups="base.group_user",
        help="Why the latest review rejected the order, or which checks hold it.",
    )
    special_type_id = fields.Many2one(
        "order.special.type",
        string="Special Order",
        index="btree_not_null",
        tracking=True,
        help="Set when the order is not a standard one (rush, custom "
        "specification...): reviewers and the teams executing it are told.",
    )
    # Instructions for the teams, not for the customer.
    special_note = fields.Text(
        string="Special Order Note",
        groups="base.group_user",
        help="What is special about the order and how to handle it.",
    )
    # Built escaped by the checks, sanitized again all the same. It tells the
    # customer's credit exposure: not for logistics.
    check_preview = fields.Html(
        string="Checks as You Type",
        compute="_compute_check_preview",
        sanitize=True,
        groups="sales_team.group_sale_salesman,account.group_account_invoice,"
        "account.group_account_readonly",
        help="What the automatic checks say of the order as it is on screen, "
        "before it is saved and submitted.",
    )
    check_result_ids = fields.One2many(
        "order.check.result",
        "order_id",
        string="Checks",
        readonly=True,
        groups="base.group_user",
    )
    confirm_after_review = fields.Boolean(
        copy=False,
        readonly=True,
        help="The customer accepted the order (signature or payment) before it "
        "was approved: approval confirms it.",
    )
    audit_event_ids = fields.One2many(
        "order.audit.event",
        "order_id",
        string="History",
        readonly=True,
        groups="base.group_user",
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
    incident_ids = fields.One2many("order.incident", "order_id", string="Incidents")
    open_incident_count = fields.Integer(compute="_compute_open_incident_count")
    amount_invoiced_total = fields.Monetary(
        string="Invoiced", compute="_compute_amounts_collected"
    )
    amount_paid_total = fields.Monetary(
        string="Paid", compute="_compute_amounts_collected"
    )

    # ----------------------------------------------------------- compute --

    @api.depends(
        "review_state",
        "order_review_ids.decision",
        "order_review_ids.reason",
        "check_result_ids.message",
    )
    def _compute_review_reason(self):
        for order in self:
            if order.review_state == "hold":
                failed = order.check_result_ids.filtered("blocking")
                order.review_reason = "\n".join(failed.mapped("message"))
                continue
            latest = order.order_review_ids.sorted("id", reverse=True)[:1]
            order.review_reason = latest.decision == "rejected" and latest.reason

    @api.depends(
        "state",
        "review_state",
        "partner_id",
        "partner_shipping_id",
        "commitment_date",
        "special_type_id",
        "special_note",
        "order_line.product_id",
        "order_line.product_uom_qty",
        "order_line.price_unit",
        "order_line.discount",
    )
    def _compute_check_preview(self):
        checks = self.env["order.review.checks"]
        for order in self:
            # Only while the clerk can still change what the checks look at.
            editing = order.state in ("draft", "sent") and order.review_state in (
                "draft",
                "hold",
                "rejected",
            )
            order.check_preview = (
                checks._render(checks._preview(order)) if editing else False
            )

    @api.depends(
        "state",
        "picking_ids.state",
        "picking_ids.picking_type_code",
        "picking_ids.shipment_state",
    )
    def _compute_shipment_state(self):
        rank = [state for state, _label in SHIPMENT_STATES]
        # Read every delivery's state for the whole batch first: read order by
        # order, pending delivery states would be recomputed one order at a time.
        self.picking_ids.mapped("state")
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
                # Only a validation that passed the shipping checks counts:
                # a delivery marked done by other means is still to ship.
                states = [p.shipment_state for p in deliveries]
                order.shipment_state = (
                    min(states, key=rank.index) if all(states) else "to_ship"
                )

    @api.depends(
        "state",
        "invoice_status",
        "completed_date",
        "order_line.invoice_lines.move_id.state",
        "order_line.invoice_lines.move_id.payment_state",
    )
    def _compute_completion_state(self):
        # Same as above: the invoices' states for the whole batch at once.
        self.order_line.invoice_lines.move_id.mapped("payment_state")
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

    @api.depends("incident_ids.state")
    def _compute_open_incident_count(self):
        for order in self:
            order.open_incident_count = len(
                order.incident_ids.filtered(lambda i: i.state in INCIDENT_OPEN_STATES)
            )

    @api.depends("invoice_ids.state", "invoice_ids.amount_residual")
    def _compute_amounts_collected(self):
        for order in self:
            invoiced = paid = 0.0
            for move in order.invoice_ids.filtered(lambda m: m.state == "posted"):
                sign = -1 if move.move_type == "out_refund" else 1
                total = move.currency_id._convert(
                    move.amount_total, order.currency_id, order.company_id, move.date
                )
                residual = move.currency_id._convert(
                    move.amount_residual, order.currency_id, order.company_id, move.date
                )
                invoiced += sign * total
                paid += sign * (total - residual)
            order.amount_invoiced_total = invoiced
            order.amount_paid_total = paid

    # -------------------------------------------------------------- CRUD --

    @api.model_create_multi
    def create(self, vals_list):
        # Nor may a default from the context make an order born confirmed.
        self = self._without_protected_defaults(also=("state", "locked"))
        for vals in vals_list:
            self._check_protected_fields(vals)
            # An order is born a quotation: confirming is the gate's business.
            if vals.get("state", "draft") not in ("draft", "sent"):
                raise UserError(
                    self.env._(
                        "An order is created as a quotation and confirmed once "
                        "it is approved."
                    )
                )
        # The checks run while the lines are created, before Odoo subscribes
        # the creator; a held order's to-do has then already made its clerk a
        # follower, and Odoo's subscription, which looks for none, would add
        # them twice. Subscribe the creator here instead, as one who may be.
        subscribe_creator = not self.env.context.get("mail_create_nosubscribe")
        orders = super(
            SaleOrder, self.with_context(mail_create_nosubscribe=True)
        ).create(vals_list)
        orders = orders.with_env(self.env)
        if subscribe_creator:
            orders.message_subscribe(partner_ids=self.env.user.partner_id.ids)
        orders._submit_entered_orders()
        return orders

    def write(self, vals):
        self._check_protected_fields(vals)
        old_states = {order.id: order.state for order in self}
        content_changed = not REVIEWED_ORDER_FIELDS.isdisjoint(vals)
        if content_changed or {"state", "locked"} & set(vals):
            self._check_amendments(closing_only=not content_changed)
        if vals.get("state") == "sale":
            self._check_confirmations(old_states, dict.fromkeys(self.ids, "sale"))
        if vals.get("state") in ("draft", "sent"):
            self._check_back_to_quotation()

        with self.env["order.audit.event"]._changes_logged(self, vals):
            result = super().write(vals)

        if "state" in vals:
            # Again after the write: it may have changed what was approved,
            # directly or through values Odoo recomputes (taxes of a company).
            self._check_confirmations(old_states)
            self._record_state_changes(old_states)
            self.env["order.assignment.rule"]._assign_tasks(
                self.filtered(
                    lambda o: old_states[o.id] != "sale" and o.state == "sale"
                )
            )
        if content_changed:
            self._reopen_changed_reviews()
            self._submit_entered_orders()
        return result

    def _order_protected_fields_error(self, names):
        return self.env._(
            "The fields %(fields)s change only through the review, "
            "shipping and completion actions.",
            fields=names,
        )

    def _submit_entered_orders(self):
        """Send to review the quotations that now have lines and were never sent."""
        entered = self.filtered(
            lambda o: o.review_state == "draft"
            and o.state in ("draft", "sent")
            and o.order_line
        )
        if entered:
            entered._submit_for_review()

    def _check_amendments(self, closing_only=False):
        """Refuse changes to what was reviewed once an order is confirmed.

        A completed order is closed for everyone (its state and lock too); a
        confirmed one can only be amended by an Order Manager, and the
        amendment is recorded.

        :param bool closing_only: only the completed orders are checked
        """
        if self.env.su:
            return
        closed = self.filtered("completed_date")
        if closed:
            raise UserError(
                self.env._(
                    "Order %(order)s is completed: it can no longer change.",
                    order=closed[0].name,
                )
            )
        if closing_only:
            return
        confirmed = self.filtered(lambda o: o.state == "sale")
        if not confirmed:
            return
        if not self.env.user.has_group("order_management.group_order_manager"):
            raise UserError(
                self.env._(
                    "Order %(order)s is confirmed: only an Order Manager may "
                    "change what was reviewed.",
                    order=confirmed[0].name,
                )
            )
        self.env["order.audit.event"]._record(
            confirmed, "amend", "sale", "sale", dict.fromkeys(confirmed.ids, "sale")
        )

    def _check_back_to_quotation(self):
        """A confirmed order goes back to quotation only by being cancelled.

        Odoo's own buttons do it that way, and the cancellation stops its
        deliveries; a confirmed order written straight back to quotation
        would keep them running.
        """
        confirmed = self.filtered(lambda o: o.state == "sale")
        if confirmed and not self.env.su:
            raise UserError(
                self.env._(
                    "Order %(order)s is confirmed: cancel it before setting it "
                    "back to quotation.",
                    order=confirmed[0].name,
                )
            )

    def action_unlock(self):
        if any(order.completed_date for order in self):
            raise UserError(self.env._("A completed order stays locked."))
        return super().action_unlock()

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
            state = self._review_state_label(self.review_state)
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

    def _validate_order(self):
        """Confirm on the customer's signature, or wait for the review.

        The portal calls this once the customer signs. An order not yet
        approved is not confirmed: it is marked to confirm on approval, and
        its salesperson and reviewers are told.
        """
        waiting = self.filtered(lambda o: o._review_block_reason())
        if waiting:
            waiting._accept_before_review(self.env._("signed"))
        return super(SaleOrder, self - waiting)._validate_order()

    def _accept_before_review(self, how):
        """Remember that the customer accepted orders that are not approved."""
        self.sudo().write({"confirm_after_review": True})
        self.env["order.audit.event"]._record(
            self, "accept", "sale", "accepted", note=how
        )
        for order in self:
            people = (
                order.user_id
                | order.order_review_ids.filtered(
                    lambda r: r.decision == "pending"
                ).assigned_user_id
            )
            order.message_post(
                body=self.env._(
                    "The customer %(how)s this order before its review ended. "
                    "It will be confirmed once it is approved.",
                    how=how,
                ),
                partner_ids=people.partner_id.ids,
                subtype_xmlid="mail.mt_note",
            )
            if order.user_id:
                order.activity_schedule(
                    "mail.mail_activity_data_todo",
                    user_id=order.user_id.id,
                    note=plaintext2html(
                        self.env._(
                            "The customer %(how)s %(order)s, which waits for review.",
                            how=how,
                            order=order.name,
                        )
                    ),
                )

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
            "company": self.company_id.id,
            "fiscal_position": self.fiscal_position_id.id,
            "delivery_date": fields.Datetime.to_string(self.commitment_date),
            "special_type": self.special_type_id.id,
            "special_note": self.special_note or "",
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

    def _reopen_changed_reviews(self):
        """Send quotations whose reviewed content changed back to review.

        An approved quotation loses its approval; one waiting for review is
        checked again and gets a new round, asked by whoever changed it (who
        therefore cannot approve their own change).
        """

        def reviewed_fingerprint(order):
            if order.review_state == "approved":
                return order.review_fingerprint
            pending = order.order_review_ids.filtered(lambda r: r.decision == "pending")
            return pending[:1].requested_fingerprint

        changed = self.filtered(
            lambda o: o.state in ("draft", "sent")
            and o.review_state in ("waiting", "approved")
            and reviewed_fingerprint(o) != o._review_content_fingerprint()
        )
        if changed:
            changed._submit_for_review(event="reopen")

    # ----------------------------------------------------------- actions --

    def action_submit_for_review(self):
        """Send entered or corrected orders to review."""
        self._check_role("order_management.group_order_clerk")
        for order in self:
            if order.review_state not in ("draft", "hold", "rejected"):
                raise UserError(
                    self.env._(
                        "Order %(order)s is already %(state)s.",
                        order=order.name,
                        state=self._review_state_label(order.review_state).lower(),
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
        """Approve the current level of orders waiting for review.

        The last level approves the order itself; an earlier one opens the
        round of the next level, for another person.
        """
        self._check_role(*REVIEWER_GROUPS)
        self._lock_for_decision()

        approved = self.browse()
        next_level = self.browse()
        decided = self.env["sale.order.review"]
        fingerprints = {}
        policies = self.env["order.review.policy"]._for_orders(self)
        for order in self:
            pending = order._pending_review()
            order._check_reviewer(pending)
            fingerprints[order.id] = order._review_content_fingerprint()
            if pending.requested_fingerprint != fingerprints[order.id]:
                raise UserError(
                    self.env._(
                        "Order %(order)s changed since it was submitted: it must "
                        "be submitted again before anyone approves it.",
                        order=order.name,
                    )
                )
            pending.write(
                order._prepare_decision_vals("approved", fingerprints[order.id])
            )
            decided |= pending
            if pending.level < len(order._review_levels(policies[order.id])):
                next_level |= order
            else:
                approved |= order
        decided._close_review_activity()

        if next_level:
            next_level._open_review_rounds(level_of=lambda o: o._current_level() + 1)
            self.env["order.audit.event"]._record(
                next_level,
                "approve",
                "review",
                "waiting",
                dict.fromkeys(next_level.ids, "waiting"),
                note="next level",
            )
        if approved:
            for order in approved:
                # The service writes what no form may write: see PROTECTED_FIELDS.
                order.sudo().write(
                    {
                        "review_state": "approved",
                        "review_fingerprint": fingerprints[order.id],
                    }
                )
            self.env["order.audit.event"]._record(
                approved,
                "approve",
                "review",
                "approved",
                dict.fromkeys(approved.ids, "waiting"),
            )
            accepted = approved.filtered("confirm_after_review")
            if accepted:
                # The customer's signature or payment was the confirmation.
                accepted.sudo().action_confirm()
        return True

    def action_reject(self, reason, reason_id=False):
        """Reject orders waiting for review and hand them back to their clerk.

        :param str reason: why; the clerk sees it on the order and in a to-do
        :param int reason_id: an ``order.rejection.reason``, for the reports
        """
        self._check_role(*REVIEWER_GROUPS)
        reason = (reason or "").strip()
        if not reason:
            raise UserError(self.env._("Give the reason for the rejection."))
        self._lock_for_decision()

        for order in self:
            pending = order._pending_review()
            order._check_reviewer(pending)
            pending.write(
                dict(
                    order._prepare_decision_vals("rejected", reason=reason),
                    reason_id=reason_id,
                )
            )
            pending._close_review_activity()
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
        self._check_role(*REVIEWER_GROUPS)
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
            # An open incident still needs handling: the order stays open.
            and not o.open_incident_count
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
        """Check orders and send them to review, or hold them (no rights check)."""
        from_states = {order.id: order.review_state for order in self}
        now = fields.Datetime.now()

        # 1. Earlier pending rounds lose their object when the content changed.
        pending = self.order_review_ids.filtered(lambda r: r.decision == "pending")
        pending.sudo().write({"decision": "superseded", "decision_date": now})
        pending._close_review_activity()
        self.activity_feedback(["order_management.mail_activity_type_order_correction"])

        # 2. The automatic checks decide between review and hold.
        results = self.env["order.review.checks"]._run(self)
        held = self.filtered(lambda o: any(r["blocking"] for r in results[o.id]))
        to_review = self - held

        # 3. Held orders go back to their clerk with what failed.
        if held:
            held.sudo().write({"review_state": "hold", "review_fingerprint": False})
            for order in held:
                failures = [r["message"] for r in results[order.id] if r["blocking"]]
                order._schedule_correction_activity("\n".join(failures))
                self.env["order.audit.event"]._record(
                    order,
                    "hold",
                    "review",
                    "hold",
                    from_states,
                    note="\n".join(failures),
                )

        # 4. The others wait for their first reviewer.
        if to_review:
            to_review.sudo().write(
                {"review_state": "waiting", "review_fingerprint": False}
            )
            to_review._open_review_rounds(level_of=lambda o: 1)
            self.env["order.audit.event"]._record(
                to_review, event, "review", "waiting", from_states
            )

    def _review_state_label(self, state):
        """The review state as the user reads it, in their language."""
        field = self._fields["review_state"]
        return dict(field._description_selection(self.env))[state]

    def _pending_review(self):
        self.ensure_one()
        pending = self.order_review_ids.filtered(lambda r: r.decision == "pending")
        if self.review_state != "waiting" or not pending:
            raise UserError(
                self.env._(
                    "Order %(order)s is not waiting for review (review: %(state)s).",
                    order=self.name,
                    state=self._review_state_label(self.review_state),
                )
            )
        return pending.sudo()[:1]

    def _current_level(self):
        self.ensure_one()
        rounds = self.order_review_ids.filtered(lambda r: r.decision != "superseded")
        latest = rounds.sorted(lambda r: (r.round, r.level))[-1:]
        return latest.level or 0

    def _review_levels(self, policy=None):
        """Return the groups that review this order, one per level, in order."""
        self.ensure_one()
        policy = policy or self.env["order.review.policy"]._for_order(self)
        levels = [
            policy.level_one_group_id
            or self.env.ref("order_management.group_order_reviewer")
        ]
        if policy.level_two_group_id:
            levels.append(policy.level_two_group_id)
        special_group = self.special_type_id.extra_review_group_id
        if special_group and special_group not in levels:
            levels.append(special_group)
        if any(self.check_result_ids.mapped("needs_credit_review")):
            levels.append(self.env.ref("account.group_account_invoice"))
        return levels

    def _open_review_rounds(self, level_of):
        """Open, for each order, the round of the level ``level_of(order)``."""
        now = fields.Datetime.now()
        policies = self.env["order.review.policy"]._for_orders(self)
        deadlines = {}
        picker = self._reviewer_picker()
        vals_list = []
        for order in self:
            level = level_of(order)
            policy = policies[order.id]
            group = order._review_levels(policy)[level - 1]
            submission = max(order.order_review_ids.mapped("round"), default=0)
            first = order.order_review_ids.filtered(
                lambda r, s=submission: r.round == s and r.level == 1
            )
            # A later level was still asked for by whoever submitted the order.
            requester = first.requested_by_id if level > 1 else self.env.user
            # Every order of the batch starts now: one computation per policy.
            key = (policy.id, order.company_id.resource_calendar_id.id)
            if key not in deadlines:
                deadlines[key] = order._review_deadline(policy, now)
            deadline, reminder = deadlines[key]
            vals_list.append(
                {
                    "order_id": order.id,
                    "round": submission + 1 if level == 1 else submission,
                    "level": level,
                    "reviewer_group_id": group.id,
                    "assigned_user_id": picker(order, group).id,
                    "requested_by_id": requester.id,
                    "requested_date": now,
                    "deadline": deadline,
                    "reminder_date": reminder,
                    "requested_fingerprint": order._review_content_fingerprint(),
                }
            )
        reviews = self.env["sale.order.review"].sudo().create(vals_list)
        reviews._schedule_review_activity()
        return reviews

    def _review_deadline(self, policy, start):
        """Return (deadline, reminder time) in the company's working hours."""
        self.ensure_one()
        hours = policy.sla_hours or 8.0
        calendar = self.company_id.resource_calendar_id
        if not calendar:
            return (
                start + timedelta(hours=hours),
                start + timedelta(hours=max(hours - policy.reminder_hours, 0)),
            )
        deadline = calendar.plan_hours(hours, start, compute_leaves=True)
        reminder = calendar.plan_hours(
            max(hours - policy.reminder_hours, 0), start, compute_leaves=True
        )
        return deadline, reminder

    def _reviewer_picker(self):
        """Return a function (order, group) -> the reviewer to assign.

        It picks the member of the group with the fewest pending reviews,
        leaving out whoever entered the order or decided an earlier level of
        it, and counts each assignment it makes: one query for a whole batch.
        """
        Review = self.env["sale.order.review"].sudo()
        load = dict(
            Review._read_group(
                [("decision", "=", "pending")], ["assigned_user_id"], ["__count"]
            )
        )
        root = self.env.ref("base.user_root")

        def pick(order, group):
            latest = max(order.order_review_ids.mapped("round"), default=0)
            excluded = order.create_uid | root
            excluded |= order.order_review_ids.filtered(
                lambda r: r.decision == "approved" and r.round == latest
            ).reviewer_id
            candidates = group.sudo().users.filtered(
                lambda u: u.active and not u.share and u not in excluded
            )
            if not candidates:
                return self.env["res.users"]
            chosen = min(candidates, key=lambda u: (load.get(u, 0), u.id))
            load[chosen] = load.get(chosen, 0) + 1
            return chosen

        return pick

    def _check_reviewer(self, review):
        """Refuse a decision by the wrong person.

        The reviewer must belong to the round's group; whoever entered or
        submitted the order, or decided an earlier level of the same
        submission, may not decide.
        """
        self.ensure_one()
        user = self.env.user
        if review.reviewer_group_id and review.reviewer_group_id not in user.groups_id:
            raise AccessError(
                self.env._(
                    "Level %(level)s of order %(order)s is for %(group)s.",
                    level=review.level,
                    order=self.name,
                    group=review.reviewer_group_id.full_name,
                )
            )
        if user == self.create_uid or user == review.requested_by_id:
            raise AccessError(
                self.env._(
                    "You entered or submitted order %(order)s: another reviewer "
                    "must decide on it.",
                    order=self.name,
                )
            )
        earlier = self.order_review_ids.filtered(
            lambda r: r.round == review.round and r.level < review.level
        )
        if user in earlier.reviewer_id:
            raise AccessError(
                self.env._(
                    "You approved an earlier level of order %(order)s: another "
                    "reviewer must decide this one.",
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
        if not self:
            return
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
            # The note is HTML: a reviewer's text is shown as typed.
            note=plaintext2html(reason),
        )

    # ------------------------------------------------------------- portal --

    def _report_customer_incident(self, incident_type, description, photo=None):
        """Record a problem the customer reports, and tell the order's people.

        Called by the portal once the customer's access to the order is
        checked; the customer has no rights of their own on incidents.

        :param photo: (file name, bytes) or None
        """
        self.ensure_one()
        delivery = self.picking_ids.filtered(
            lambda p: p.picking_type_code == "outgoing" and p.state == "done"
        )[-1:]
        incident = (
            self.env["order.incident"]
            .sudo()
            .create(
                {
                    "order_id": self.id,
                    "picking_id": delivery.id,
                    "incident_type": incident_type,
                    "description": description,
                    "reported_via": "portal",
                    "responsible_id": self.user_id.id,
                }
            )
        )
        attachments = []
        if photo:
            attachments = [(photo[0] or "photo", photo[1])]
        incident.message_post(
            body=self.env._("Reported by the customer from the portal."),
            attachments=attachments,
            message_type="comment",
            subtype_xmlid="mail.mt_note",
        )
        if self.user_id:
            incident.activity_schedule(
                "mail.mail_activity_data_todo",
                user_id=self.user_id.id,
                summary=self.env._("Handle the customer's incident"),
            )
        return incident

    def _portal_timeline(self):
        """The steps of the order as its customer follows them, oldest first.

        :return: list of dicts: ``label``, ``date`` (or False when the step is
            still ahead), ``detail`` (text), ``url`` (a tracking page or False)
        """
        self.ensure_one()
        events = self.sudo().audit_event_ids.sorted("id")
        reached = {}
        for event in events:
            reached.setdefault(event.event, event.timestamp)
        deliveries = self.sudo().picking_ids.filtered(
            lambda p: p.picking_type_code == "outgoing" and p.state != "cancel"
        )
        shipped = deliveries.filtered("carrier_tracking_ref")[:1]
        steps = [
            ("submit", self.env._("Received"), ""),
            ("approve", self.env._("Reviewed"), ""),
            ("confirm", self.env._("Confirmed"), ""),
            (
                "ship",
                self.env._("Shipped"),
                shipped
                and self.env._(
                    "%(carrier)s, tracking number %(ref)s",
                    carrier=shipped.carrier_id.name,
                    ref=shipped.carrier_tracking_ref,
                ),
            ),
            ("transit", self.env._("In transit"), ""),
            ("deliver", self.env._("Delivered"), ""),
            (
                "sign",
                self.env._("Signed for"),
                deliveries.filtered("signed_by")[:1].signed_by or "",
            ),
            ("invoice", self.env._("Invoiced"), ""),
            ("pay", self.env._("Paid"), ""),
        ]
        # A signature is a delivery, whether or not it was reported before.
        reached.setdefault("deliver", reached.get("sign"))
        approved = self.review_state == "approved" or self.state == "sale"
        timeline = []
        for event, label, detail in steps:
            date = reached.get(event)
            if event == "approve" and not approved:
                date = False
            timeline.append(
                {
                    "label": label,
                    "date": date or False,
                    "detail": detail or "",
                    "url": shipped.carrier_tracking_url
                    if event == "ship" and date
                    else False,
                }
            )
        return timeline

    def _schedule_invoicing_activity(self):
        """Hand signed orders to Finance: a to-do for the least busy invoicer."""
        signed = self.filtered(
            lambda o: o.shipment_state == "signed"
            and o.completion_state == "to_invoice"
        )
        if not signed:
            return
        activity_type = self.env.ref(
            "order_management.mail_activity_type_order_invoice"
        )
        invoicers = (
            self.env.ref("account.group_account_invoice")
            .sudo()
            .users.filtered(lambda u: u.active and not u.share)
        )
        load = dict(
            self.env["mail.activity"]
            .sudo()
            ._read_group(
                [
                    ("activity_type_id", "=", activity_type.id),
                    ("user_id", "in", invoicers.ids),
                ],
                ["user_id"],
                ["__count"],
            )
        )
        for order in signed:
            invoicer = min(
                invoicers, key=lambda u: (load.get(u, 0), u.id), default=order.user_id
            )
            load[invoicer] = load.get(invoicer, 0) + 1
            order.sudo().activity_schedule(
                "order_management.mail_activity_type_order_invoice",
                user_id=invoicer.id or self.env.uid,
            )

    def _check_role(self, *group_xmlids):
        """Refuse the action unless the user holds one of the groups."""
        user = self.env.user
        if self.env.su or any(user.has_group(xmlid) for xmlid in group_xmlids):
            return
        raise AccessError(
            self.env._(
                "Only the %(role)s role may do this.",
                role=self.env.ref(group_xmlids[0]).full_name,
            )
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
