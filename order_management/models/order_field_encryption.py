import logging

from odoo import api, models
from odoo.exceptions import CacheMiss, UserError
from odoo.tools import SQL, config

from ..tools.field_encryption import (
    PREFIX,
    FieldKeyError,
    decrypt,
    encrypt,
    fingerprint,
    is_encrypted,
    load_key,
)

_logger = logging.getLogger(__name__)

# The option of the Odoo configuration file naming the key file. Only there:
# neither the key nor its path is kept in the database.
KEY_OPTION = "order_field_key_file"

# What a reader outside the allowed roles sees instead of the value.
MASK = "••••••••"

# Rows re-encrypted or decrypted per statement when a field is switched.
BATCH_SIZE = 1000

# The fields an administrator may choose to encrypt: who reads them (any of
# the groups), and the field of each row naming its partner. Rows of the
# partners of the database's own companies stay plain: the company's bank
# account is printed on its invoices for customers to pay.
CANDIDATES = {
    "bank_acc_number": {
        "model": "res.partner.bank",
        "field": "acc_number",
        "groups": ("order_management.group_order_finance",),
        "partner_field": "partner_id",
    },
    "partner_mobile": {
        "model": "res.partner",
        "field": "mobile",
        "groups": (
            "order_management.group_order_clerk",
            "order_management.group_order_logistics",
        ),
        "partner_field": "id",
    },
}


class OrderFieldEncryption(models.AbstractModel):
    """Encryption at rest of the fields an administrator chooses.

    Each candidate field is switched on or off in the settings; once on, its
    column holds ``omenc1:`` values sealed with the key of the file named by
    ``order_field_key_file`` in the Odoo configuration (see
    ``tools/field_encryption.py``), and the field (``EncryptableChar``) asks
    this service to seal what is written and to reveal what is read.
    """

    _name = "order.field.encryption"
    _description = "Encryption of Chosen Fields"

    # ----------------------------------------------------------- settings --

    @api.model
    def _candidate(self, field):
        """Return the key of ``field`` in CANDIDATES, or None."""
        for name, candidate in CANDIDATES.items():
            if (candidate["model"], candidate["field"]) == (
                field.model_name,
                field.name,
            ):
                return name
        return None

    @api.model
    def _param(self, candidate):
        return f"order_management.encrypt_{candidate}"

    @api.model
    def _is_enabled(self, field):
        """Tell whether values written to ``field`` are encrypted."""
        candidate = self._candidate(field)
        if not candidate:
            return False
        # The choice is the administrator's; every reader needs to know it.
        params = self.env["ir.config_parameter"].sudo()
        return bool(params.get_param(self._param(candidate)))

    @api.model
    def _get_candidate_field(self, candidate):
        spec = CANDIDATES[candidate]
        return self.env[spec["model"]]._fields[spec["field"]]

    @api.model
    def _field_note(self, field):
        """Return what encryption of ``field`` costs, as its help says it."""
        if self._candidate(field) == "bank_acc_number":
            return self.env._(
                "Stored encrypted: only Finance and Order Managers read it. It "
                "can be found by the exact account number only, and cannot be "
                "sorted or grouped."
            )
        return self.env._(
            "Stored encrypted: only Order Entry Clerks, Logistics and Order "
            "Managers read it. It cannot be searched, sorted or grouped."
        )

    # ---------------------------------------------------------------- key --

    @api.model
    def _get_key(self, field):
        """Return the key, or raise an error naming ``field`` and the cause."""
        try:
            return load_key(config.get(KEY_OPTION))
        except FieldKeyError as error:
            raise UserError(
                self.env._(
                    "%(field)s is stored encrypted and the key cannot be read "
                    "(%(reason)s). Name the key file in the Odoo configuration "
                    "(%(option)s) or ask your administrator.",
                    field=field.string,
                    reason=str(error),
                    option=KEY_OPTION,
                )
            ) from error

    @api.model
    def _context_name(self, field):
        return f"{field.model_name}.{field.name}"

    # ------------------------------------------------------- read, write --

    @api.model
    def _may_read(self, field):
        """Tell whether the current user reads ``field`` in clear."""
        candidate = self._candidate(field)
        user = self.env.user
        if not candidate or not user or self.env.context.get("order_field_masked"):
            return False
        return any(user.has_group(group) for group in CANDIDATES[candidate]["groups"])

    @api.model
    def _reveal(self, field, record, value):
        """Return the sealed ``value`` of ``record`` as the current user sees it."""
        if not self._may_read(field):
            return MASK
        return self._decrypt(field, record, value)

    @api.model
    def _decrypt(self, field, record, value):
        try:
            return decrypt(self._get_key(field), value, self._context_name(field))
        except (FieldKeyError, ValueError) as error:
            raise UserError(
                self.env._(
                    "%(field)s of record %(model)s,%(id)s cannot be decrypted: "
                    "%(reason)s.",
                    field=field.string,
                    model=record._name,
                    id=record.id,
                    reason=str(error),
                )
            ) from error

    @api.model
    def _plain_value(self, field, record):
        """Return the text of ``field`` on ``record`` whoever asks, for the
        addon's own computations (never shown as is)."""
        try:
            value = self.env.cache.get(record, field)
        except CacheMiss:
            record.fetch([field.name])
            value = self.env.cache.get(record, field, None)
        if is_encrypted(value):
            return self._decrypt(field, record, value)
        return value or False

    @api.model
    def _applies(self, field, record, values=None, company_partner_ids=None):
        """Tell whether ``record``'s value of ``field`` is to be encrypted.

        :param values: the column values of a row being inserted, if so
        :param company_partner_ids: the companies' partners, when the caller
            asks for many records
        """
        if not self._is_enabled(field):
            return False
        partner_field = CANDIDATES[self._candidate(field)]["partner_field"]
        if values is not None and partner_field in values:
            partner_id = values[partner_field]
        elif record:
            partner_id = record.sudo()[partner_field]
            partner_id = getattr(partner_id, "id", partner_id)
        else:
            partner_id = False
        if company_partner_ids is None:
            company_partner_ids = self._company_partner_ids()
        return partner_id not in company_partner_ids

    @api.model
    def _company_partner_ids(self):
        # Every company, whoever writes: a row's treatment cannot depend on
        # the companies its writer sees.
        return set(self.env["res.company"].sudo().search([]).partner_id.ids)

    @api.model
    def _seal(self, field, record, value, values=None):
        """Return the column value of ``value`` for ``record``: sealed when
        ``field`` is encrypted for it. Never the mask a reader was shown."""
        if value == MASK:
            raise UserError(
                self.env._(
                    "%(field)s is encrypted and hidden from you: its masked "
                    "value cannot be saved.",
                    field=field.string,
                )
            )
        if not self._applies(field, record, values):
            return value
        return encrypt(self._get_key(field), value, self._context_name(field))

    @api.model
    def _fingerprint(self, field, text, purpose="search"):
        """Return the keyed hash of ``text`` of ``field`` for ``purpose``."""
        context = f"{purpose}:{self._context_name(field)}"
        return fingerprint(self._get_key(field), text, context)

    # ----------------------------------------------------------- switching --

    @api.model
    def _get_encrypted_fields(self):
        """Return {candidate: switched on} for the settings."""
        return {
            candidate: self._is_enabled(self._get_candidate_field(candidate))
            for candidate in CANDIDATES
        }

    @api.model
    def _set_encrypted(self, candidate, enabled):
        """Switch ``candidate`` on (encrypt its values) or off (decrypt them).

        All the rows concerned are rewritten in this transaction, in batches;
        the stored fields computed from the value (a sanitized copy, a
        formatted phone number) are computed again, by the rules of the new
        state. The key is needed both ways.
        """
        field = self._get_candidate_field(candidate)
        if self._is_enabled(field) == bool(enabled):
            return
        key = self._get_key(field)

        self.env.flush_all()
        params = self.env["ir.config_parameter"].sudo()
        params.set_param(self._param(candidate), "1" if enabled else False)

        model = self.env[field.model_name].sudo().with_context(active_test=False)
        context = self._context_name(field)
        if enabled:
            ids = model.search(self._rows_to_encrypt_domain(candidate), order="id").ids
        else:
            ids = self._sealed_row_ids(model, field)
        for start in range(0, len(ids), BATCH_SIZE):
            batch = model.browse(ids[start : start + BATCH_SIZE])
            self._rewrite_batch(batch, field, key, context, enabled)
        _logger.info(
            "%s %s rows of %s",
            "encrypted" if enabled else "decrypted",
            len(ids),
            context,
        )

    @api.model
    def _rows_to_encrypt_domain(self, candidate):
        spec = CANDIDATES[candidate]
        return [(spec["partner_field"], "not in", list(self._company_partner_ids()))]

    @api.model
    def _sealed_row_ids(self, model, field):
        rows = self.env.execute_query(
            SQL(
                "SELECT id FROM %s WHERE %s LIKE %s ORDER BY id",
                SQL.identifier(model._table),
                SQL.identifier(field.name),
                PREFIX + "%",
            )
        )
        return [row[0] for row in rows]

    @api.model
    def _rewrite_batch(self, records, field, key, context, enabled):
        """Encrypt or decrypt ``field`` of ``records`` in one statement."""
        rows = self.env.execute_query(
            SQL(
                "SELECT id, %s FROM %s WHERE id IN %s",
                SQL.identifier(field.name),
                SQL.identifier(records._table),
                tuple(records.ids),
            )
        )
        new_values = []
        for record_id, value in rows:
            if not value or is_encrypted(value) == enabled:
                continue
            if enabled:
                new_values.append((record_id, encrypt(key, value, context)))
            else:
                record = records.browse(record_id)
                new_values.append((record_id, self._decrypt(field, record, value)))
        if new_values:
            self.env.execute_query(
                SQL(
                    "UPDATE %s AS t SET %s = v.value FROM (VALUES %s) AS v(id, value)"
                    " WHERE t.id = v.id",
                    SQL.identifier(records._table),
                    SQL.identifier(field.name),
                    SQL(", ").join(
                        SQL("(%s, %s)", record_id, value)
                        for record_id, value in new_values
                    ),
                )
            )

        # What is computed from the value follows: Odoo's sanitized account
        # number, the formatted phone number of SMS.
        records.invalidate_recordset([field.name])
        records.modified([field.name])
        self.env.flush_all()
        records.invalidate_recordset()
