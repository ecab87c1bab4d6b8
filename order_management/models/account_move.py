from odoo import models


class AccountMove(models.Model):
    _inherit = "account.move"
    # Changes of customer invoices and credit notes kept in the history, in
    # their order's chain when they invoice one order. Their posting is an
    # event of its own.
    _order_audited_fields = (
        "partner_id",
        "partner_shipping_id",
        "invoice_date",
        "invoice_date_due",
        "invoice_payment_term_id",
        "invoice_user_id",
        "fiscal_position_id",
        "currency_id",
        "journal_id",
        "ref",
        "payment_reference",
        "partner_bank_id",
    )
    _order_audit_domain = [("move_type", "in", ("out_invoice", "out_refund"))]
    _order_audit_order_path = "line_ids.sale_line_ids.order_id"

    def write(self, vals):
        with self.env["order.audit.event"]._changes_logged(self, vals):
            return super().write(vals)

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
