from odoo import models


class ResUsers(models.Model):
    _inherit = "res.users"
    # Group membership, as the user form changes it.
    _order_audited_fields = ("groups_id",)

    def write(self, vals):
        # The user form writes the groups as one field per application.
        written = self._remove_reified_groups(vals)
        with self.env["order.audit.event"]._changes_logged(self, written):
            return super().write(vals)
