from odoo import api, models
from odoo.exceptions import UserError

from .sale_order import REVIEWED_LINE_FIELDS


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"
    # Changes kept in the order's history, as what a reviewer approves.
    _order_audited_fields = (
        "product_id",
        "name",
        "product_uom_qty",
        "product_uom",
        "price_unit",
        "discount",
        "tax_id",
        "product_packaging_id",
    )
    _order_audit_order_path = "order_id"

    # A line edited on its own, not through its order's form, must still
    # send an approved quotation back to review.

    @api.model_create_multi
    def create(self, vals_list):
        orders = self.env["sale.order"].browse(
            {vals["order_id"] for vals in vals_list if vals.get("order_id")}
        )
        orders._check_amendments(
            closing_only=all(self._is_automatic_line(vals) for vals in vals_list)
        )
        lines = super().create(vals_list)
        self.env["order.audit.event"]._log_created(lines._of_submitted_orders())
        lines.order_id._reopen_changed_reviews()
        lines.order_id._submit_entered_orders()
        return lines

    def write(self, vals):
        if (
            "order_id" in vals
            and not self.env.su
            and any(line.order_id.id != vals["order_id"] for line in self)
        ):
            raise UserError(self.env._("A line cannot move to another order."))
        reviewed = not REVIEWED_LINE_FIELDS.isdisjoint(vals)
        if reviewed:
            self.order_id._check_amendments()
        with self.env["order.audit.event"]._changes_logged(self, vals):
            result = super().write(vals)
        if reviewed:
            self.order_id._reopen_changed_reviews()
        return result

    def unlink(self):
        orders = self.order_id
        orders._check_amendments()
        Event = self.env["order.audit.event"]
        with Event._deletion_logged(self._of_submitted_orders()):
            result = super().unlink()
        orders.exists()._reopen_changed_reviews()
        return result

    def _of_submitted_orders(self):
        """The lines whose coming and going the history keeps.

        Until its first submission an order is being entered: the content
        submitted is its first version, and only what changes after counts.
        """
        return self.filtered(lambda line: line.order_id.review_state != "draft")

    @api.model
    def _is_automatic_line(self, vals):
        """Whether Odoo adds this line to a confirmed order by itself.

        Down payments come from Finance's invoicing wizard and delivery fees
        from Logistics' shipping; the flags alone prove nothing, the role does.
        """
        user = self.env.user
        if vals.get("is_downpayment"):
            return user.has_group("account.group_account_invoice")
        if vals.get("is_delivery"):
            return user.has_group("stock.group_stock_user")
        return False
