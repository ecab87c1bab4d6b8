from odoo import fields

from ..tools.field_encryption import is_encrypted


class EncryptableChar(fields.Char):
    """A text field an administrator may choose to store encrypted.

    Which fields are encrypted, for which rows, who reads them and the key
    are the business of ``order.field.encryption``; the field only calls it
    where values cross between the database and the ORM:

    - a row written (inserted or updated) gets the value sealed when its
      field is switched on for that row, so no plain text reaches SQL;
    - a sealed value read gives the text to the roles allowed, a mask to
      the others, an error naming the field when the key cannot be read.

    A value written stays in plain text in the ORM's cache until the end of
    the transaction that wrote it: what the writer typed, not more.
    """

    def convert_to_column_insert(self, value, record, values=None, validate=True):
        value = super().convert_to_column_insert(value, record, values, validate)
        if not value:
            return value
        return record.env["order.field.encryption"]._seal(self, record, value, values)

    def convert_to_record(self, value, record):
        if is_encrypted(value):
            return record.env["order.field.encryption"]._reveal(self, record, value)
        return super().convert_to_record(value, record)

    # A sealed column cannot be sorted or grouped in any useful way: the web
    # client is told so and offers neither.
    def _description_sortable(self, env):
        if env["order.field.encryption"]._is_enabled(self):
            return False
        return super()._description_sortable(env)

    def _description_groupable(self, env):
        if env["order.field.encryption"]._is_enabled(self):
            return False
        return super()._description_groupable(env)

    def _description_help(self, env):
        text = super()._description_help(env)
        if not env["order.field.encryption"]._is_enabled(self):
            return text
        note = env["order.field.encryption"]._field_note(self)
        return f"{text}\n\n{note}" if text else note
