from odoo import api, fields, models
from odoo.exceptions import UserError

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
]

STAGES = [
    ("review", "Review"),
    ("sale", "Sale"),
    ("shipment", "Shipment"),
    ("incident", "Incident"),
    ("completion", "Completion"),
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
        # Events are written by whoever acts; reading them is what rights guard.
        return self.sudo().create(vals_list)
