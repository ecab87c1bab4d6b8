"""The compliance map names only tests that exist."""

import ast
import re
from pathlib import Path
from unittest import TestCase

TESTS = Path(__file__).resolve().parent
COMPLIANCE_MAP = TESTS.parent.parent / "docs" / "COMPLIANCE.md"

# `test_file.py` or `test_file.py::test_name`, as the map writes them.
REFERENCE = re.compile(r"`(test_\w+\.py)(?:::(test_\w+))?`")


def defined_tests(path):
    """Return the names of the test methods and functions defined in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test")
    }


def broken_references(text, tests_folder):
    """Return the references of ``text`` to tests missing from ``tests_folder``."""
    broken, names = [], {}
    for match in REFERENCE.finditer(text):
        filename, test = match.groups()
        path = tests_folder / filename
        if not path.is_file():
            broken.append(match.group(0))
            continue
        if filename not in names:
            names[filename] = defined_tests(path)
        if test and test not in names[filename]:
            broken.append(match.group(0))
    return broken


class TestComplianceMap(TestCase):
    def test_every_reference_is_a_test_that_exists(self):
        text = COMPLIANCE_MAP.read_text(encoding="utf-8")
        self.assertGreater(len(REFERENCE.findall(text)), 50)
        self.assertEqual(broken_references(text, TESTS), [])

    def test_a_broken_reference_is_found(self):
        text = (
            "| clause | `test_compliance_map.py` | "
            "`test_compliance_map.py::test_a_broken_reference_is_found` | "
            "`test_compliance_map.py::test_that_was_renamed` | "
            "`test_file_that_was_removed.py` |"
        )
        self.assertEqual(
            broken_references(text, TESTS),
            [
                "`test_compliance_map.py::test_that_was_renamed`",
                "`test_file_that_was_removed.py`",
            ],
        )

    def test_every_clause_has_a_section(self):
        text = COMPLIANCE_MAP.read_text(encoding="utf-8")
        sections = re.findall(r"^## (.+)$", text, flags=re.MULTILINE)
        for clause in (
            "Entry",
            "Review",
            "Execution",
            "Tracking and shipping records",
            "Completion",
            "Accounts and security",
            "Audit",
            "Backup",
            "Maintenance, training and assessment",
        ):
            self.assertIn(clause, sections)
