import base64
import os

from odoo import fields, models
from odoo.exceptions import UserError

# File kinds the wizard accepts, by extension.
IMPORT_EXTENSIONS = (".csv", ".xlsx")


class OrderImportWizard(models.TransientModel):
    _name = "order.import.wizard"
    _description = "Import Orders"

    file = fields.Binary(required=True)
    filename = fields.Char()

    # ------------------------------------------------------------- actions --

    def action_import(self):
        """Import the uploaded file and show the orders it created.

        The format follows the extension of the file name: ``.csv`` or
        ``.xlsx``. A wrong row refuses the whole file (see
        ``order.importer.import_file``).

        :return: a window action on the created quotations
        """
        self.ensure_one()
        extension = os.path.splitext(self.filename or "")[1].lower()
        if extension not in IMPORT_EXTENSIONS:
            raise UserError(
                self.env._(
                    "Choose a .csv or .xlsx file; %(name)s is neither.",
                    name=self.filename or self.env._("this file"),
                )
            )

        orders = self.env["order.importer"].import_file(
            self.filename, base64.b64decode(self.file)
        )

        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Imported Orders"),
            "res_model": "sale.order",
            "view_mode": "list,form",
            "views": [(False, "list"), (False, "form")],
            "domain": [("id", "in", orders.ids)],
            "context": {"create": False},
        }
