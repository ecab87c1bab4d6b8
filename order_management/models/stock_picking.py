from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

SHIPMENT_STATES = [
    ("shipped", "Shipped"),
    ("signed", "Signed"),
]

# Set by validation and by the signature confirmation, never typed in.
PROTECTED_FIELDS = {"shipment_state", "signed_date"}


class StockPicking(models.Model):
    _inherit = "stock.picking"

    # ------------------------------------------------------------ fields --

    shipment_state = fields.Selection(
        SHIPMENT_STATES, copy=False, readonly=True, index=True, tracking=True
    )
    signed_by = fields.Char(
        copy=False, help="Name of the person who signed for the delivery."
    )
    signed_date = fields.Datetime(copy=False, readonly=True)
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
        if not self.env.su:
            for vals in vals_list:
                self._check_protected_fields(vals)
            # Defaults from the context would set them all the same.
            self = self.with_context(
                {
                    key: value
                    for key, value in self.env.context.items()
                    if key[8:] not in PROTECTED_FIELDS or not key.startswith("default_")
                }
            )
        return super().create(vals_list)

    def write(self, vals):
        self._check_protected_fields(vals)
        return super().write(vals)

    def _check_protected_fields(self, vals):
        protected = PROTECTED_FIELDS.intersection(vals)
        if protected and not self.env.su:
            raise AccessError(
                self.env._(
                    "The fields %(fields)s change only by shipping and by "
                    "confirming the signature.",
                    fields=", ".join(sorted(protected)),
                )
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

    def action_confirm_signature(self):
        """Record that the customer signed for these delivered shipments."""
        self.env["sale.order"]._check_role("stock.group_stock_user")
        for picking in self:
            if picking.shipment_state != "shipped":
                raise UserError(
                    self.env._(
                        "%(picking)s has not been shipped, or is already signed.",
                        picking=picking.name,
                    )
                )
            if not (picking.signed_by or "").strip():
                raise UserError(
                    self.env._(
                        "Enter who signed for %(picking)s first.", picking=picking.name
                    )
                )
        self.sudo().write(
            {"shipment_state": "signed", "signed_date": fields.Datetime.now()}
        )

        orders = self.sale_id
        signed = orders.filtered(lambda o: o.shipment_state == "signed")
        self.env["order.audit.event"]._record(
            signed, "sign", "shipment", "signed", dict.fromkeys(signed.ids, "shipped")
        )
        signed._try_complete()
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
