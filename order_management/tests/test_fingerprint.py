from unittest import TestCase

from odoo.addons.order_management.tools.fingerprint import order_fingerprint


class TestFingerprint(TestCase):
    def test_same_content_same_fingerprint(self):
        """Key order of the header does not matter, only the content."""
        first = order_fingerprint({"a": 1, "b": "x"}, [(1, 2.0), (3, 4.0)])
        second = order_fingerprint({"b": "x", "a": 1}, [[1, 2.0], [3, 4.0]])
        self.assertEqual(first, second)
        self.assertEqual(len(first), 64)

    def test_any_difference_changes_it(self):
        """A quantity, a line order or a header value each change the digest."""
        base = order_fingerprint({"partner": 7}, [(1, 2.0), (3, 4.0)])
        self.assertNotEqual(
            base, order_fingerprint({"partner": 8}, [(1, 2.0), (3, 4.0)])
        )
        self.assertNotEqual(
            base, order_fingerprint({"partner": 7}, [(1, 2.5), (3, 4.0)])
        )
        self.assertNotEqual(
            base, order_fingerprint({"partner": 7}, [(3, 4.0), (1, 2.0)])
        )
