from odoo import models


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    def reconcile(self):
        # A reconciliation is where an invoice becomes paid: follow its orders.
        orders = self.move_id._sale_orders_to_follow()
        was_paid = set(orders.filtered(lambda o: o.completion_state == "paid").ids)

        result = super().reconcile()

        newly_paid = orders.filtered(
            lambda o: o.completion_state == "paid" and o.id not in was_paid
        )
        if newly_paid:
            self.env["order.audit.event"]._record(
                newly_paid,
                "pay",
                "completion",
                "paid",
                dict.fromkeys(newly_paid.ids, "invoiced"),
            )
            newly_paid._try_complete()
        return result
