import io
import os
import tempfile
from datetime import date
from unittest import TestCase

import openpyxl

from odoo.addons.order_management.tools.order_files import (
    read_order_file,
    read_tpch,
)

HEADER = (
    "order_ref,customer_ref,customer_name,delivery_street,delivery_city,"
    "delivery_zip,delivery_country,delivery_date,product_code,product_name,"
    "quantity,unit_price,discount,note\n"
)


def csv_file(*rows):
    return (HEADER + "".join(row + "\n" for row in rows)).encode("utf-8")


class TestOrderFileReader(TestCase):
    def test_01_rows_group_into_orders(self):
        """Rows sharing an order reference make one order with several lines."""
        content = csv_file(
            "PO-1,C-9,Harbour Ltd,8 Quay St,Ningbo,315000,cn,2031-05-02,"
            "B-1,Bracket,4,12.5,,Rush",
            "PO-1,C-9,Harbour Ltd,8 Quay St,Ningbo,315000,cn,2031-05-02,"
            "H-2,Hinge,10,3,5,",
            "PO-2,C-7,Delta GmbH,,,,,2031-06-01,B-1,,1,12.5,,",
        )
        orders, errors = read_order_file("orders.csv", content)

        self.assertEqual(errors, [])
        self.assertEqual([order["ref"] for order in orders], ["PO-1", "PO-2"])
        first = orders[0]
        self.assertEqual(first["customer"]["name"], "Harbour Ltd")
        self.assertEqual(first["delivery"]["country_code"], "CN")
        self.assertEqual(first["delivery_date"], date(2031, 5, 2))
        self.assertEqual(first["note"], "Rush")
        self.assertEqual(
            [
                (
                    line["product"]["code"],
                    line["quantity"],
                    line["price_unit"],
                    line["discount"],
                )
                for line in first["lines"]
            ],
            [("B-1", 4.0, 12.5, 0.0), ("H-2", 10.0, 3.0, 5.0)],
        )
        self.assertIsNone(orders[1]["delivery"])

    def test_02_every_wrong_row_is_named(self):
        """Errors name file, row and field, for every wrong value, not the first."""
        content = csv_file(
            "PO-1,C-9,Harbour Ltd,,,,,2031-05-02,B-1,Bracket,4,12.5,,",
            "PO-1,C-9,Harbour Ltd,,,,,2031-05-02,B-1,Bracket,four,12.5,,",
            "PO-2,C-7,Delta GmbH,,,,,2031-13-01,B-1,Bracket,1,12.5,,",
            "PO-3,C-7,Delta GmbH,,,,,2031-06-01,,Bracket,1,-2,,",
        )
        _orders, errors = read_order_file("orders.csv", content)

        self.assertEqual(
            [(e.filename, e.row, e.field) for e in errors],
            [
                ("orders.csv", 3, "quantity"),
                ("orders.csv", 4, "delivery_date"),
                ("orders.csv", 5, "product_code"),
                ("orders.csv", 5, "unit_price"),
            ],
        )
        self.assertIn("'four' is not a number", errors[0].reason)

    def test_03_missing_columns_and_formats(self):
        """A file without the required columns, or of another kind, is refused."""
        _orders, errors = read_order_file("orders.csv", b"order_ref,quantity\nPO-1,3\n")
        self.assertIn("customer_ref", [error.field for error in errors])

        _orders, errors = read_order_file("orders.ods", b"whatever")
        self.assertEqual(errors[0].field, "(file)")

        _orders, errors = read_order_file("orders.csv", "é".encode("latin-1"))
        self.assertIn("not UTF-8", errors[0].reason)

    def test_04_bom_and_xlsx(self):
        """UTF-8 with a BOM and XLSX sheets read the same as plain CSV."""
        row = "PO-1,C-9,Harbour Ltd,,,,,2031-05-02,B-1,Bracket,4,12.5,,"
        orders, errors = read_order_file("bom.csv", b"\xef\xbb\xbf" + csv_file(row))
        self.assertEqual((len(orders), errors), (1, []))

        book = openpyxl.Workbook()
        sheet = book.active
        sheet.append(HEADER.strip().split(","))
        sheet.append(
            [
                "PO-1",
                "C-9",
                "Harbour Ltd",
                None,
                None,
                None,
                None,
                date(2031, 5, 2),
                '=HYPERLINK("x")',
                "Bracket",
                4,
                12.5,
                None,
                None,
            ]
        )
        stream = io.BytesIO()
        book.save(stream)
        orders, errors = read_order_file("orders.xlsx", stream.getvalue())

        self.assertEqual(errors, [])
        self.assertEqual(orders[0]["delivery_date"], date(2031, 5, 2))
        # A formula is kept as the text it is, never evaluated.
        self.assertEqual(orders[0]["lines"][0]["product"]["code"], '=HYPERLINK("x")')

    def test_05_rows_of_one_order_must_agree(self):
        """A row naming another customer, address or date than its order is refused."""
        content = csv_file(
            "PO-1,C-9,Harbour Ltd,8 Quay St,Ningbo,,CN,2031-05-02,B-1,,1,2,,",
            "PO-1,C-8,Other Ltd,8 Quay St,Ningbo,,CN,2031-05-02,B-1,,1,2,,",
            "PO-1,C-9,Harbour Ltd,1 Main St,Ningbo,,CN,2031-05-02,B-1,,1,2,,",
            "PO-1,C-9,Harbour Ltd,,,,,2031-05-09,B-1,,1,2,,",
            "PO-1,C-9,Harbour Ltd,,,,,,B-1,,1,2,,",
        )
        orders, errors = read_order_file("orders.csv", content)

        self.assertEqual(orders, [])
        self.assertEqual(
            [(e.row, e.field) for e in errors],
            [(3, "customer_ref"), (4, "delivery_street"), (5, "delivery_date")],
        )
        self.assertIn("already has customer C-9", errors[0].reason)
        self.assertIn("8 Quay St, Ningbo, CN", errors[1].reason)

    def test_06_country_codes_and_notes(self):
        """Countries are two-letter codes; the distinct notes of an order add up."""
        content = csv_file(
            "PO-1,C-9,Harbour Ltd,1 Rue,Lyon,,France,2031-05-02,B-1,,1,2,,",
        )
        _orders, errors = read_order_file("orders.csv", content)
        self.assertEqual([(e.row, e.field) for e in errors], [(2, "delivery_country")])
        self.assertIn("'FRANCE' is not a two-letter country code", errors[0].reason)

        content = csv_file(
            "PO-1,C-9,Harbour Ltd,1 Rue,Lyon,,fr,2031-05-02,B-1,,1,2,,Ring twice",
            "PO-1,C-9,Harbour Ltd,,,,,,B-2,,1,2,,Ring twice",
            "PO-1,C-9,Harbour Ltd,,,,,,B-3,,1,2,,Fragile",
        )
        orders, errors = read_order_file("orders.csv", content)
        self.assertEqual(errors, [])
        self.assertEqual(orders[0]["note"], "Ring twice\nFragile")
        self.assertEqual(orders[0]["customer"]["country_code"], "FR")
        self.assertEqual(len(orders[0]["lines"]), 3)
        # Rows without an address or date take the order's.
        self.assertEqual(orders[0]["delivery"]["city"], "Lyon")


class TestTpchReader(TestCase):
    def _write(self, directory, table, rows):
        with open(
            os.path.join(directory, f"{table}.tbl"), "w", encoding="utf-8"
        ) as handle:
            handle.writelines("|".join(row) + "|\n" for row in rows)

    def _sample(self, directory, lineitems=None):
        self._write(directory, "nation", [("18", "CHINA", "2", "x")])
        self._write(
            directory,
            "customer",
            [
                (
                    "5",
                    "Customer#000000005",
                    "Road 1",
                    "18",
                    "28-1",
                    "10.0",
                    "MACHINERY",
                    "c",
                )
            ],
        )
        self._write(
            directory,
            "part",
            [("7", "red bolt", "M#1", "B#1", "SMALL", "3", "BOX", "907.00", "p")],
        )
        self._write(
            directory,
            "orders",
            [
                ("1", "5", "O", "100.0", "1996-01-02", "5-LOW", "C#1", "0", "first"),
                ("2", "5", "O", "50.0", "1996-03-01", "1-URGENT", "C#1", "0", "second"),
                ("3", "5", "O", "50.0", "1996-04-01", "1-URGENT", "C#1", "0", "third"),
            ],
        )
        self._write(
            directory,
            "lineitem",
            lineitems
            or [
                (
                    "1",
                    "7",
                    "1",
                    "1",
                    "4",
                    "3628.00",
                    "0.05",
                    "0.02",
                    "N",
                    "O",
                    "1996-02-01",
                    "1996-02-10",
                    "1996-02-12",
                    "NONE",
                    "TRUCK",
                    "l",
                ),
                (
                    "2",
                    "7",
                    "1",
                    "1",
                    "2",
                    "1814.00",
                    "0.00",
                    "0.02",
                    "N",
                    "O",
                    "1996-03-05",
                    "1996-03-20",
                    "1996-03-25",
                    "NONE",
                    "MAIL",
                    "l",
                ),
                (
                    "3",
                    "7",
                    "1",
                    "1",
                    "1",
                    "907.00",
                    "0.00",
                    "0.02",
                    "N",
                    "O",
                    "1996-04-05",
                    "1996-04-20",
                    "1996-04-25",
                    "NONE",
                    "MAIL",
                    "l",
                ),
            ],
        )

    def test_01_orders_lines_customers_parts(self):
        """TPC-H keys become references; prices are per unit; dates are kept."""
        with tempfile.TemporaryDirectory() as directory:
            self._sample(directory)
            orders, errors = read_tpch(directory, limit=2)

        self.assertEqual(errors, [])
        self.assertEqual([order["ref"] for order in orders], ["TPCH-1", "TPCH-2"])
        first = orders[0]
        self.assertEqual(first["customer"]["ref"], "TPCH-C000000005")
        self.assertEqual(first["customer"]["country_code"], "CN")
        self.assertEqual(first["delivery_date"], date(1996, 2, 10))
        self.assertEqual(first["note"], "first\nShip mode: TRUCK")
        line = first["lines"][0]
        self.assertEqual(line["product"]["code"], "TPCH-P7")
        self.assertEqual(line["product"]["list_price"], 907.0)
        self.assertEqual(
            (line["quantity"], line["price_unit"], line["discount"]), (4.0, 907.0, 5.0)
        )
        self.assertEqual(line["source"], ("lineitem.tbl", 1))

    def test_02_rebase_spreads_orders_and_keeps_lead_times(self):
        """Rebased orders end on the given day; deliveries keep their lead."""
        with tempfile.TemporaryDirectory() as directory:
            self._sample(directory)
            orders, _errors = read_tpch(directory, rebase_to=date(2031, 3, 1))
        self.assertEqual(
            [order["date_order"] for order in orders],
            [date(2031, 1, 30), date(2031, 2, 19), date(2031, 3, 1)],
        )
        # Order 2 was due 19 days after it was placed, and still is.
        self.assertEqual(orders[1]["delivery_date"], date(2031, 3, 10))
        self.assertEqual(orders[1]["lines"][0]["delivery_date"], date(2031, 3, 10))

    def test_03_broken_lineitem_is_named(self):
        """A bad quantity and a missing field are both reported, with rows."""
        with tempfile.TemporaryDirectory() as directory:
            self._sample(
                directory,
                lineitems=[
                    (
                        "1",
                        "7",
                        "1",
                        "1",
                        "x4",
                        "3628.00",
                        "0.05",
                        "0.02",
                        "N",
                        "O",
                        "1996-02-01",
                        "1996-02-10",
                        "1996-02-12",
                        "NONE",
                        "TRUCK",
                        "l",
                    ),
                    ("2", "7", "1", "1", "2", "1814.00"),
                ],
            )
            _orders, errors = read_tpch(directory)
        self.assertEqual(
            [(e.filename, e.row, e.field) for e in errors][:2],
            [("lineitem.tbl", 1, "l_quantity"), ("lineitem.tbl", 2, "(row)")],
        )

    def test_04_missing_table(self):
        """A directory without one of the tables says which one."""
        with tempfile.TemporaryDirectory() as directory:
            _orders, errors = read_tpch(directory)
        self.assertIn("orders.tbl", [error.filename for error in errors])

    def test_05_unknown_nation_and_customer(self):
        """A nation without a country and an order without its customer are named."""
        with tempfile.TemporaryDirectory() as directory:
            self._sample(directory)
            self._write(directory, "nation", [("18", "ATLANTIS", "2", "x")])
            with open(
                os.path.join(directory, "orders.tbl"), "a", encoding="utf-8"
            ) as handle:
                handle.write("4|99|O|1.0|1996-05-01|5-LOW|C#1|0|lost|\n")
            orders, errors = read_tpch(directory)

        self.assertEqual(
            [(e.filename, e.row, e.field) for e in errors],
            [("nation.tbl", 1, "n_name"), ("orders.tbl", 4, "o_custkey")],
        )
        self.assertEqual(len(orders), 3)
