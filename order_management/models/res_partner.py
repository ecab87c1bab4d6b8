from odoo import api, fields, models

from .encryptable_char import EncryptableChar
from .order_field_encryption import MASK

CREDIT_POLICIES = [
    ("block", "Hold the order"),
    ("review", "Send to Finance for a credit review"),
]


class ResPartner(models.Model):
    _inherit = "res.partner"
    # A customer's credit settings: what the credit check of a review follows.
    _order_audited_fields = (
        "credit_limit",
        "use_partner_credit_limit",
        "order_credit_policy",
        "property_payment_term_id",
    )
    # They are the commercial entity's: Odoo copies them to its contacts, and
    # that copy is not a change of its own.
    _order_audit_domain = ["|", ("is_company", "=", True), ("parent_id", "=", False)]

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
    # Searched on every change of a user's email: one account per person.
    email_normalized = fields.Char(index=True)
    # May be stored encrypted: see order.field.encryption.
    mobile = EncryptableChar()

    @api.constrains("email")
    def _check_user_email_unique(self):
        # A user's email can be changed on their contact too; the rule is the
        # users' one.
        self.sudo().user_ids._check_email_unique()

    def write(self, vals):
        with self.env["order.audit.event"]._changes_logged(self, vals):
            return super().write(vals)

    def copy_data(self, default=None):
        # A mobile number hidden from the user who copies is not copied: its
        # mask is not a number.
        vals_list = super().copy_data(default=default)
        for vals in vals_list:
            if vals.get("mobile") == MASK:
                del vals["mobile"]
        return vals_list

    def _phone_get_number_fields(self):
        # SMS keeps a formatted copy of the first number found, in clear: an
        # encrypted mobile is left out of it (and of SMS).
        names = super()._phone_get_number_fields()
        if self.env["order.field.encryption"]._is_enabled(self._fields["mobile"]):
            names = [name for name in names if name != "mobile"]
        return names
