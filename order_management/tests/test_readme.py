"""README.rst is what scripts/gen_addon_readme.py makes of readme/*.md, and valid.

The script lives in the repository beside the addon: these tests run from a
checkout, not from an installed wheel.
"""

import importlib.util
import shutil
import tempfile
from pathlib import Path
from unittest import TestCase

import docutils.core
from docutils import nodes

ADDON = Path(__file__).resolve().parent.parent
SCRIPT = ADDON.parent / "scripts" / "gen_addon_readme.py"
REGENERATE = f"python {SCRIPT.parent.name}/{SCRIPT.name} {ADDON.name}"


def load_generator():
    spec = importlib.util.spec_from_file_location("gen_addon_readme", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def doctree(rst):
    settings = {"report_level": 5, "file_insertion_enabled": False}
    return docutils.core.publish_doctree(rst, settings_overrides=settings)


class TestReadme(TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.gen = load_generator()
        cls.readme = (ADDON / "README.rst").read_text(encoding="utf-8")

    def test_01_readme_is_up_to_date_with_its_fragments(self):
        self.assertTrue(
            self.gen.render_readme(ADDON) == self.readme,
            f"{ADDON.name}/README.rst is out of date with readme/*.md or the "
            f"manifest: run `{REGENERATE}` from the repository and commit it",
        )

    def test_02_readme_is_valid_restructuredtext(self):
        self.assertEqual(self.gen.rst_problems(self.readme), "")

        # The manifest's header fields and each fragment's section are there.
        tree = doctree(self.readme)
        titles = [node.astext() for node in tree.findall(nodes.title)]
        self.assertEqual(titles[0], "Order Management")
        for title in (
            "Configuration",
            "Usage",
            "Backups and recovery",
            "Known issues / Roadmap",
            "Changelog",
            "18.0.1.0.0",
            "Credits",
            "Contributors",
        ):
            self.assertIn(title, titles)
        self.assertTrue(any(tree.findall(nodes.topic)), "no table of contents")
        images = [node["uri"] for node in tree.findall(nodes.image)]
        self.assertIn("https://img.shields.io/badge/maturity-Alpha-red.png", images)
        self.assertIn("https://img.shields.io/badge/licence-LGPL--3-blue.png", images)

    def test_03_check_mode_fails_on_a_stale_readme(self):
        with tempfile.TemporaryDirectory() as tmp:
            addon = Path(tmp) / ADDON.name
            shutil.copytree(ADDON / "readme", addon / "readme")
            shutil.copy(ADDON / "__manifest__.py", addon)

            self.assertEqual(self.gen.main([str(addon)]), 0)
            self.assertEqual(self.gen.main(["--check", str(addon)]), 0)
            written = (addon / "README.rst").read_text(encoding="utf-8")
            self.assertEqual(written, self.readme)

            description = addon / "readme" / "DESCRIPTION.md"
            description.write_text(
                description.read_text(encoding="utf-8") + "\nOne more line.\n",
                encoding="utf-8",
            )
            with self.assertLogs("gen_addon_readme", "ERROR") as logs:
                self.assertEqual(self.gen.main(["--check", str(addon)]), 1)
            self.assertIn("is out of date: run python scripts/", logs.output[0])
            # --check writes nothing.
            self.assertEqual(
                (addon / "README.rst").read_text(encoding="utf-8"), written
            )

    def test_04_inline_markup_beside_letters_and_chinese(self):
        rst = self.gen.render_fragment(
            "A`b`c, 中`文`字, **bold**text and *em*字: [a link](https://x.test/a)."
        )
        self.assertEqual(self.gen.rst_problems(rst), "")
        tree = doctree(rst)
        self.assertEqual(
            [node.astext() for node in tree.findall(nodes.literal)], ["b", "文"]
        )
        self.assertEqual(
            [node.astext() for node in tree.findall(nodes.strong)], ["bold"]
        )
        self.assertEqual(
            [node.astext() for node in tree.findall(nodes.emphasis)], ["em"]
        )
        self.assertEqual(
            [node["refuri"] for node in tree.findall(nodes.reference)],
            ["https://x.test/a"],
        )
        self.assertEqual(tree.astext(), "Abc, 中文字, boldtext and em字: a link.")

    def test_05_plain_text_is_not_read_as_markup(self):
        text = r"3 * 4 | x | y, a name_ and \*stars\*, back\slash"
        rst = self.gen.render_fragment(text)
        self.assertEqual(self.gen.rst_problems(rst), "")
        self.assertEqual(
            doctree(rst).astext(), r"3 * 4 | x | y, a name_ and *stars*, back\slash"
        )

    def test_06_lists_code_and_tables(self):
        markdown = "\n".join(
            [
                "## Steps",
                "",
                "1. First, with a command:",
                "",
                "   ```sh",
                "   odoo-bin --db-filter=^db\\$",
                "   ```",
                "",
                "2. Then a list:",
                "   - inner, which goes",
                "     on",
                "",
                "| Column | Meaning |",
                "| --- | --- |",
                "| `a` | the *first* |",
                "| b | |",
            ]
        )
        rst = self.gen.render_fragment(markdown)
        self.assertEqual(self.gen.rst_problems(rst), "")
        tree = doctree(rst)

        self.assertEqual(tree.next_node(nodes.title).astext(), "Steps")
        ordered = tree.next_node(nodes.enumerated_list)
        self.assertEqual(len(ordered.children), 2)
        code = ordered.children[0].next_node(nodes.literal_block)
        self.assertEqual(code.astext(), "odoo-bin --db-filter=^db\\$")
        inner = ordered.children[1].next_node(nodes.bullet_list)
        self.assertEqual(inner.astext(), "inner, which goes\non")

        # Markdown numbers a list from its first item.
        numbered = doctree(self.gen.render_fragment("3. third\n4. fourth"))
        self.assertEqual(numbered.next_node(nodes.enumerated_list)["start"], 3)

        rows = list(tree.findall(nodes.row))
        self.assertEqual(
            [[entry.astext() for entry in row.children] for row in rows],
            [["Column", "Meaning"], ["a", "the first"], ["b", ""]],
        )

    def test_07_what_cannot_be_converted_is_refused(self):
        for markdown in (
            "![shot](shot.png)",
            "A paragraph with\n![a shot](shot.png) on its second line",
            "> quoted",
            "a <b>bold</b> word",
            "### Deep first\n\n## Then higher",
        ):
            with self.subTest(markdown=markdown):
                with self.assertRaises(self.gen.FragmentError):
                    self.gen.render_fragment(markdown)
        # Angle brackets inside code are text, not HTML.
        self.assertEqual(self.gen.render_fragment("`<db>_x`"), "``<db>_x``")
