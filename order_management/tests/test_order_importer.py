import base64
import io
import itertools
import logging
import os
import tempfile
from datetime import date
from unittest.mock import patch

import openpyxl

from odoo import fields
from odoo.api import call_kw
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.order_management.models import order_importer
from odoo.addons.order_management.tools.order_files import generate_tpch

from .common import OrderManagementCommon
from .test_order_files import HEADER, csv_file

IMPORTER_LOGGER = "odoo.addons.order_management.models.order_importer"


def tpch_source(directory, limit):
    """Read the first orders and their lines straight from the TPC-H tables.

    :return: {order key: (order values, [line values])}, values as in the file
    """
    with open(os.path.join(directory, "orders.tbl"), encoding="utf-8") as handle:
        rows = (line.split("|") for line in itertools.islice(handle, limit))
        orders = {int(values[0]): (values, []) for values in rows}
    with open(os.path.join(directory, "lineitem.tbl"), encoding="utf-8") as handle:
        for line in handle:
            values = line.split("|")
            if int(values[0]) in orders:
                orders[int(values[0])][1].append(values)
    return orders


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
        with self.assertLogs(IMPORTER_LOGGER, logging.INFO) as logs:
            orders = self.importer.import_tpch(
                self.tpch_dir.name, limit=20, rebase_to=fields.Date.today()
            )

        self.assertEqual(len(orders), 20)
        source = tpch_source(self.tpch_dir.name, 20)
        customer_keys = {int(order[1]) for order, _lines in source.values()}
        part_keys = {int(line[1]) for _o, lines in source.values() for line in lines}
        self.assertEqual(
            logs.output[-1].split(":", 2)[-1],
            f"imported 20 orders with {len(orders.order_line)} lines from "
            f"{self.tpch_dir.name}; created {len(customer_keys)} customers, "
            f"0 delivery addresses and {len(part_keys)} products",
        )
        for key, (order_fields, lines) in source.items():
            order = orders.filtered(
                lambda o, key=key: o.client_order_ref == f"TPCH-{key}"
            )
            self.assertEqual(len(order.order_line), len(lines))
            expected = sum(float(line[5]) * (1 - float(line[6])) for line in lines)
            self.assertAlmostEqual(
                order.amount_untaxed, expected, delta=0.01 * len(lines)
            )
            self.assertEqual(order.partner_id.ref, f"TPCH-C{int(order_fields[1]):09d}")
            self.assertIn(order_fields[8].strip(), order.note)
        self.assertEqual(max(orders.mapped("date_order")).date(), fields.Date.today())
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
        for key, (order_fields, lines) in tpch_source(self.tpch_dir.name, 3).items():
            order = orders.filtered(
                lambda o, key=key: o.client_order_ref == f"TPCH-{key}"
            )
            self.assertEqual(str(order.date_order.date()), order_fields[4])
            # The delivery date is the latest commit date of the lines.
            latest = max(date.fromisoformat(line[11]) for line in lines)
            self.assertEqual(order.commitment_date.date(), latest)
            self.assertIn("Ship mode: ", order.note)
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
        source = tpch_source(self.tpch_dir.name, 10)
        self.assertEqual(
            self.env["res.partner"].search_count([("ref", "=like", "TPCH-C%")]),
            len({order[1] for order, _lines in source.values()}),
        )
        self.assertEqual(
            self.env["product.product"].search_count(
                [("default_code", "=like", "TPCH-P%")]
            ),
            len({line[1] for _order, lines in source.values() for line in lines}),
        )
        product = self.env["product.product"].search(
            [("default_code", "=", "TPCH-P156")]
        )
        self.assertEqual((product.type, product.list_price), ("consu", 1056.15))

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
        job = (
            self.env["order.import.job"]
            .with_user(self.manager)
            .create(
                {"file": base64.b64encode(stream.getvalue()), "name": "orders.xlsx"}
            )
        )
        action = job.action_import()
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
            with self.assertRaises(UserError) as caught:
                self.importer.import_tpch(directory, limit=5)

        message = str(caught.exception)
        # Row 3 is the third line of order 1: part 64, quantity 8.
        self.assertIn("lineitem.tbl, row 3, l_partkey: 'x64' is not", message)
        self.assertIn("lineitem.tbl, row 3, l_quantity: 'x8' is not", message)
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

    def test_06b_rows_of_an_order_apart_in_a_large_file(self):
        """Read a batch at a time, an order whose rows are apart is still one
        order, and the orders after it are all created."""
        rows = [
            f"PO-{ref},HB-1,Harbour Ltd,8 Quay St,Ningbo,315000,CN,2031-05-02,"
            f"OM-BRACKET,,{quantity},12.5,,"
            for ref, quantity in ((1, 1), (2, 2), (1, 3), (3, 4), (4, 5))
        ]
        with patch.object(order_importer, "BATCH_SIZE", 1):
            orders = self.importer.import_file("orders.csv", csv_file(*rows))

        quantities = {
            order.client_order_ref: order.order_line.mapped("product_uom_qty")
            for order in orders
        }
        self.assertEqual(
            quantities,
            {"PO-1": [1.0, 3.0], "PO-2": [2.0], "PO-3": [4.0], "PO-4": [5.0]},
        )

    def test_06c_statistics_follow_a_large_import(self):
        """Each time an import doubles the orders, PostgreSQL recounts them, the
        rows of the import's own transaction included; not on a large table."""
        rows = [
            f"PO-{ref},HB-1,Harbour Ltd,8 Quay St,Ningbo,315000,CN,2031-05-02,"
            f"OM-BRACKET,,{ref},12.5,,"
            for ref in range(1, 13)
        ]
        Importer = type(self.importer)
        for orders_before, expected_calls in ((0, 2), (1_000_000, 0)):
            with (
                self.subTest(orders_before=orders_before),
                self.env.cr.savepoint(flush=False) as savepoint,
                patch.object(order_importer, "BATCH_SIZE", 2),
                patch.object(
                    Importer, "_orders_in_statistics", return_value=orders_before
                ),
                patch.object(
                    Importer,
                    "_refresh_statistics",
                    side_effect=Importer._refresh_statistics,
                    autospec=True,
                ) as refresh,
            ):
                self.importer.import_file("orders.csv", csv_file(*rows))
                self.assertEqual(refresh.call_count, expected_calls)
                if expected_calls:
                    self.env.cr.execute(
                        "SELECT reltuples FROM pg_class "
                        "WHERE oid = 'sale_order'::regclass"
                    )
                    counted = self.env.cr.fetchone()[0]
                    # Counted after the sixth order: all but the last six.
                    present = self.env["sale.order"].search_count([])
                    self.assertGreaterEqual(counted, present - 6)
                savepoint.rollback()

    def test_06d_busy_tables_are_not_waited_for(self):
        """While another transaction analyses the same tables, the import
        goes on without refreshing, its transaction intact."""
        # Were the refresh to wait, fail instead of hanging.
        self.env.cr.execute("SET LOCAL statement_timeout = '10s'")
        with self.registry.cursor() as other:
            # Never wait on this test's own transaction.
            other.execute("SET lock_timeout = '5s'")
            # Holds the table against other analyses until it ends.
            other.execute("ANALYZE sale_order")
            with (
                patch.object(order_importer, "ANALYZE_LOCK_WAIT", "50ms"),
                self.assertLogs(IMPORTER_LOGGER, logging.INFO) as logs,
            ):
                self.importer._refresh_statistics()
            other.rollback()

        self.assertIn("statistics not refreshed", "\n".join(logs.output))
        self.env.cr.execute("SELECT current_setting('lock_timeout')")
        self.assertEqual(self.env.cr.fetchone()[0], "0")

    def test_07_delivery_addresses(self):
        """Another address than the customer's goes to one reused delivery contact."""

        def row(ref, street, city):
            return (
                f"{ref},DL-1,Delta GmbH,{street},{city},,DE,2031-05-02,"
                "OM-BRACKET,,1,12.5,,"
            )

        first = self.importer.import_file(
            "a.csv", csv_file(row("PO-A", "Ring 1", "Köln"))
        )
        customer = first.partner_id
        self.assertEqual(first.partner_shipping_id, customer)
        self.assertEqual((customer.street, customer.country_id.code), ("Ring 1", "DE"))

        with self.assertLogs(IMPORTER_LOGGER, logging.INFO) as logs:
            second = self.importer.import_file(
                "b.csv",
                csv_file(
                    row("PO-B", "Hafen 2", "Bonn"), row("PO-C", "Hafen 2", "Bonn")
                ),
            )
        self.assertIn("created 0 customers, 1 delivery addresses", logs.output[-1])
        contact = second.partner_shipping_id
        self.assertEqual(len(contact), 1)
        self.assertEqual(
            (contact.parent_id, contact.type, contact.street, contact.city),
            (customer, "delivery", "Hafen 2", "Bonn"),
        )
        self.assertEqual(second.partner_id, customer)

        third = self.importer.import_file(
            "c.csv", csv_file(row("PO-D", "Hafen 2", "Bonn"))
        )
        self.assertEqual(third.partner_shipping_id, contact)
        self.assertEqual(customer.child_ids, contact)

    def test_08_unknown_country_leaves_nothing(self):
        """A country code Odoo does not know refuses the file, naming the row."""
        before = self._counts()
        content = csv_file(
            "PO-1,NEW-C,Nova Ltd,1 Road,Town,,DE,2031-05-02,NEW-P,Widget,4,12.5,,",
            "PO-2,NEW-D,Nova Ltd,1 Road,Town,,XX,2031-05-02,NEW-P,Widget,4,12.5,,",
        )
        with self.assertRaisesRegex(
            UserError, "bad.csv, row 3, delivery_country: unknown country code XX"
        ):
            self.importer.import_file("bad.csv", content)
        self.assertEqual(self._counts(), before)

    def test_09_extension_in_capitals(self):
        """ORDERS.CSV is a CSV file too."""
        job = self.env["order.import.job"].create(
            {
                "file": base64.b64encode(
                    csv_file(
                        "PO-9,HB-1,Harbour Ltd,,,,,2031-05-02,OM-BRACKET,,2,12.5,,"
                    )
                ),
                "name": "ORDERS.CSV",
            }
        )
        action = job.action_import()
        order = self.env["sale.order"].search(action["domain"])
        self.assertEqual(
            (action["res_model"], order.client_order_ref), ("sale.order", "PO-9")
        )
        self.assertEqual(order.order_line.product_id, self.product)

    @mute_logger("odoo.addons.base.models.ir_model")
    def test_10_server_files_are_for_administrators(self):
        """A clerk cannot make the server read a directory of its disk."""
        with self.assertRaisesRegex(AccessError, "administrator"):
            self.importer.with_user(self.clerk).import_tpch(self.tpch_dir.name)
        with self.assertRaisesRegex(AccessError, "administrator"):
            self.importer.with_user(self.manager).import_tpch_master_data(
                self.tpch_dir.name
            )

    def test_11_content_over_rpc_and_absurd_values(self):
        """Base64 text is accepted; huge numbers and odd dates name their row."""
        row = (
            "PO-9,HB-1,Harbour Ltd,8 Quay St,Ningbo,315000,CN,2031-05-02,"
            "OM-BRACKET,,1,12.5,,"
        )
        # As an RPC client calls it: the created orders come back as ids.
        order_ids = call_kw(
            self.importer,
            "import_file",
            ["orders.csv", base64.b64encode(csv_file(row)).decode()],
            {},
        )
        self.assertIsInstance(order_ids, list)
        order = self.env["sale.order"].browse(order_ids)
        self.assertEqual(order.client_order_ref, "PO-9")

        bad = csv_file(
            row.replace(",1,12.5,", ",1e400,12.5,"),
            row.replace("2031-05-02", "2031-05-02garbage"),
            row.replace(",1,12.5,", ",1,1e300,"),
        )
        with self.assertRaises(UserError) as caught:
            self.importer.import_file("bad.csv", bad)
        message = str(caught.exception)
        self.assertIn("row 2, quantity: 1e400 is too large", message)
        self.assertIn("row 3, delivery_date", message)
        self.assertIn("row 4, unit_price: 1e300 is too large", message)

        with self.assertRaisesRegex(UserError, "empty"):
            self.importer.import_file("empty.csv", b"")
