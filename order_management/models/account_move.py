from odoo import models


class AccountMove(models.Model):
    _inherit = "account.move"

    @property
    def _mail_post_access(self):
        # Odoo lets whoever reads an invoice post on it, attach files to its
        # messages and plan activities; an auditor writes nothing, so may do
        # it only with the right to change the invoice (as on orders).
        if self.env.user.has_group("order_management.group_order_auditor"):
            return "write"
        return super()._mail_post_access

    def _post(self, soft=True):
        posted = super()._post(soft=soft)

        invoices = posted.filtered(lambda m: m.move_type == "out_invoice")
        orders = invoices._sale_orders_to_follow()
        if orders:
            # Finance's to-do for the signed order is done once it is invoiced.
            orders.activity_feedback(
                ["order_management.mail_activity_type_order_invoice"]
            )
            self.env["order.audit.event"]._record(
                orders,
                "invoice",
                "completion",
                "invoiced",
                dict.fromkeys(orders.ids, "to_invoice"),
                note=", ".join(invoices.mapped("name")),
            )
        return posted

    def _sale_orders_to_follow(self):
        """Return the orders whose completion these moves may advance."""
        invoices = self.filtered(lambda m: m.move_type == "out_invoice")
        # Finance follows orders through their invoices, whoever owns them.
        return invoices.sudo().line_ids.sale_line_ids.order_id
