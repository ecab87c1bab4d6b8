from odoo import models


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    def _check_amount_and_confirm_order(self):
        """Let a paid quotation wait for its review instead of confirming it.

        Odoo confirms a quotation once its payment covers it; an order that is
        not approved yet is instead marked to confirm on approval.
        """
        waiting = self.env["sale.order"]
        for tx in self:
            for order in tx.sale_order_ids:
                if order.state in ("draft", "sent") and order._review_block_reason():
                    waiting |= order
        if waiting:
            waiting._accept_before_review(self.env._("paid"))
        ready = self.filtered(lambda tx: not (tx.sale_order_ids & waiting))
        return super(PaymentTransaction, ready)._check_amount_and_confirm_order()
