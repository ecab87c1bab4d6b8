from odoo import fields, models

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
        # As Odoo's credit limit: Finance's business.
        groups="account.group_account_invoice,account.group_account_readonly",
        help="What happens to a submitted order of this customer when its credit "
        "exposure passes the credit limit or an invoice is overdue. Empty: the "
        "company's setting.",
    )
