from odoo import fields, models


class SaleOrderRejectWizard(models.TransientModel):
    _name = "sale.order.reject.wizard"
    _description = "Reject Orders"

    order_ids = fields.Many2many("sale.order", string="Orders", required=True)
    reason = fields.Text(
        required=True, help="The clerk sees this on the order and in a to-do."
    )

    def action_reject(self):
        self.ensure_one()
        self.order_ids.action_reject(self.reason)
        return {"type": "ir.actions.act_window_close"}
