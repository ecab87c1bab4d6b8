from odoo import fields, models


class WebTourTour(models.Model):
    _inherit = "web_tour.tour"

    # Record rules read it: a role's tour is offered as onboarding, and
    # listed, only to the people holding the role.
    group_ids = fields.Many2many(
        "res.groups",
        string="Offered To",
        help="Only members of these groups are offered the tour; "
        "empty offers it to every internal user.",
    )
