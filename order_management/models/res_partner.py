from odoo import api, fields, models

CREDIT_POLICIES = [
    ("block", "Hold the order"),
    ("review", "Send to Finance for a credit review"),
]


class ResPartner(models.Model):
    _inherit = "res.partner"

    order_credit_policy = fields.Selection(
        CREDIT_POLICIES,
        string="When Over Credit",
        company_dependent=True,
        help="What happens to a submitted order of this customer when its credit "
        "exposure passes the credit limit or an invoice is overdue. Empty: the "
        "company's setting.",
    )
    # Searched on every change of a user's email: one account per person.
    email_normalized = fields.Char(index=True)

    @api.constrains("email")
    def _check_user_email_unique(self):
        # A user's email can be changed on their contact too; the rule is the
        # users' one.
        self.sudo().user_ids._check_email_unique()
