from odoo import fields, models


class ResUsers(models.Model):
    _inherit = "res.users"
    # Group membership, as the user form changes it.
    _order_audited_fields = ("groups_id",)

    order_audit_event_count = fields.Integer(
        string="Audit Events",
        compute="_compute_order_audit_event_count",
        groups="order_management.group_order_manager",
    )

    def _compute_order_audit_event_count(self):
        counts = dict(
            self.env["order.audit.event"]._read_group(
                [("user_id", "in", self.ids)], ["user_id"], ["__count"]
            )
        )
        for user in self:
            user.order_audit_event_count = counts.get(user._origin, 0)

    def write(self, vals):
        # The user form writes the groups as one field per application.
        written = self._remove_reified_groups(vals)
        with self.env["order.audit.event"]._changes_logged(self, written):
            return super().write(vals)

    def action_open_order_audit_events(self):
        """Show what this user did: the audit events recorded as theirs."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "order_management.order_audit_event_action"
        )
        action.update(
            name=self.env._("Audit Events of %(user)s", user=self.name),
            domain=[("user_id", "=", self.id)],
            context={},
        )
        return action
