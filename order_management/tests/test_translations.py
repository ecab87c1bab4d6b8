import ast
import re
from collections import Counter
from pathlib import Path

from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged

ADDON = Path(__file__).resolve().parent.parent
I18N = ADDON / "i18n"
LANGS = ("zh_CN", "zh_TW")

# What a translation must carry over unchanged: named and positional
# formatting, braces, and markup.
PLACEHOLDER = re.compile(r"%\(\w+\)[sdfr]|%[sdfr]|\{[^{}]*\}|<[^<>]+>")
# A translated literal in the sources: `_("...")`, `env._("...")`, `_lt("...")`,
# possibly split over adjacent literals. f-strings are not matched.
SOURCE_TERM = re.compile(
    r"\b_(?:lt)?\(\s*((?:[rRuU]?(?:\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*')\s*)+)"
    r"[,)]"
)
# A translated literal in the web client's code: `_t("...")`.
JS_TERM = re.compile(r"\b_t\(\s*(\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*')\s*[,)]")


def read_po(path):
    """Entries of a .po/.pot file as a {msgid: msgstr} dict (header left out)."""
    entries = {}
    msgid = msgstr = None
    field = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("msgid "):
            if msgid:
                entries[msgid] = msgstr
            msgid, msgstr, field = ast.literal_eval(line[6:]), "", "msgid"
        elif line.startswith("msgstr "):
            msgstr, field = ast.literal_eval(line[7:]), "msgstr"
        elif line.startswith('"') and field == "msgid":
            msgid += ast.literal_eval(line)
        elif line.startswith('"') and field == "msgstr":
            msgstr += ast.literal_eval(line)
    if msgid:
        entries[msgid] = msgstr
    return entries


def placeholders(text):
    return Counter(PLACEHOLDER.findall(text))


@tagged("post_install", "-at_install")
class TestTranslations(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.template = read_po(I18N / "order_management.pot")
        for code in LANGS:
            cls.env["res.lang"]._activate_lang(code)
        cls.env["ir.module.module"]._load_module_terms(
            ["order_management"], list(LANGS), overwrite=True
        )

    def test_template_has_terms(self):
        self.assertGreater(len(self.template), 500)
        self.assertIn("Audit events cannot be changed.", self.template)

    def test_every_term_translated(self):
        for code in LANGS:
            translations = read_po(I18N / f"{code}.po")
            missing = [msgid for msgid in self.template if not translations.get(msgid)]
            self.assertFalse(
                missing, f"{code}.po leaves {len(missing)} terms untranslated"
            )
            extra = set(translations) - set(self.template)
            self.assertFalse(extra, f"{code}.po has terms not in the template")

    def test_placeholders_kept(self):
        for code in LANGS:
            for msgid, msgstr in read_po(I18N / f"{code}.po").items():
                if not msgstr:
                    continue
                with self.subTest(lang=code, msgid=msgid[:60]):
                    self.assertEqual(placeholders(msgstr), placeholders(msgid))

    def test_template_up_to_date(self):
        """Every literal passed to `_`/`env._`/`_lt` is a term of the .pot."""
        found = set()
        for path in ADDON.rglob("*.py"):
            if "tests" in path.relative_to(ADDON).parts:
                continue
            source = path.read_text(encoding="utf-8")
            for match in SOURCE_TERM.finditer(source):
                term = ast.literal_eval(f"({match.group(1)})")
                found.add(term)
                with self.subTest(file=str(path.relative_to(ADDON)), term=term):
                    self.assertTrue(term in self.template, "missing from the .pot")
        # The regex does read the sources: the addon has hundreds of terms.
        self.assertGreater(len(found), 100)

    def test_template_has_the_web_client_terms(self):
        """Every literal passed to `_t` in the web client's code is a term of
        the .pot, marked for the web client."""
        found = set()
        for path in (ADDON / "static" / "src").rglob("*.js"):
            source = path.read_text(encoding="utf-8")
            for match in JS_TERM.finditer(source):
                term = ast.literal_eval(match.group(1))
                found.add(term)
                with self.subTest(file=str(path.relative_to(ADDON)), term=term):
                    self.assertTrue(term in self.template, "missing from the .pot")
        # The guided tours explain each of their steps.
        self.assertGreater(len(found), 40)
        pot = (I18N / "order_management.pot").read_text(encoding="utf-8")
        self.assertIn("#. odoo-javascript", pot)

    def test_tour_texts(self):
        """The web client gets the tours' explanations in the user's language."""
        expected = {
            "zh_CN": "您的工作从应用菜单开始。",
            "zh_TW": "您的工作從應用程式選單開始。",
        }
        for code, text in expected.items():
            per_module, _lang = self.env["ir.http"].get_translations_for_webclient(
                ["order_management"], code
            )
            messages = {
                message["id"]: message["string"]
                for message in per_module["order_management"]["messages"]
            }
            self.assertEqual(messages["Your work starts in the apps menu."], text)

    def test_selection_labels(self):
        expected = {"zh_CN": "已提交审核", "zh_TW": "已提交審核"}
        for code, label in expected.items():
            field = self.env["order.audit.event"].with_context(lang=code)
            selection = dict(field._fields["event"]._description_selection(field.env))
            self.assertEqual(selection["submit"], label)

    def test_view_arch(self):
        expected = {"zh_CN": "订单流转", "zh_TW": "訂單流轉"}
        for code, text in expected.items():
            events = self.env["order.audit.event"].with_context(lang=code)
            arch = events.get_views([(False, "search")])["views"]["search"]["arch"]
            self.assertIn(text, arch)
            self.assertNotIn('string="Order Transitions"', arch)

    def test_error_message(self):
        event = self.env["order.audit.event"]._record_events(
            [{"event": "create", "stage": "data", "note": "translation test"}]
        )
        expected = {"zh_CN": "审计事件不可更改。", "zh_TW": "稽核事件不可更改。"}
        for code, message in expected.items():
            with self.assertRaises(UserError) as caught:
                event.with_context(lang=code).write({"note": "changed"})
            self.assertEqual(str(caught.exception), message)
