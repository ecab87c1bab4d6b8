from odoo import models


class ResGroups(models.Model):
    _inherit = "res.groups"
    # Group membership, as the group form changes it.
    _order_audited_fields = ("users",)

    def write(self, vals):
        with self.env["order.audit.event"]._changes_logged(self, vals):
            return super().write(vals)
