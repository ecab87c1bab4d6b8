import base64

from odoo import fields, models
from odoo.exceptions import UserError


class OrderImportWizard(models.TransientModel):
    _name = "order.import.wizard"
    _description = "Import Orders"

    file = fields.Binary(required=True)
    filename = fields.Char()

    def action_import(self):
        self.ensure_one()
        if not self.filename:
            raise UserError(self.env._("Choose a .csv or .xlsx file."))
        orders = self.env["order.importer"].import_file(
            self.filename, base64.b64decode(self.file)
        )
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Imported Orders"),
            "res_model": "sale.order",
            "view_mode": "list,form",
            "domain": [("id", "in", orders.ids)],
        }
