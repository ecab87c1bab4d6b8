import json
import tempfile
from pathlib import Path
from unittest import TestCase
from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import Form, tagged
from odoo.tools import SQL, config, mute_logger

from odoo.addons.base.models.res_bank import sanitize_account_number

from ..models.order_field_encryption import KEY_OPTION, MASK
from ..tools.field_encryption import (
    FieldKeyError,
    decrypt,
    encrypt,
    load_key,
)
from ..tools.key_files import write_key_file
from .common import OrderManagementCommon

ACCOUNT = "CN55 6221 8800 1234 5678"
OTHER_ACCOUNT = "CN55 6221 8800 9999 0000"
MOBILE = "+86 138 0013 8000"


class TestFieldEncryptionTools(TestCase):
    """The sealing functions, without a database."""

    def setUp(self):
        folder = tempfile.TemporaryDirectory()
        self.addCleanup(folder.cleanup)
        self.folder = Path(folder.name)
        self.key = load_key(write_key_file(self.folder / "field.key"))

    def test_01_sealed_text_opens_only_with_its_key_and_field(self):
        """A value decrypts with its key and field, not with another of either."""
        value = encrypt(self.key, ACCOUNT, "res.partner.bank.acc_number")
        self.assertNotIn("6221", value)
        self.assertEqual(
            decrypt(self.key, value, "res.partner.bank.acc_number"), ACCOUNT
        )
        with self.assertRaises(ValueError):
            decrypt(self.key, value, "res.partner.mobile")
        other_key = load_key(write_key_file(self.folder / "other.key"))
        with self.assertRaisesRegex(FieldKeyError, "another key"):
            decrypt(other_key, value, "res.partner.bank.acc_number")

    def test_02_a_key_file_open_to_others_or_missing_is_refused(self):
        """The key file must exist and be readable by its owner only."""
        path = write_key_file(self.folder / "open.key")
        path.chmod(0o644)
        with self.assertRaisesRegex(FieldKeyError, "open to other users"):
            load_key(path)
        with self.assertRaisesRegex(FieldKeyError, "cannot read"):
            load_key(self.folder / "missing.key")
        with self.assertRaisesRegex(FieldKeyError, "no key file"):
            load_key(None)


@tagged("post_install", "-at_install")
class TestFieldEncryption(OrderManagementCommon):
    """Chosen fields stored encrypted, read in clear by their roles only."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        folder = tempfile.TemporaryDirectory()
        cls.addClassCleanup(folder.cleanup)
        cls.folder = Path(folder.name)
        cls.key_file = write_key_file(cls.folder / "field.key")
        cls.startClassPatcher(
            patch.dict(config.options, {KEY_OPTION: str(cls.key_file)})
        )
        cls.service = cls.env["order.field.encryption"]
        cls.company_partner = cls.env.company.partner_id

    # ------------------------------------------------------------- helpers --

    def column(self, record, name):
        """Return what the database holds in ``name`` of ``record``."""
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "SELECT %s FROM %s WHERE id = %s",
                SQL.identifier(name),
                SQL.identifier(record._table),
                record.id,
            )
        )
        return self.env.cr.fetchone()[0]

    def read_as(self, user, record, name):
        """Return ``name`` of ``record`` as ``user`` reads it, from the database."""
        self.env.invalidate_all()
        return record.with_user(user)[name]

    def switch(self, candidate, enabled):
        self.service._set_encrypted(candidate, enabled)

    def new_account(self, number=ACCOUNT, partner=None):
        return self.env["res.partner.bank"].create(
            {"acc_number": number, "partner_id": (partner or self.customer).id}
        )

    # --------------------------------------------------------------- tests --

    def test_01_bank_account_is_ciphertext_in_sql_clear_for_finance(self):
        """The column and its sanitized copy hold nothing readable; Finance
        and the Order Manager read the number, others a mask."""
        self.switch("bank_acc_number", True)
        account = self.new_account()

        stored = self.column(account, "acc_number")
        self.assertTrue(stored.startswith("omenc1:"))
        sanitized = self.column(account, "sanitized_acc_number")
        self.assertTrue(sanitized.startswith("omhash1:"))
        for text in (stored, sanitized):
            self.assertNotIn("1234", text)

        self.assertEqual(self.read_as(self.finance, account, "acc_number"), ACCOUNT)
        self.assertEqual(self.read_as(self.manager, account, "acc_number"), ACCOUNT)
        for role in ("clerk", "reviewer", "logistics", "auditor"):
            self.assertEqual(
                self.read_as(self.users[role], account, "acc_number"), MASK, role
            )
        self.assertIn(MASK, account.with_user(self.reviewer).display_name)

        # Exports follow the same rule (the test users may not export: the
        # rows are built as an export builds them).
        exported = account.with_user(self.reviewer)._export_rows([["acc_number"]])
        self.assertEqual(exported, [[MASK]])
        exported = account.with_user(self.finance)._export_rows([["acc_number"]])
        self.assertEqual(exported, [[ACCOUNT]])

        # Odoo's exact search by number still finds it, by its hash.
        accounts = self.env["res.partner.bank"].with_user(self.finance)
        self.assertEqual(accounts.search([("acc_number", "=", ACCOUNT)]), account)
        self.assertEqual(accounts.name_search(ACCOUNT)[0][0], account.id)
        self.assertFalse(accounts.search([("acc_number", "ilike", "1234")]))

    def test_02_the_companys_own_account_stays_plain(self):
        """The company's account, printed on its invoices, is not encrypted."""
        self.switch("bank_acc_number", True)
        account = self.new_account(partner=self.company_partner)
        self.assertEqual(self.column(account, "acc_number"), ACCOUNT)
        self.assertEqual(self.read_as(self.reviewer, account, "acc_number"), ACCOUNT)

    def test_03_mobile_is_ciphertext_read_by_clerks_and_logistics(self):
        """An encrypted mobile is read by clerks and logistics, masked for
        reviewers, Finance and auditors, and not copied for SMS."""
        self.switch("partner_mobile", True)
        self.customer.mobile = MOBILE

        self.assertTrue(self.column(self.customer, "mobile").startswith("omenc1:"))
        self.assertFalse(self.column(self.customer, "phone_sanitized"))
        for role in ("clerk", "logistics", "manager"):
            self.assertEqual(
                self.read_as(self.users[role], self.customer, "mobile"), MOBILE, role
            )
        for role in ("reviewer", "finance", "auditor"):
            self.assertEqual(
                self.read_as(self.users[role], self.customer, "mobile"), MASK, role
            )

    def test_04_switching_on_encrypts_existing_rows_and_off_restores_them(self):
        """Existing values are encrypted when the field is switched on, and
        come back as they were, with Odoo's copies, when it is switched off."""
        account = self.new_account()
        self.customer.mobile = MOBILE
        phone_sanitized = self.column(self.customer, "phone_sanitized")
        self.assertTrue(phone_sanitized)

        self.switch("bank_acc_number", True)
        self.switch("partner_mobile", True)
        self.assertTrue(self.column(account, "acc_number").startswith("omenc1:"))
        self.assertTrue(
            self.column(account, "sanitized_acc_number").startswith("omhash1:")
        )
        self.assertTrue(self.column(self.customer, "mobile").startswith("omenc1:"))
        self.assertFalse(self.column(self.customer, "phone_sanitized"))

        self.switch("bank_acc_number", False)
        self.switch("partner_mobile", False)
        self.assertEqual(self.column(account, "acc_number"), ACCOUNT)
        self.assertEqual(
            self.column(account, "sanitized_acc_number"),
            sanitize_account_number(ACCOUNT),
        )
        self.assertEqual(self.column(self.customer, "mobile"), MOBILE)
        self.assertEqual(self.column(self.customer, "phone_sanitized"), phone_sanitized)
        self.assertEqual(self.read_as(self.reviewer, account, "acc_number"), ACCOUNT)

    def test_05_settings_switch_it_and_say_what_it_costs(self):
        """The settings switch a field; its description then forbids sorting
        and grouping and its help says who reads it."""
        account = self.new_account()
        settings = Form(self.env["res.config.settings"])
        settings.order_encrypt_bank_acc_number = True
        settings.save().execute()
        self.assertTrue(self.column(account, "acc_number").startswith("omenc1:"))
        settings = self.env["res.config.settings"].create({})
        self.assertTrue(settings.order_encrypt_bank_acc_number)

        description = self.env["res.partner.bank"].fields_get(
            ["acc_number"], ["sortable", "groupable", "help"]
        )["acc_number"]
        self.assertFalse(description["sortable"])
        self.assertFalse(description["groupable"])
        self.assertIn("only Finance and Order Managers", description["help"])

    @mute_logger("odoo.sql_db")
    def test_06_without_the_key_readers_get_a_clear_error_nothing_plain_is_stored(
        self,
    ):
        """A missing key is named to those who may read; nothing is written
        in clear; switching needs the key too."""
        self.switch("bank_acc_number", True)
        account = self.new_account()
        self.env.flush_all()
        missing = {KEY_OPTION: str(self.folder / "missing.key")}
        with patch.dict(config.options, missing):
            with self.assertRaisesRegex(
                UserError, "Account Number.*order_field_key_file"
            ):
                self.read_as(self.finance, account, "acc_number")
            self.assertEqual(self.read_as(self.reviewer, account, "acc_number"), MASK)

            with self.assertRaisesRegex(UserError, "key cannot be read"):
                self.new_account(OTHER_ACCOUNT)
            self.env.invalidate_all(flush=False)
            self.env.cr.execute(
                "SELECT count(*) FROM res_partner_bank WHERE acc_number LIKE %s",
                ["%9999%"],
            )
            self.assertEqual(self.env.cr.fetchone()[0], 0)

            with self.assertRaisesRegex(UserError, "key cannot be read"):
                self.switch("bank_acc_number", False)
            with self.assertRaisesRegex(UserError, "key cannot be read"):
                self.switch("partner_mobile", True)

    def test_07_history_and_messages_keep_no_plain_text(self):
        """The data-change history shows that an encrypted number changed,
        by a keyed hash; neither it nor the partner's messages hold it."""
        self.switch("bank_acc_number", True)
        account = self.new_account()
        account.with_context(tracking_disable=False).write(
            {"acc_number": OTHER_ACCOUNT}
        )
        self.env.flush_all()

        events = self.env["order.audit.event"].search(
            [("res_model", "=", "res.partner.bank"), ("res_id", "=", account.id)]
        )
        self.assertEqual(events.mapped("event"), ["change", "create"])
        for event in events:
            self.assertNotIn("1234", event.changes)
            self.assertNotIn("9999", event.changes)
        old, new = json.loads(events[0].changes)["acc_number"]
        self.assertTrue(old.startswith("omhash1:"))
        self.assertNotEqual(old, new)

        messages = self.env["mail.message"].search(
            [("model", "=", "res.partner"), ("res_id", "=", self.customer.id)]
        )
        tracked = messages.tracking_value_ids
        self.assertFalse(
            tracked.filtered(
                lambda value: "9999" in (value.new_value_char or "")
                or "1234" in (value.old_value_char or "")
            )
        )

    def test_08_a_mask_is_never_saved(self):
        """A user shown a mask cannot save it, nor copy it to a new contact."""
        self.switch("partner_mobile", True)
        self.customer.mobile = MOBILE
        customer = self.customer.with_user(self.manager)
        with self.assertRaisesRegex(UserError, "masked value cannot be saved"):
            customer.write({"mobile": MASK})
            self.env.flush_all()

        self.env.invalidate_all()
        copy = self.customer.with_user(self.reviewer).sudo().copy()
        self.assertFalse(self.column(copy, "mobile"))
