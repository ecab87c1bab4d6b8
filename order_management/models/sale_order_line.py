from odoo import api, models

from .sale_order import REVIEWED_LINE_FIELDS


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    # A line edited on its own, not through its order's form, must still
    # send an approved quotation back to review.

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        lines.order_id._reopen_changed_approvals()
        return lines

    def write(self, vals):
        result = super().write(vals)
        if not REVIEWED_LINE_FIELDS.isdisjoint(vals):
            self.order_id._reopen_changed_approvals()
        return result

    def unlink(self):
        orders = self.order_id
        result = super().unlink()
        orders.exists()._reopen_changed_approvals()
        return result
