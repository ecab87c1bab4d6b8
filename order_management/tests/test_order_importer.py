import base64
import io
import tempfile

import openpyxl

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import OrderManagementCommon
from .test_demo_lifecycle import generate_tpch
from .test_order_files import HEADER, csv_file


@tagged("post_install", "-at_install")
class TestOrderImporter(OrderManagementCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tpch_dir = tempfile.TemporaryDirectory()
        generate_tpch(cls.tpch_dir.name)
        cls.importer = cls.env["order.importer"]

    @classmethod
    def tearDownClass(cls):
        cls.tpch_dir.cleanup()
        super().tearDownClass()

    def _counts(self):
        return {
            model: self.env[model].search_count([])
            for model in ("sale.order", "res.partner", "product.product")
        }

    def test_01_tpch_sample(self):
        """Twenty TPC-H orders arrive as drafts in review, amounts intact."""
        orders = self.importer.import_tpch(
            self.tpch_dir.name, limit=20, rebase_to=fields.Date.today()
        )

        self.assertEqual(len(orders), 20)
        self.assertEqual(set(orders.mapped("review_state")), {"waiting"})
        self.assertEqual(set(orders.mapped("state")), {"draft"})
        first = orders.filtered(lambda o: o.client_order_ref == "TPCH-1")
        # Order 1 of every TPC-H data set: six lines for customer 37.
        self.assertEqual(len(first.order_line), 6)
        self.assertEqual(first.partner_id.ref, "TPCH-C000000037")
        line = first.order_line.sorted("id")[0]
        self.assertEqual(line.product_id.default_code, "TPCH-P156")
        self.assertEqual(line.product_uom_qty, 17)
        self.assertAlmostEqual(line.price_unit * 17, 17954.55, places=1)
        self.assertAlmostEqual(line.discount, 4.0)

    def test_01b_tpch_dates_as_they_are_are_past(self):
        """TPC-H's 1990s delivery dates, not rebased, hold every order."""
        orders = self.importer.import_tpch(self.tpch_dir.name, limit=3)
        self.assertEqual(set(orders.mapped("review_state")), {"hold"})
        failed = orders.check_result_ids.filtered(lambda r: r.result == "failed")
        self.assertEqual(len(failed), 3)
        self.assertIn("is past", failed[0].message)

    def test_02_second_import_matches_master_data(self):
        """Importing again creates orders, not customers or products."""
        self.importer.import_tpch(self.tpch_dir.name, limit=10)
        before = self._counts()

        again = self.importer.import_tpch(self.tpch_dir.name, limit=10)

        after = self._counts()
        self.assertEqual(len(again), 10)
        self.assertEqual(after["sale.order"], before["sale.order"] + 10)
        self.assertEqual(after["res.partner"], before["res.partner"])
        self.assertEqual(after["product.product"], before["product.product"])

    def test_03_csv_and_xlsx(self):
        """The CSV layout and the same rows in XLSX give the same orders."""
        rows = [
            "PO-7,HB-1,Harbour Ltd,8 Quay St,Ningbo,315000,CN,2031-05-02,"
            "OM-BRACKET,,4,12.5,,",
            "PO-7,HB-1,Harbour Ltd,8 Quay St,Ningbo,315000,CN,2031-05-02,"
            "NEW-1,Clamp,2,7,10,",
        ]
        from_csv = self.importer.import_file("orders.csv", csv_file(*rows))

        book = openpyxl.Workbook()
        book.active.append(HEADER.strip().split(","))
        for row in rows:
            book.active.append(row.replace("PO-7", "PO-8").split(","))
        stream = io.BytesIO()
        book.save(stream)
        wizard = (
            self.env["order.import.wizard"]
            .with_user(self.manager)
            .create(
                {"file": base64.b64encode(stream.getvalue()), "filename": "orders.xlsx"}
            )
        )
        action = wizard.action_import()
        from_xlsx = self.env["sale.order"].search(action["domain"])

        for order in from_csv + from_xlsx:
            self.assertEqual(order.partner_id.ref, "HB-1")
            self.assertEqual(order.partner_id.city, "Ningbo")
            self.assertEqual(order.amount_untaxed, 4 * 12.5 + 2 * 7 * 0.9)
            self.assertEqual(str(order.commitment_date.date()), "2031-05-02")
        self.assertEqual(from_csv.partner_id, from_xlsx.partner_id)
        self.assertEqual(
            len(self.env["product.product"].search([("default_code", "=", "NEW-1")])), 1
        )

    @mute_logger("odoo.sql_db")
    def test_04_malformed_file_leaves_nothing(self):
        """Two bad rows: both named, and no order, customer or product is left."""
        before = self._counts()
        content = csv_file(
            "PO-1,NEW-C,Nova Ltd,,,,,2031-05-02,NEW-P,Widget,4,12.5,,",
            "PO-1,NEW-C,Nova Ltd,,,,,2031-05-02,NEW-P,Widget,many,12.5,,",
            "PO-2,NEW-C,Nova Ltd,,,,,2031-05-02,NEW-Q,Gadget,1,12.5,,",
            "PO-2,NEW-C,Nova Ltd,,,,,2031-05-02,,Gadget,1,12.5,,",
        )
        with self.assertRaises(UserError) as caught:
            self.importer.import_file("bad.csv", content)

        message = str(caught.exception)
        self.assertIn("bad.csv, row 3, quantity", message)
        self.assertIn("bad.csv, row 5, product_code", message)
        self.assertIn("2 wrong value(s)", message)
        self.assertEqual(self._counts(), before)

    def test_05_broken_tpch_lineitem_leaves_nothing(self):
        """A damaged lineitem table refuses the whole directory."""
        before = self._counts()
        with tempfile.TemporaryDirectory() as directory:
            generate_tpch(directory)
            path = f"{directory}/lineitem.tbl"
            with open(path, encoding="utf-8") as handle:
                lines = handle.readlines()
            lines[2] = lines[2].replace("|", "|x", 5)
            with open(path, "w", encoding="utf-8") as handle:
                handle.writelines(lines)
            with self.assertRaisesRegex(UserError, "lineitem.tbl, row 3"):
                self.importer.import_tpch(directory, limit=5)
        self.assertEqual(self._counts(), before)

    def test_06_clerk_cannot_create_products_by_import(self):
        """Unknown products stop a clerk's import; known ones go through."""
        new_product = csv_file("PO-1,HB-1,Harbour Ltd,,,,,2031-05-02,NEW-9,Clamp,1,7,,")
        with self.assertRaisesRegex(UserError, "NEW-9: unknown product code"):
            self.importer.with_user(self.clerk).import_file("orders.csv", new_product)

        known = csv_file(
            "PO-2,HB-1,Harbour Ltd,8 Quay St,Ningbo,315000,CN,2031-05-02,"
            "OM-BRACKET,,1,12.5,,"
        )
        order = self.importer.with_user(self.clerk).import_file("orders.csv", known)
        self.assertEqual(order.create_uid, self.clerk)
        self.assertEqual(order.review_state, "waiting")
