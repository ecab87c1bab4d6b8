import io
import os
import tempfile
from datetime import date
from operator import itemgetter
from types import SimpleNamespace
from unittest import TestCase

import openpyxl

from odoo.addons.order_management.tools.order_files import (
    _cell_value,
    detect_encoding,
    detect_separator,
    order_batches,
    read_order_file,
    read_tpch,
)

HEADER = (
    "order_ref,customer_ref,customer_name,delivery_street,delivery_city,"
    "delivery_zip,delivery_country,delivery_date,product_code,product_name,"
    "quantity,unit_price,discount,note\n"
)


CHINESE_HEADER = (
    "订单号,客户编号,客户名称,收货地址,城市,邮编,国家,交货日期,"
    "产品编码,产品名称,数量,单价,折扣,备注,特殊订单类型,特殊说明\n"
)


def csv_file(*rows):
    return (HEADER + "".join(row + "\n" for row in rows)).encode("utf-8")


def separated(separator, *rows):
    """A CSV file with another separator; the rows are given with it."""
    header = HEADER.replace(",", separator)
    return (header + "".join(row + "\n" for row in rows)).encode("utf-8")


def xlsx_file(*rows):
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    stream = io.BytesIO()
    book.save(stream)
    return stream.getvalue()


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

        # Latin-1 is read as such, unless the user says it is UTF-8.
        _orders, errors = read_order_file(
            "orders.csv", "é".encode("latin-1"), encoding="utf-8"
        )
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

    def test_07_encodings(self):
        """GB18030 and Windows-1252 files are detected; a wrong encoding is named."""
        text = csv_file(
            "PO-1,C-9,宁波港务有限公司,江东路8号,宁波,315000,CN,2031-05-02,"
            "B-1,钢支架,4,12.5,,请提前联系"
        ).decode("utf-8")
        for codec, detected in (
            ("utf-8", "utf-8"),
            ("utf-8-sig", "utf-8-sig"),
            ("gb18030", "gb18030"),
            ("gbk", "gb18030"),
            ("utf-16", "utf-16"),
        ):
            with self.subTest(codec=codec):
                content = text.encode(codec)
                self.assertEqual(detect_encoding(content), detected)
                orders, errors = read_order_file("orders.csv", content)
                self.assertEqual(errors, [])
                self.assertEqual(orders[0]["customer"]["name"], "宁波港务有限公司")
                self.assertEqual(orders[0]["note"], "请提前联系")

        german = csv_file(
            "PO-2,C-7,Müller GmbH,Straße 5,Köln,,DE,2031-05-02,B-1,Gerät,1,2,,Grüße"
        ).decode("utf-8")
        content = german.encode("cp1252")
        # These bytes decode as GB18030 too, into rare ideographs: not Chinese.
        self.assertTrue(content.decode("gb18030"))
        self.assertEqual(detect_encoding(content), "cp1252")
        orders, errors = read_order_file("orders.csv", content)
        self.assertEqual(errors, [])
        self.assertEqual(orders[0]["customer"]["name"], "Müller GmbH")
        self.assertEqual(orders[0]["delivery"]["street"], "Straße 5")

        content = german.replace("Grüße", "5 € Café").encode("cp1252")
        self.assertEqual(detect_encoding(content), "cp1252")
        orders, _errors = read_order_file("orders.csv", content)
        self.assertEqual(orders[0]["note"], "5 € Café")
        # Bytes that Windows-1252 leaves unassigned are read as Latin-1.
        self.assertEqual(detect_encoding(content + b"\x81"), "latin-1")

    def test_08_explicit_encoding(self):
        """An encoding chosen by the user is used, or the file refused naming it."""
        chinese = csv_file("PO-1,C-9,宁波港务,,,,,2031-05-02,B-1,支架,4,12.5,,").decode(
            "utf-8"
        )
        orders, errors = read_order_file(
            "orders.csv", chinese.encode("gb18030"), encoding="GB18030"
        )
        self.assertEqual((orders[0]["customer"]["name"], errors), ("宁波港务", []))

        for content, encoding, reason in (
            (chinese.encode("gb18030"), "utf-8", "the file is not UTF-8 text"),
            ("Café".encode("latin-1"), "gb18030", "the file is not GB18030 text"),
            (chinese.encode("utf-8"), "klingon", "'klingon' is not a known text"),
            (chinese.encode("utf-8"), "base64", "'base64' is not a known text"),
        ):
            with self.subTest(encoding=encoding):
                orders, errors = read_order_file("orders.csv", content, encoding)
                self.assertEqual(orders, [])
                self.assertEqual(
                    [(e.filename, e.row, e.field) for e in errors],
                    [("orders.csv", 0, "(file)")],
                )
                self.assertIn(reason, errors[0].reason)

        # A byte order mark is dropped whichever encoding reads the file.
        content = b"\xef\xbb\xbf" + chinese.encode("utf-8")
        orders, errors = read_order_file("orders.csv", content, encoding="utf-8")
        self.assertEqual((len(orders), errors), (1, []))

    def test_09_separators(self):
        """Comma, semicolon, tab and bar files are told apart by their header."""
        row = "PO-1,C-9,Harbour Ltd,8 Quay St,Ningbo,,CN,2031-05-02,B-1,,4,12.5,,"
        for separator in (",", ";", "\t", "|"):
            with self.subTest(separator=separator):
                content = separated(separator, row.replace(",", separator))
                self.assertEqual(detect_separator(content.decode("utf-8")), separator)
                orders, errors = read_order_file("orders.csv", content)
                self.assertEqual(errors, [])
                self.assertEqual(orders[0]["delivery"]["city"], "Ningbo")
                self.assertEqual(orders[0]["lines"][0]["price_unit"], 12.5)

        # Commas in the values of a semicolon file do not count.
        content = separated(
            ";",
            "PO-1;C-9;Harbour, Ltd;8 Quay St, Unit 2, Dock 4;Ningbo;;CN;"
            "2031-05-02;B-1;;4;12,5;;Fragile, handle with care, top side up",
        )
        orders, errors = read_order_file("orders.csv", content)
        self.assertEqual(errors, [])
        self.assertEqual(orders[0]["customer"]["name"], "Harbour, Ltd")
        self.assertEqual(orders[0]["lines"][0]["price_unit"], 12.5)
        # Nor do separators inside a quoted column name.
        header = HEADER.strip() + ',"remarks; internal; do not print"'
        self.assertEqual(detect_separator(header + "\n"), ",")

    def test_10_decimal_commas(self):
        """Decimal commas and grouped thousands are read; ambiguity is refused."""
        content = separated(
            ";",
            "PO-1;C-9;Harbour Ltd;;;;;2031-05-02;B-1;;12,5;1.234,50;2,5;",
            "PO-1;C-9;Harbour Ltd;;;;;;B-2;;1 234,5;1,234.50;;",
            "PO-1;C-9;Harbour Ltd;;;;;;B-3;;1\u00a0234,5;0,125;;",
            "PO-1;C-9;Harbour Ltd;;;;;;B-4;;1 000;1,234,567.5;;",
        )
        orders, errors = read_order_file("orders.csv", content)
        self.assertEqual(errors, [])
        self.assertEqual(
            [
                (line["quantity"], line["price_unit"], line["discount"])
                for line in orders[0]["lines"]
            ],
            [
                (12.5, 1234.5, 2.5),
                (1234.5, 1234.5, 0.0),
                (1234.5, 0.125, 0.0),
                (1000.0, 1234567.5, 0.0),
            ],
        )
        # Quoted in a comma-separated file.
        orders, errors = read_order_file(
            "orders.csv",
            csv_file('PO-1,C-9,Harbour Ltd,,,,,2031-05-02,B-1,,"12,5","1,234.50",,'),
        )
        self.assertEqual(errors, [])
        self.assertEqual(orders[0]["lines"][0]["price_unit"], 1234.5)

        content = separated(
            ";",
            "PO-2;C-9;Harbour Ltd;;;;;2031-05-02;B-1;;1,2,3;1,234;;",
            "PO-2;C-9;Harbour Ltd;;;;;;B-1;;-1,5;1.234.567,8,9;;",
            "PO-2;C-9;Harbour Ltd;;;;;;B-1;;12,;1 23,5;1e400;",
        )
        _orders, errors = read_order_file("orders.csv", content)
        self.assertEqual(
            [(e.row, e.field, e.reason) for e in errors],
            [
                (2, "quantity", "'1,2,3' is not a number"),
                (
                    2,
                    "unit_price",
                    "'1,234' is ambiguous: write 1234 or 1.234, "
                    "without a thousands separator",
                ),
                (3, "quantity", "-1,5 must be greater than zero"),
                (3, "unit_price", "'1.234.567,8,9' is not a number"),
                (4, "quantity", "'12,' is not a number"),
                (4, "unit_price", "'1 23,5' is not a number"),
                (4, "discount", "1e400 is too large"),
            ],
        )

    def test_11_date_formats(self):
        """Dates in the usual formats are read; ambiguous ones are refused."""
        for raw, expected in (
            ("2031-05-02", date(2031, 5, 2)),
            ("2031-05-02 14:30:00", date(2031, 5, 2)),
            ("2031/05/02", date(2031, 5, 2)),
            ("2031.05.02", date(2031, 5, 2)),
            ("2031-5-2", date(2031, 5, 2)),
            ("02.05.2031", date(2031, 5, 2)),
            ("2031年5月2日", date(2031, 5, 2)),
            ("13/05/2031", date(2031, 5, 13)),
            ("05/13/2031", date(2031, 5, 13)),
            ("05/05/2031", date(2031, 5, 5)),
        ):
            with self.subTest(raw=raw):
                row = f"PO-1,C-9,Harbour Ltd,,,,,{raw},B-1,,1,2,,"
                orders, errors = read_order_file("orders.csv", csv_file(row))
                self.assertEqual(errors, [])
                self.assertEqual(orders[0]["delivery_date"], expected)

        dates = ("05/02/2031", "31/02/2031", "2031/13/01", "13/13/2031", "tomorrow")
        rows = [
            f"PO-{n},C-9,Harbour Ltd,,,,,{raw},B-1,,1,2,,"
            for n, raw in enumerate(dates)
        ]
        _orders, errors = read_order_file("orders.csv", csv_file(*rows))
        self.assertEqual(
            [(e.row, e.field) for e in errors],
            [(row, "delivery_date") for row in range(2, 7)],
        )
        self.assertEqual(
            errors[0].reason,
            "'05/02/2031' is ambiguous: day/month/year or month/day/year? "
            "Write the date as YYYY-MM-DD",
        )
        for error, raw in zip(errors[1:], dates[1:], strict=True):
            self.assertEqual(error.reason, f"'{raw}' is not a date (YYYY-MM-DD)")

    def test_12_chinese_headers(self):
        """Chinese column names are read as the layout's, in CSV and XLSX."""
        row = (
            "PO-1,C-9,宁波港务,江东路8号,宁波,315000,CN,2031年5月2日,"
            'B-1,钢支架,4,"12,5",5,轻放,rush,加急'
        )
        content = (CHINESE_HEADER + row + "\n").encode("gb18030")
        orders, errors = read_order_file("订单.csv", content)
        self.assertEqual(errors, [])
        order = orders[0]
        self.assertEqual(
            (order["ref"], order["customer"]["ref"], order["customer"]["name"]),
            ("PO-1", "C-9", "宁波港务"),
        )
        self.assertEqual(
            order["delivery"],
            {
                "street": "江东路8号",
                "city": "宁波",
                "zip": "315000",
                "country_code": "CN",
            },
        )
        self.assertEqual(order["delivery_date"], date(2031, 5, 2))
        self.assertEqual(
            (order["note"], order["special_type"], order["special_note"]),
            ("轻放", "rush", "加急"),
        )
        line = order["lines"][0]
        self.assertEqual(
            (
                line["product"]["code"],
                line["product"]["name"],
                line["quantity"],
                line["price_unit"],
                line["discount"],
            ),
            ("B-1", "钢支架", 4.0, 12.5, 5.0),
        )

        # The other usual names; a byte order mark and full-width spaces
        # around a name, as pasting from other programs leaves them.
        header = [
            "\ufeff订单编号",
            "\u3000客户代码\u3000",
            " 客户名称 ",
            "送货地址",
            "国家代码",
            "交付日期",
            "产品代码",
            "数量",
            "单价",
        ]
        values = ["PO-2", "C-9", "宁波港务", "江东路8号", "CN", "2031.05.02"]
        content = xlsx_file(header, [*values, "B-1", 4, 12.5])
        orders, errors = read_order_file("订单.xlsx", content)
        self.assertEqual(errors, [])
        self.assertEqual(orders[0]["ref"], "PO-2")
        self.assertEqual(orders[0]["delivery"]["street"], "江东路8号")
        self.assertEqual(orders[0]["delivery_date"], date(2031, 5, 2))

        # A missing column is named as the layout names it.
        content = xlsx_file(header[:-1], [*values, "B-1", 4])
        _orders, errors = read_order_file("订单.xlsx", content)
        self.assertEqual([(e.row, e.field) for e in errors], [(1, "unit_price")])

    def test_13_formulas_are_text(self):
        """A formula is kept as text, or refused where a number or date is due."""
        row = 'PO-1,C-9,Harbour Ltd,,,,,2031-05-02,=B1,"=HYPERLINK(""x"")",1,2,,=A1'
        orders, errors = read_order_file("orders.csv", csv_file(row))
        self.assertEqual(errors, [])
        line = orders[0]["lines"][0]
        self.assertEqual(line["product"]["code"], "=B1")
        self.assertEqual(line["product"]["name"], '=HYPERLINK("x")')
        self.assertEqual(orders[0]["note"], "=A1")

        expected = [
            (2, "delivery_date", "'=TODAY()' is a formula, not a date"),
            (2, "quantity", "'=1+1' is a formula, not a number"),
            (2, "unit_price", "'=SUM(K2:K3)' is a formula, not a number"),
        ]
        row = "PO-1,C-9,Harbour Ltd,,,,,=TODAY(),B-1,,=1+1,=SUM(K2:K3),,"
        _orders, errors = read_order_file("orders.csv", csv_file(row))
        self.assertEqual([(e.row, e.field, e.reason) for e in errors], expected)

        cells = ["PO-1", "C-9", "Harbour Ltd", None, None, None, None]
        content = xlsx_file(
            HEADER.strip().split(","),
            [*cells, "=TODAY()", "=B1", None, "=1+1", "=SUM(K2:K3)", None, "=A1"],
        )
        _orders, errors = read_order_file("orders.xlsx", content)
        self.assertEqual([(e.row, e.field, e.reason) for e in errors], expected)

        content = xlsx_file(
            HEADER.strip().split(","),
            [*cells, date(2031, 5, 2), "=B1", None, 1, 2, None, "=A1"],
        )
        orders, errors = read_order_file("orders.xlsx", content)
        self.assertEqual(errors, [])
        self.assertEqual(orders[0]["lines"][0]["product"]["code"], "=B1")
        self.assertEqual(orders[0]["note"], "=A1")
        # openpyxl 3.1 gives an array formula as an object holding its text.
        array_formula = SimpleNamespace(ref="K2", text="=SUM(K2:K3)")
        self.assertEqual(_cell_value(array_formula), "=SUM(K2:K3)")
        self.assertEqual(_cell_value(12.5), 12.5)


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


class TestHeaderColumns(TestCase):
    def test_two_cells_for_one_column_are_refused(self):
        """客户编号 and 客户代码 both mean customer_ref: the file is refused."""
        content = (
            "order_ref,客户编号,客户代码,customer_name,delivery_date,product_code,"
            "quantity,unit_price\n"
            "PO-1,C-1,C-2,Delta,2031-05-02,B-1,1,2\n"
        ).encode()
        orders, errors = read_order_file("twice.csv", content)
        self.assertEqual(orders, [])
        self.assertEqual(
            [(error.row, error.field, error.reason) for error in errors],
            [(1, "customer_ref", "two columns are read as this one")],
        )


class TestOrderBatches(TestCase):
    """Large files are read a batch of orders at a time."""

    def test_01_orders_come_as_their_last_row_is_read(self):
        """An order comes in a batch once its last row is read, even when its
        rows are apart, in the order of first rows; the rows after a batch
        are not read yet."""
        content = csv_file(
            "PO-1,C-9,Harbour Ltd,,,,,2031-05-02,B-1,Bracket,4,12.5,,",
            "PO-2,C-9,Harbour Ltd,,,,,2031-05-02,B-1,Bracket,5,12.5,,",
            "PO-1,C-9,Harbour Ltd,,,,,2031-05-02,H-2,Hinge,6,3,,",
            "PO-3,C-9,Harbour Ltd,,,,,2031-05-02,H-2,Hinge,7,3,,",
            "PO-4,C-9,Harbour Ltd,,,,,2031-05-02,H-2,Hinge,many,3,,",
        )
        errors = []
        batches = order_batches("orders.csv", content, 2, errors)

        first = next(batches)
        self.assertEqual([order["ref"] for order in first], ["PO-1", "PO-2"])
        self.assertEqual([len(order["lines"]) for order in first], [2, 1])
        self.assertEqual(errors, [], "row 6 is read after the first batch")

        rest = list(batches)
        self.assertEqual(
            [[o["ref"] for o in batch] for batch in rest], [["PO-3", "PO-4"]]
        )
        self.assertEqual([(e.row, e.field) for e in errors], [(6, "quantity")])

    def test_02_leaves_out_the_orders_asked(self):
        content = csv_file(
            "PO-1,C-9,Harbour Ltd,,,,,2031-05-02,B-1,Bracket,4,12.5,,",
            "PO-2,C-9,Harbour Ltd,,,,,2031-05-02,B-1,Bracket,5,12.5,,",
        )
        batches = list(order_batches("orders.csv", content, 10, [], skip={"PO-1"}))
        self.assertEqual([[o["ref"] for o in batch] for batch in batches], [["PO-2"]])

    def test_03_same_orders_as_read_whole(self):
        """Read in batches or whole, a file gives the same orders and errors,
        for CSV in any encoding and for XLSX."""
        rows = [
            "PO-1,C-9,宁波港务,,,,,2031-05-02,B-1,支架,4,12.5,,",
            'PO-2,C-7,Delta GmbH,,,,,02.06.2031,B-1,,1,"12,5",,',
            "PO-1,C-9,宁波港务,,,,,,H-2,铰链,10,3,5,急",
            "PO-3,C-7,Delta GmbH,,,,,2031-06-01,,,1,2,,",
        ]
        files = {
            "utf-8.csv": csv_file(*rows),
            "bom.csv": b"\xef\xbb\xbf" + csv_file(*rows),
            "gb18030.csv": csv_file(*rows).decode().encode("gb18030"),
            "sheet.xlsx": xlsx_file(
                HEADER.strip().split(","),
                *(row.replace('"12,5"', "12.5").split(",") for row in rows),
            ),
        }
        for name, content in files.items():
            with self.subTest(file=name):
                whole, whole_errors = read_order_file(name, content, partial=True)
                errors = []
                batched = [
                    order
                    for batch in order_batches(name, content, 1, errors)
                    for order in batch
                ]
                by_ref = itemgetter("ref")
                self.assertEqual(sorted(batched, key=by_ref), sorted(whole, key=by_ref))
                self.assertEqual(sorted(errors), sorted(whole_errors))
                self.assertEqual([e.row for e in errors], [5])
