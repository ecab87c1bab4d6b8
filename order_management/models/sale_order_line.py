from odoo import api, models

from .sale_order import REVIEWED_LINE_FIELDS


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    # A line edited on its own, not through its order's form, must still
    # send an approved quotation back to review.

    @api.model_create_multi
    def create(self, vals_list):
        orders = self.env["sale.order"].browse(
            {vals["order_id"] for vals in vals_list if vals.get("order_id")}
        )
        # Down payments and delivery fees are Odoo's own lines, not amendments.
        if any(not self._is_automatic_line(vals) for vals in vals_list):
            orders._check_amendments()
        lines = super().create(vals_list)
        lines.order_id._reopen_changed_reviews()
        lines.order_id._submit_entered_orders()
        return lines

    def write(self, vals):
        reviewed = not REVIEWED_LINE_FIELDS.isdisjoint(vals)
        if reviewed:
            self.filtered(
                lambda line: not line.is_downpayment and not line.is_delivery
            ).order_id._check_amendments()
        result = super().write(vals)
        if reviewed:
            self.order_id._reopen_changed_reviews()
        return result

    def unlink(self):
        orders = self.order_id
        orders._check_amendments()
        result = super().unlink()
        orders.exists()._reopen_changed_reviews()
        return result

    @api.model
    def _is_automatic_line(self, vals):
        return bool(vals.get("is_downpayment") or vals.get("is_delivery"))
