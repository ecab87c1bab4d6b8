from odoo import api, fields, models
from odoo.tools import plaintext2html

DECISIONS = [
    ("pending", "Pending"),
    ("approved", "Approved"),
    ("rejected", "Rejected"),
    ("superseded", "Superseded"),
]


class SaleOrderReview(models.Model):
    """One review round of an order: asked once, decided once."""

    _name = "sale.order.review"
    _description = "Order Review Round"
    _order = "order_id, id desc"
    _rec_name = "order_id"

    order_id = fields.Many2one(
        "sale.order", required=True, readonly=True, ondelete="cascade", index=True
    )
    company_id = fields.Many2one(related="order_id.company_id", store=True)
    round = fields.Integer(readonly=True, help="1 for the first review of the order.")
    level = fields.Integer(
        readonly=True, default=1, help="1 for the first reviewer, 2 for the second..."
    )
    reviewer_group_id = fields.Many2one(
        "res.groups", string="Reviewers", readonly=True, help="Who may decide."
    )
    assigned_user_id = fields.Many2one(
        "res.users", string="Assigned To", readonly=True, index=True
    )
    deadline = fields.Datetime(readonly=True, index=True)
    reminder_date = fields.Datetime(readonly=True)
    reminded_date = fields.Datetime(readonly=True)
    escalated_date = fields.Datetime(readonly=True)
    is_late = fields.Boolean(compute="_compute_is_late")
    requested_by_id = fields.Many2one("res.users", readonly=True)
    requested_date = fields.Datetime(readonly=True)
    decision = fields.Selection(
        DECISIONS, required=True, default="pending", readonly=True, index=True
    )
    reviewer_id = fields.Many2one("res.users", readonly=True)
    decision_date = fields.Datetime(readonly=True)
    reason_id = fields.Many2one(
        "order.rejection.reason", string="Rejection Reason", readonly=True, index=True
    )
    reason = fields.Text(readonly=True, help="Why the order was rejected.")
    fingerprint = fields.Char(
        readonly=True, help="What the reviewer approved: see the order's gate."
    )
    requested_fingerprint = fields.Char(
        readonly=True, help="The order's content when the round was opened."
    )

    @api.depends("deadline", "decision", "decision_date")
    def _compute_is_late(self):
        now = fields.Datetime.now()
        for review in self:
            decided = review.decision_date if review.decision != "pending" else now
            review.is_late = bool(review.deadline and decided > review.deadline)

    # ---------------------------------------------------------- business --

    def _schedule_review_activity(self):
        """Give each round's assigned reviewer a to-do due on its deadline."""
        activity_type = self.env.ref("order_management.mail_activity_type_order_review")
        model = self.env["ir.model"]._get_id("sale.order")
        # One create for the batch; the reviewers may not write the order yet.
        # No e-mail per to-do: an import can open hundreds of rounds at once;
        # reviewers see their to-dos in Odoo and are reminded before deadlines.
        self.env["mail.activity"].sudo().with_context(
            mail_activity_quick_update=True
        ).create(
            [
                {
                    "res_model_id": model,
                    "res_id": review.order_id.id,
                    "activity_type_id": activity_type.id,
                    "summary": activity_type.summary,
                    "date_deadline": review.deadline and review.deadline.date(),
                    "user_id": review.assigned_user_id.id,
                    "note": self.env._("Review level %(level)s.", level=review.level),
                }
                for review in self.filtered("assigned_user_id")
            ]
        )

    def _close_review_activity(self):
        # The to-do has no object once the round is decided or superseded.
        if not self:
            return
        self.env["mail.activity"].sudo().search(
            [
                ("res_model", "=", "sale.order"),
                ("res_id", "in", self.order_id.ids),
                (
                    "activity_type_id",
                    "=",
                    self.env.ref("order_management.mail_activity_type_order_review").id,
                ),
            ]
        ).unlink()

    @api.model
    def _cron_review_deadlines(self):
        """Remind reviewers before a deadline and escalate once it passed.

        Only rounds still pending on orders still waiting are looked at, so a
        decided, superseded or cancelled review never reminds anyone.
        """
        now = fields.Datetime.now()
        live = [
            ("decision", "=", "pending"),
            ("order_id.review_state", "=", "waiting"),
            ("order_id.state", "in", ("draft", "sent")),
        ]
        to_remind = self.search(
            live
            + [
                ("reminded_date", "=", False),
                ("reminder_date", "<=", now),
                ("deadline", ">", now),
                ("assigned_user_id", "!=", False),
            ]
        )
        for review in to_remind:
            review.order_id.message_post(
                body=self.env._(
                    "Reminder: the review of %(order)s is due by %(deadline)s.",
                    order=review.order_id.name,
                    deadline=fields.Datetime.to_string(review.deadline),
                ),
                partner_ids=review.assigned_user_id.partner_id.ids,
                subtype_xmlid="mail.mt_note",
            )
        to_remind.write({"reminded_date": now})

        to_escalate = self.search(
            live + [("escalated_date", "=", False), ("deadline", "<=", now)]
        )
        managers = self.env.ref("order_management.group_order_manager").users.filtered(
            lambda u: u.active and not u.share and not u._is_superuser()
        )
        for review in to_escalate:
            for manager in managers:
                review.order_id.activity_schedule(
                    "order_management.mail_activity_type_review_escalation",
                    user_id=manager.id,
                    # An order's name is typed by its clerk: text, not HTML.
                    note=plaintext2html(
                        self.env._(
                            "The review of %(order)s passed its deadline "
                            "%(deadline)s.",
                            order=review.order_id.name,
                            deadline=fields.Datetime.to_string(review.deadline),
                        )
                    ),
                )
        to_escalate.write({"escalated_date": now})
        if to_escalate:
            self.env["order.audit.event"]._record(
                to_escalate.order_id,
                "escalate",
                "review",
                "waiting",
                dict.fromkeys(to_escalate.order_id.ids, "waiting"),
            )
        return len(to_remind), len(to_escalate)
