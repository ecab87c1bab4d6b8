from collections.abc import Iterable

from odoo import api, models
from odoo.tools import SQL

from odoo.addons.base.models.res_bank import sanitize_account_number

from .encryptable_char import EncryptableChar


class ResPartnerBank(models.Model):
    _inherit = "res.partner.bank"
    # A customer's bank account changing is kept in the history; an
    # encrypted number as a keyed hash only (see order.audit.event).
    _order_audited_fields = ("acc_number", "partner_id", "allow_out_payment")

    # May be stored encrypted for customers: see order.field.encryption.
    acc_number = EncryptableChar()

    # ------------------------------------------------------------- compute --

    def _compute_sanitized_acc_number(self):
        # Odoo keeps a sanitized copy of the number, for its uniqueness per
        # partner and its exact searches: an encrypted number's copy is its
        # keyed hash, which keeps both and reveals nothing.
        service = self.env["order.field.encryption"]
        field = self._fields["acc_number"]
        sealed = self.browse()
        if service._is_enabled(field):
            companies = service._company_partner_ids()
            sealed = self.filtered(
                lambda bank: service._applies(field, bank, None, companies)
            )
        for bank in sealed:
            text = service._plain_value(field, bank)
            bank.sanitized_acc_number = text and service._fingerprint(
                field, sanitize_account_number(text)
            )
        return super(ResPartnerBank, self - sealed)._compute_sanitized_acc_number()

    # -------------------------------------------------------------- search --

    def _condition_to_sql(self, alias, fname, operator, value, query):
        # Odoo searches an account number through its sanitized copy; an
        # encrypted number is found by its hash when the whole number is
        # given, also where a part would do (the account's drop-down list).
        condition = super()._condition_to_sql(alias, fname, operator, value, query)
        field = self._fields["acc_number"]
        service = self.env["order.field.encryption"]
        if (
            fname != "acc_number"
            or operator not in ("=", "in", "ilike", "=ilike", "like", "=like")
            or not value
            or not service._is_enabled(field)
        ):
            return condition
        texts = [value] if isinstance(value, str) else value
        if not isinstance(texts, Iterable):
            return condition
        hashes = [
            service._fingerprint(field, sanitize_account_number(text))
            for text in texts
            if text and isinstance(text, str)
        ]
        if not hashes:
            return condition
        by_hash = super()._condition_to_sql(
            alias, "sanitized_acc_number", "in", hashes, query
        )
        return SQL("(%s OR %s)", condition, by_hash)

    # ---------------------------------------------------------------- CRUD --

    @api.model_create_multi
    def create(self, vals_list):
        accounts = super().create(vals_list)
        self.env["order.audit.event"]._log_created(accounts)
        return accounts

    def write(self, vals):
        with self.env["order.audit.event"]._changes_logged(self, vals):
            return super().write(vals)

    def unlink(self):
        # Odoo archives the account and tells its partner, number included:
        # a masked one when the number is encrypted.
        return super(
            ResPartnerBank, self.with_context(order_field_masked=True)
        ).unlink()

    # ---------------------------------------------------------------- mail --

    def _mail_track(self, tracked_fields, initial_values):
        # Odoo tracks the number in the partner's messages: an encrypted one
        # would be copied there in clear. Its changes are in the history.
        if self.env["order.field.encryption"]._is_enabled(self._fields["acc_number"]):
            tracked_fields = {
                name: description
                for name, description in tracked_fields.items()
                if name != "acc_number"
            }
        return super()._mail_track(tracked_fields, initial_values)
