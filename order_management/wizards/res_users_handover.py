from odoo import api, fields, models


class ResUsersHandover(models.TransientModel):
    """Hand a user's open work to a successor, before they leave or change role."""

    _name = "res.users.handover"
    _description = "Hand Over a User's Work"

    user_id = fields.Many2one(
        "res.users",
        required=True,
        ondelete="cascade",
        domain="[('share', '=', False)]",
    )
    successor_id = fields.Many2one(
        "res.users",
        required=True,
        ondelete="cascade",
        domain="[('share', '=', False), ('id', '!=', user_id)]",
        help="Takes the user's pending reviews, activities, open incidents, the "
        "task assignment rules they lead and their open orders. They need the "
        "roles of that work.",
    )
    archive = fields.Boolean(
        string="Archive the User", help="Archive the user once the work is handed over."
    )
    work_summary = fields.Text(string="Open Work", compute="_compute_work_summary")

    @api.depends("user_id")
    def _compute_work_summary(self):
        for wizard in self:
            work = wizard.user_id._get_open_work()
            wizard.work_summary = (
                wizard.user_id._describe_work(work, separator="\n")
                if work
                else self.env._("No open work.")
            )

    def action_hand_over(self):
        self.ensure_one()
        self.user_id._hand_over_work(self.successor_id)
        if self.archive:
            self.user_id.action_archive()
        return {"type": "ir.actions.act_window_close"}
