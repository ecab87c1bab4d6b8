from odoo import api, fields, models
from odoo.exceptions import UserError

SHIPMENT_STATES = [
    ("shipped", "Shipped"),
    ("in_transit", "In transit"),
    ("delivered", "Delivered"),
    ("signed", "Signed"),
]

# The history event of each state an order reaches through its deliveries.
SHIPMENT_EVENTS = {
    "in_transit": "transit",
    "delivered": "deliver",
    "signed": "sign",
}

# Each tracking step may follow these states only.
NEXT_STEP_FROM = {
    "in_transit": ("shipped",),
    "delivered": ("shipped", "in_transit"),
    # The signature is the proof of delivery: it may come without a delivery
    # step recorded before it.
    "signed": ("shipped", "in_transit", "delivered"),
}

SIGNATURE_PROOF_GROUPS = (
    "stock.group_stock_user,account.group_account_invoice,"
    "account.group_account_readonly"
)

# Set by validation and by the tracking steps, never typed in.
PROTECTED_FIELDS = {
    "shipment_state",
    "in_transit_date",
    "delivered_date",
    "signed_date",
}


class StockPicking(models.Model):
    _name = "stock.picking"
    _inherit = ["stock.picking", "order.protected.fields.mixin"]
    _order_protected_fields = PROTECTED_FIELDS
    # Changes kept in the history of the delivery's order. Not the shipment
    # states and dates: the tracking steps record them as events.
    _order_audited_fields = (
        "partner_id",
        "scheduled_date",
        "date_deadline",
        "location_id",
        "location_dest_id",
        "user_id",
        "origin",
        "carrier_id",
        "carrier_tracking_ref",
        "signed_by",
    )
    _order_audit_order_path = "sale_id"

    # ------------------------------------------------------------ fields --

    shipment_state = fields.Selection(
        SHIPMENT_STATES, copy=False, readonly=True, index=True, tracking=True
    )
    signed_by = fields.Char(
        copy=False, help="Name of the person who signed for the delivery."
    )
    signed_date = fields.Datetime(copy=False, readonly=True)
    in_transit_date = fields.Datetime(copy=False, readonly=True)
    delivered_date = fields.Datetime(copy=False, readonly=True)
    # A customer's signature: for who ships, invoices or audits, not everyone
    # who may open a delivery (salespeople, the customer in the portal).
    signature_proof = fields.Binary(
        copy=False,
        attachment=True,
        groups=SIGNATURE_PROOF_GROUPS,
        help="The signed delivery note or a photo of it.",
    )
    signature_proof_name = fields.Char(copy=False, groups=SIGNATURE_PROOF_GROUPS)
    shipping_method = fields.Selection(
        related="carrier_id.shipping_method", string="Shipping Method"
    )
    # The teams shipping an order see what makes it special.
    order_special_type_id = fields.Many2one(
        related="sale_id.special_type_id", string="Special Order"
    )
    order_special_note = fields.Text(
        related="sale_id.special_note", string="Special Order Note"
    )

    # -------------------------------------------------------------- CRUD --

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_protected_fields(vals)
        return super(StockPicking, self._without_protected_defaults()).create(vals_list)

    def write(self, vals):
        self._check_protected_fields(vals)
        with self.env["order.audit.event"]._changes_logged(self, vals):
            return super().write(vals)

    def _order_protected_fields_error(self, names):
        return self.env._(
            "The fields %(fields)s change only by shipping and by "
            "confirming the signature.",
            fields=names,
        )

    # ----------------------------------------------------------- actions --

    def _action_done(self):
        shipments = self._customer_shipments()
        if shipments:
            self.env["sale.order"]._check_role("stock.group_stock_user")
            shipments._check_shipping_record()

        result = super()._action_done()

        shipments = shipments.filtered(lambda p: p.state == "done")
        if shipments:
            shipments.sudo().write({"shipment_state": "shipped"})
            orders = shipments.sale_id
            self.env["order.audit.event"]._record(
                orders,
                "ship",
                "shipment",
                "shipped",
                dict.fromkeys(orders.ids, "to_ship"),
            )
        return result

    def action_mark_in_transit(self):
        """The carrier reports the shipment on its way."""
        return self._advance("in_transit", {"in_transit_date": fields.Datetime.now()})

    def action_mark_delivered(self):
        """The carrier reports the shipment delivered."""
        return self._advance("delivered", {"delivered_date": fields.Datetime.now()})

    def action_confirm_signature(self):
        """Record that the customer signed for these shipments."""
        self.env["sale.order"]._check_role("stock.group_stock_user")
        for picking in self:
            if not (picking.signed_by or "").strip():
                raise UserError(
                    self.env._(
                        "Enter who signed for %(picking)s first.", picking=picking.name
                    )
                )
        now = fields.Datetime.now()
        self._advance("signed", {"signed_date": now})
        # A signature is a delivery too.
        self.filtered(lambda p: not p.delivered_date).sudo().write(
            {"delivered_date": now}
        )

        orders = self.sale_id
        orders._schedule_invoicing_activity()
        orders._try_complete()
        return True

    def _advance(self, state, values):
        """Move shipments to the tracking ``state`` and record it on their orders."""
        self.env["sale.order"]._check_role("stock.group_stock_user")
        # Labels in the user's language, not the English of SHIPMENT_STATES.
        labels = dict(self._fields["shipment_state"]._description_selection(self.env))
        for picking in self:
            if picking.shipment_state not in NEXT_STEP_FROM[state]:
                # Outside the message's call: the term extractor skips
                # translated calls nested in another one's arguments.
                not_shipped = self.env._("not shipped")
                raise UserError(
                    self.env._(
                        "%(picking)s cannot become %(state)s: it is %(current)s.",
                        picking=picking.name,
                        state=labels[state],
                        current=labels.get(picking.shipment_state, not_shipped),
                    )
                )
        orders = self.sale_id
        before = {order.id: order.shipment_state for order in orders}
        self.sudo().write(dict(values, shipment_state=state))

        moved = orders.filtered(lambda o: o.shipment_state != before[o.id])
        for order_state, group in moved.grouped("shipment_state").items():
            self.env["order.audit.event"]._record(
                group, SHIPMENT_EVENTS[order_state], "shipment", order_state, before
            )
        return True

    # ----------------------------------------------------------- helpers --

    def _customer_shipments(self):
        return self.filtered(lambda p: p.picking_type_code == "outgoing" and p.sale_id)

    def _check_shipping_record(self):
        missing = self.filtered(
            lambda p: not p.carrier_id or not (p.carrier_tracking_ref or "").strip()
        )
        if missing:
            raise UserError(
                self.env._(
                    "Set the carrier and the tracking number before shipping: "
                    "%(pickings)s.",
                    pickings=", ".join(missing.mapped("name")),
                )
            )
        for picking in self:
            carrier = picking.carrier_id
            if not carrier._tracking_ref_is_valid(picking.carrier_tracking_ref.strip()):
                raise UserError(
                    self.env._(
                        "%(ref)s is not a %(carrier)s tracking number (%(format)s).",
                        ref=picking.carrier_tracking_ref,
                        carrier=carrier.name,
                        format=carrier.tracking_ref_help
                        or carrier.tracking_ref_pattern,
                    )
                )
