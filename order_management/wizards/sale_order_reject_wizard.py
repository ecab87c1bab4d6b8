from odoo import fields, models


class SaleOrderRejectWizard(models.TransientModel):
    _name = "sale.order.reject.wizard"
    _description = "Reject Orders"

    order_ids = fields.Many2many("sale.order", string="Orders", required=True)
    reason_id = fields.Many2one("order.rejection.reason", required=True)
    reason = fields.Text(
        string="Explanation",
        required=True,
        help="The clerk sees this on the order and in a to-do.",
    )

    def action_reject(self):
        self.ensure_one()
        self.order_ids.action_reject(self.reason, self.reason_id.id)
        return {"type": "ir.actions.act_window_close"}
