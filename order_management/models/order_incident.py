from odoo import api, fields, models
from odoo.exceptions import UserError

INCIDENT_TYPES = [
    ("delay", "Delay"),
    ("damage", "Damage"),
    ("loss", "Loss"),
    ("wrong_item", "Wrong item"),
    ("refused", "Refused by the customer"),
    ("other", "Other"),
]

INCIDENT_STATES = [
    ("open", "Open"),
    ("in_progress", "Being handled"),
    ("resolved", "Resolved"),
    ("cancelled", "Cancelled"),
]

# Who reported the incident, and how.
REPORT_CHANNELS = [
    ("staff", "Staff"),
    ("customer", "Customer, to Staff"),
    ("portal", "Customer, in the Portal"),
]

# An incident in these states still needs someone: its order cannot complete.
OPEN_STATES = ("open", "in_progress")


class OrderIncident(models.Model):
    """A problem with an order's delivery, from its report to its result."""

    _name = "order.incident"
    _description = "Order Incident"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"

    name = fields.Char(
        string="Reference", required=True, readonly=True, copy=False, default="/"
    )
    order_id = fields.Many2one(
        "sale.order", required=True, index=True, ondelete="restrict", tracking=True
    )
    picking_id = fields.Many2one(
        "stock.picking",
        string="Delivery",
        domain="[('sale_id', '=', order_id), ('picking_type_code', '=', 'outgoing')]",
        tracking=True,
    )
    partner_id = fields.Many2one(
        related="order_id.partner_id.commercial_partner_id",
        string="Customer",
        store=True,
        index=True,
    )
    company_id = fields.Many2one(related="order_id.company_id", store=True)
    incident_type = fields.Selection(
        INCIDENT_TYPES, string="Type", required=True, tracking=True
    )
    description = fields.Text(required=True)
    handling = fields.Text(help="What was done about it, step by step.")
    result = fields.Text(help="How it ended: what the customer got.")
    responsible_id = fields.Many2one(
        "res.users",
        domain="[('share', '=', False)]",
        tracking=True,
        default=lambda self: self.env.user if not self.env.user.share else False,
    )
    deadline = fields.Date(tracking=True)
    state = fields.Selection(
        INCIDENT_STATES, default="open", required=True, tracking=True, index=True
    )
    # Was a boolean "reported by the customer" (portal only) before 18.0.1.1.0:
    # see migrations/18.0.1.1.0.
    reported_via = fields.Selection(
        REPORT_CHANNELS,
        string="Reported By",
        default="staff",
        required=True,
        help="Staff: noticed by the company. Customer, to Staff: the customer "
        "told someone (phone, email) who entered it. Customer, in the Portal: "
        "the customer reported it themselves.",
    )
    closed_date = fields.Datetime(readonly=True, copy=False)

    # -------------------------------------------------------------- CRUD --

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_reported_via(vals)
            if vals.get("name", "/") == "/":
                vals["name"] = (
                    self.env["ir.sequence"].next_by_code("order.incident") or "/"
                )
        incidents = super().create(vals_list)
        for incident in incidents:
            self.env["order.audit.event"]._record(
                incident.order_id,
                "incident",
                "incident",
                "open",
                note=f"{incident.name}: {incident.description}",
            )
        return incidents

    def write(self, vals):
        if "reported_via" in vals:
            self._check_reported_via(vals)
        return super().write(vals)

    def _check_reported_via(self, vals):
        """Only the portal (as superuser) records a report as the customer's
        own in the portal, and such a report keeps saying so."""
        if self.env.su:
            return
        portal = self.filtered(lambda incident: incident.reported_via == "portal")
        if vals.get("reported_via") == "portal" or (portal and "reported_via" in vals):
            raise UserError(
                self.env._(
                    "Only the customer portal records an incident as reported in "
                    "the portal."
                )
            )

    # ----------------------------------------------------------- actions --

    def action_start(self):
        self._check_state(("open",))
        self.write({"state": "in_progress"})

    def action_resolve(self):
        """Close incidents with their result; their orders may then complete."""
        self._check_state(OPEN_STATES)
        missing = self.filtered(lambda i: not (i.result or "").strip())
        if missing:
            raise UserError(
                self.env._(
                    "Write how %(incidents)s ended before resolving it.",
                    incidents=", ".join(missing.mapped("name")),
                )
            )
        self._close("resolved")

    def action_cancel(self):
        self._check_state(OPEN_STATES)
        self._close("cancelled")

    def _close(self, state):
        self.write({"state": state, "closed_date": fields.Datetime.now()})
        for incident in self:
            self.env["order.audit.event"]._record(
                incident.order_id,
                "incident_closed",
                "incident",
                state,
                note=f"{incident.name}: {incident.result or ''}",
            )
        self.order_id._try_complete()

    def _check_state(self, allowed):
        wrong = self.filtered(lambda i: i.state not in allowed)
        if wrong:
            raise UserError(
                self.env._(
                    "%(incidents)s cannot do this in its state.",
                    incidents=", ".join(wrong.mapped("name")),
                )
            )
