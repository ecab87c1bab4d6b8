from odoo import api, fields, models
from odoo.exceptions import UserError

ROLES = [
    ("clerk", "Clerk"),
    ("reviewer", "Reviewer"),
    ("logistics", "Logistics"),
]

# Not figures: what places a row.
PLACING_FIELDS = {"snapshot_id", "role", "user_id", "company_id", "currency_id"}


class OrderScorecardSnapshotLine(models.Model):
    """One person's scorecard in a snapshot; without a person, everyone's.

    Its figures are the columns of the scorecard of its role, copied when
    the snapshot was taken; the columns a role does not have stay empty.
    """

    _name = "order.scorecard.snapshot.line"
    _description = "Scorecard Snapshot Line"
    _order = "snapshot_id, role, user_id nulls first, id"

    snapshot_id = fields.Many2one(
        "order.scorecard.snapshot",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
    )
    company_id = fields.Many2one(related="snapshot_id.company_id", store=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    role = fields.Selection(ROLES, required=True, readonly=True)
    user_id = fields.Many2one(
        "res.users", string="Person", readonly=True, help="Empty: everyone."
    )

    # Clerk.
    order_count = fields.Integer(string="Orders Entered", readonly=True)
    decided_count = fields.Integer(string="Decided On", readonly=True)
    first_pass_count = fields.Integer(string="Accepted First Time", readonly=True)
    first_pass_pct = fields.Float(
        string="First-Pass Acceptance (%)", readonly=True, aggregator=None
    )
    hold_count = fields.Integer(string="Holds by Checks", readonly=True)
    rejection_count = fields.Integer(string="Rejections", readonly=True)
    amount_untaxed = fields.Monetary(string="Untaxed Amount", readonly=True)
    margin = fields.Monetary(readonly=True)
    # Clerk and reviewer.
    rejection_reasons = fields.Char(readonly=True)
    # Reviewer.
    review_count = fields.Integer(string="Decisions", readonly=True)
    approved_count = fields.Integer(string="Approved", readonly=True)
    rejected_count = fields.Integer(string="Rejected", readonly=True)
    median_hours = fields.Float(
        string="Median Lead Time (h)", readonly=True, aggregator=None
    )
    p90_hours = fields.Float(
        string="90th Percentile Lead Time (h)", readonly=True, aggregator=None
    )
    average_hours = fields.Float(
        string="Average Lead Time (h)", readonly=True, aggregator=None
    )
    late_count = fields.Integer(string="Past Deadline", readonly=True)
    on_time_pct = fields.Float(
        string="Within Deadline (%)", readonly=True, aggregator=None
    )
    # Logistics.
    shipped_count = fields.Integer(string="Orders Shipped", readonly=True)
    shipped_on_time_count = fields.Integer(string="Shipped On Time", readonly=True)
    shipped_on_time_pct = fields.Float(
        string="On-Time Shipping (%)", readonly=True, aggregator=None
    )
    delivered_count = fields.Integer(string="Delivered", readonly=True)
    delivered_on_time_count = fields.Integer(string="Delivered On Time", readonly=True)
    delivered_on_time_pct = fields.Float(
        string="On-Time Delivery (%)", readonly=True, aggregator=None
    )
    incident_count = fields.Integer(string="Incidents", readonly=True)
    incident_order_count = fields.Integer(string="Orders with Incidents", readonly=True)

    # -------------------------------------------------------------- CRUD --

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.context.get("order_scorecard_snapshot_take"):
            raise UserError(
                self.env._("Scorecard figures are copied by taking a snapshot.")
            )
        return super().create(vals_list)

    def write(self, vals):
        raise UserError(self.env._("The figures of a snapshot cannot be changed."))

    @api.ondelete(at_uninstall=False)
    def _unlink_except_always(self):
        raise UserError(self.env._("The figures of a snapshot cannot be deleted."))

    # ----------------------------------------------------------- helpers --

    @api.model
    def _get_figure_names(self):
        """Return the names of the fields that hold copied figures."""
        return [
            name
            for name, field in self._fields.items()
            if field.store and not field.automatic and name not in PLACING_FIELDS
        ]
