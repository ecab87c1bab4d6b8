"""Order files read a batch of orders at a time, attacked with odd layouts.

The reader tests are plain unit tests; the importer and job tests run in
Odoo. ``BATCH_SIZE`` is patched to 1, 2 and 3 so that batch boundaries fall
between every pair of orders.
"""

import base64
import codecs
import io
import zipfile
from operator import itemgetter
from unittest import TestCase
from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.order_management.models import order_importer
from odoo.addons.order_management.tools.order_files import (
    detect_encoding,
    order_batches,
    read_order_file,
)

from .common import OrderManagementCommon
from .test_order_files import HEADER, csv_file, xlsx_file
from .test_order_import_job import order_rows, read_workbook

COLUMNS = HEADER.strip().split(",")

# Python's csv module refuses a cell longer than this (csv.field_size_limit).
CSV_FIELD_LIMIT = 131072

# Sizes that put a batch boundary between every pair of orders, and one
# larger than any file here.
BATCH_SIZES = (1, 2, 3, 200)


def row(ref, quantity, customer="C-9", date="2031-05-02", note="", **values):
    """One CSV line of the test layout, with the values given by column."""
    cells = dict.fromkeys(COLUMNS, "")
    cells.update(
        order_ref=ref,
        customer_ref=customer,
        customer_name="Harbour Ltd",
        delivery_date=date,
        product_code="B-1",
        product_name="Bracket",
        quantity=str(quantity),
        unit_price="12.5",
        note=note,
    )
    cells.update(values)
    return ",".join(cells[name] for name in COLUMNS)


def batched(name, content, size, encoding=None):
    """The orders and errors of ``order_batches``, the batches put together."""
    errors = []
    orders = [
        order
        for batch in order_batches(name, content, size, errors, encoding=encoding)
        for order in batch
    ]
    return orders, errors


def layouts():
    """{file name: content}: every awkward layout read the same either way."""
    apart = [
        row("PO-1", 1),
        row("PO-2", 2),
        "",
        row("PO-3", 3),
        ",,,,,,,,,,,,,",
        row("PO-1", 4, date=""),
        row("PO-4", 5, date=""),
        row("PO-2", 6, customer="C-8"),
        row("PO-5", 7) + ",too,many",
        row("PO-3", 8, note='"two\nlines"'),
        row("PO-5", 9),
        *(row(f"PO-{ref}", ref) for ref in range(6, 16)),
        # The first order's reference again, far from its other rows.
        row("PO-1", 16, note="x" * 100_000),
    ]
    text = HEADER + "\n".join(apart)  # no newline at the end
    files = {
        "plain.csv": text.encode("utf-8"),
        "crlf.csv": text.replace("\n", "\r\n").encode("utf-8"),
        "bom.csv": codecs.BOM_UTF8 + text.encode("utf-8"),
        "utf16.csv": text.encode("utf-16"),
        "gb18030.csv": text.replace("Harbour Ltd", "宁波港务").encode("gb18030"),
        "cp1252.csv": text.replace("Harbour Ltd", "Müller €").encode("cp1252"),
        "latin1.csv": text.replace("Bracket", "Stütze\x81").encode("latin-1"),
    }
    for separator in (";", "\t", "|"):
        # The quoted note holds a newline, never the separator.
        files[f"sep{ord(separator)}.csv"] = text.replace(",", separator).encode()
    sheet = [COLUMNS]
    for line in apart:
        cells = line.replace('"two\nlines"', "two\nlines").split(",")
        sheet.append([cell or None for cell in cells])
    sheet[3] = [1001, "C-9", "=A1", None, None, None, None, None, "B-1", "=B2", 1, 2]
    sheet.append(sheet[3][:10] + [3.5, 2])
    files["sheet.xlsx"] = xlsx_file(*sheet)
    return files


class TestBatchReaderAttack(TestCase):
    def test_01_any_layout_reads_the_same_in_batches(self):
        """Rows of an order apart, a reference back at the end, empty rows,
        rows with too many values or disagreeing, orders without a date, no
        newline at the end, any encoding and separator, quoted newlines,
        formulas and number references in XLSX, long cells: batches of 1, 2
        or 3 orders give the orders and errors of the file read whole."""
        by_ref = itemgetter("ref")
        for name, content in layouts().items():
            whole, whole_errors = read_order_file(name, content, partial=True)
            self.assertGreaterEqual(len(whole), 15, name)
            self.assertTrue(whole_errors, name)
            for size in BATCH_SIZES:
                with self.subTest(file=name, size=size):
                    orders, errors = batched(name, content, size)
                    self.assertEqual(
                        sorted(orders, key=by_ref), sorted(whole, key=by_ref)
                    )
                    self.assertEqual(sorted(errors), sorted(whole_errors))

        orders, _errors = read_order_file(
            "sheet.xlsx", layouts()["sheet.xlsx"], partial=True
        )
        numbered = next(order for order in orders if order["ref"] == "1001")
        self.assertEqual(len(numbered["lines"]), 2)
        self.assertEqual(numbered["customer"]["name"], "=A1")

    def test_02_a_cell_over_the_csv_limit_is_named_at_its_row(self):
        """A cell longer than Python's csv limit (Odoo's server raises it,
        tests do not): the error names its row as where reading stopped."""
        content = csv_file(
            row("PO-1", 1),
            row("PO-2", 2),
            row("PO-1", 3, note="x" * (CSV_FIELD_LIMIT + 1)),  # row 4
            row("PO-3", 4),
            row("PO-1", 5),
        )
        orders, errors = read_order_file("long.csv", content, partial=True)

        self.assertEqual(
            [error.row for error in errors],
            [4],
            f"the long cell is on row 4; the error names rows "
            f"{[error.row for error in errors]}",
        )
        self.assertEqual(errors[0].field, "(file)")
        self.assertIn("from this row on", errors[0].reason)

    def test_03_an_unclosed_quote_is_refused(self):
        """A cell opened with a quote that never closes swallows every row
        after it: the file must be refused, not read short."""
        content = csv_file(
            row("PO-1", 1),
            row("PO-2", 2, note='"unclosed note'),  # row 3
            row("PO-3", 3),
            row("PO-1", 4),
            row("PO-4", 5),
        )
        orders, errors = read_order_file("quote.csv", content)

        self.assertTrue(
            errors,
            "no error: the file reads as "
            f"{[(o['ref'], len(o['lines'])) for o in orders]} and rows 4-6 "
            "vanished into the note of PO-2",
        )
        self.assertEqual(orders, [])

    def test_04_a_damaged_xlsx_sheet_is_refused_clearly(self):
        """An XLSX file whose sheet is cut short is refused as unreadable,
        not with an XML parser's exception."""
        stream = io.BytesIO()
        intact = xlsx_file(COLUMNS, row("PO-1", 1).split(","))
        with (
            zipfile.ZipFile(io.BytesIO(intact)) as source,
            zipfile.ZipFile(stream, "w") as damaged,
        ):
            for item in source.infolist():
                data = source.read(item.filename)
                if item.filename == "xl/worksheets/sheet1.xml":
                    data = data[: len(data) // 2]
                damaged.writestr(item, data)

        try:
            orders, errors = read_order_file("cut.xlsx", stream.getvalue())
        except Exception as error:  # noqa: BLE001 - what is raised is the bug
            self.fail(f"{type(error).__module__}.{type(error).__name__}: {error}")
        self.assertEqual(orders, [])
        # Cut in its first row: reading stops there.
        self.assertEqual([(e.row, e.field) for e in errors], [(1, "(file)")])

    def test_05_finnish_windows_1252_is_not_taken_for_chinese(self):
        """Two accented letters in a row (ää, öö) are one common ideograph in
        GB18030: a Finnish Windows-1252 file must still read as Windows-1252."""
        text = csv_file(row("PO-1", 1)).decode()
        content = text.replace("Harbour Ltd", "Pääkkönen Oy").encode("cp1252")

        orders, _errors = read_order_file("fi.csv", content)
        self.assertEqual(
            detect_encoding(content),
            "cp1252",
            f"the customer is read as {orders[0]['customer']['name']!r}",
        )


@tagged("post_install", "-at_install")
class TestImportBatchesAttack(OrderManagementCommon):
    def _job(self, content, name="orders.csv", **values):
        return (
            self.env["order.import.job"]
            .with_user(self.clerk)
            .create({"name": name, "file": base64.b64encode(content), **values})
        )

    def _counts(self):
        return {
            model: self.env[model].with_context(active_test=False).search_count([])
            for model in ("sale.order", "res.partner", "product.product")
        }

    def _valid_import(self, content, size):
        """Check and import the valid orders of a file in batches of ``size``.

        :return: ({created ref: line quantities}, reported rows, returned rows)
        """
        with self.env.cr.savepoint(flush=False) as savepoint:
            job = self._job(content, mode="valid")
            with patch.object(order_importer, "BATCH_SIZE", size):
                job.action_check()
                if job.valid_order_count:
                    job.action_import()
            created = {
                order.client_order_ref: order.order_line.mapped("product_uom_qty")
                for order in job.order_ids
            }
            report = read_workbook(base64.b64decode(job.error_report))
            reported = sorted({line[0] for line in report["Errors"][1:]})
            returned = [line[0] for line in report["Rows not imported"][1:]]
            savepoint.rollback()
        return created, reported, returned

    def test_10_valid_orders_match_the_report_in_any_batch(self):
        """Valid-only mode, an awkward file, batches of 1, 2, 3 or 200: the
        orders created are exactly those no error names, each with all its
        rows, and the report returns every row of the others."""
        rows = order_rows(9)
        rows[2] = rows[2].replace("2031-05-02", "")  # PO-3 has no date (row 4)
        rows.insert(4, "")  # row 6 empty
        rows.insert(6, rows[0].replace(",10,", ",11,"))  # PO-1 again, row 8
        rows.append(rows[1].replace("HB-1,", "HB-2,"))  # PO-2 disagrees, row 13
        rows.append(rows[5].replace(",50,", ",ten,"))  # PO-5 (row 7), row 14
        content = csv_file(*rows)

        for size in BATCH_SIZES:
            with self.subTest(size=size):
                created, reported, returned = self._valid_import(content, size)
                self.assertEqual(
                    created,
                    {
                        "PO-1": [10.0, 11.0],
                        "PO-4": [40.0],
                        "PO-6": [60.0],
                        "PO-7": [70.0],
                        "PO-8": [80.0],
                        "PO-9": [90.0],
                    },
                )
                self.assertEqual(reported, [4, 13, 14])
                self.assertEqual(returned, [3, 4, 7, 13, 14])

    def test_11_a_row_with_too_many_values_returns_its_order_whole(self):
        """A row with more values than columns is refused; in valid-only mode
        its order must not be imported without that line."""
        rows = order_rows(3)
        extra = rows[1].replace(",20,", ",21,") + ",extra"
        content = csv_file(rows[0], rows[1], extra, rows[2])  # PO-2: rows 3, 4

        for size in (1, 200):
            with self.subTest(size=size):
                created, reported, returned = self._valid_import(content, size)
                self.assertEqual(reported, [4])
                self.assertEqual(
                    (sorted(created), returned),
                    (["PO-1", "PO-3"], [3, 4]),
                    f"PO-2 created with lines {created.get('PO-2')}, only row "
                    f"{returned} returned",
                )

    def test_12_a_long_cell_never_imports_part_of_a_file(self):
        """A cell over the csv limit in valid-only mode: the file cannot be
        read past it, so no order is imported and every row read is given
        back, whatever the batch size."""
        rows = order_rows(3)
        long_row = rows[0].replace(",10,", ",11,") + "x" * (CSV_FIELD_LIMIT + 1)
        content = csv_file(rows[0], rows[1], long_row, rows[2])  # long: row 4

        results = {size: self._valid_import(content, size) for size in (1, 200)}
        # (created {ref: quantities}, rows the errors name, rows returned)
        expected = ({}, [4], [2, 3])
        self.assertEqual(results, dict.fromkeys(results, expected))

    def test_13_an_unclosed_quote_imports_nothing(self):
        """All or nothing: a quote left open in row 3 must refuse the file,
        not import what comes before it."""
        rows = order_rows(4)
        rows.insert(2, rows[0].replace(",10,", ",11,"))  # PO-1 again, row 4
        rows[1] = rows[1] + '"open'  # row 3, in the note
        before = self._counts()

        with self.assertRaises(UserError):
            orders = self.env["order.importer"].import_file(
                "quote.csv", csv_file(*rows)
            )
            self.fail(
                "imported "
                + ", ".join(
                    f"{order.client_order_ref} ({len(order.order_line)} lines)"
                    for order in orders
                )
                + f" (4 orders in 5 rows); counts {before} -> {self._counts()}"
            )

    def test_14_a_nul_character_is_a_named_wrong_value(self):
        """A NUL character that PostgreSQL cannot store is a wrong value named
        with its row, and nothing is left behind."""
        content = csv_file(
            row("PO-1", 1, customer="NEW-C"),
            row("PO-2", 2, customer="NEW-D", customer_name="Nul\x00Ltd"),
        )
        before = self._counts()

        with patch.object(order_importer, "BATCH_SIZE", 1):
            try:
                self.env["order.importer"].import_file("nul.csv", content)
            except UserError as error:
                self.assertIn("nul.csv, row 3", str(error))
            except Exception as error:  # noqa: BLE001 - what is raised is the bug
                self.fail(f"{type(error).__name__}, not a UserError: {error}")
            else:
                self.fail("the file was imported")
        self.assertEqual(self._counts(), before)

    def test_15_failure_in_a_later_batch_leaves_nothing(self):
        """Customers, delivery addresses, products and orders of the first
        batches are all undone when a later batch fails."""
        content = csv_file(
            row("PO-1", 1, customer="NEW-C", delivery_street="1 A St"),
            row("PO-2", 2, customer="NEW-C", delivery_street="2 B St"),
            row("PO-3", 3, customer="NEW-D", product_code="NEW-P"),
            row("PO-4", 4, customer="NEW-E", product_code="NEW-Q"),
        )
        before = self._counts()
        Importer = type(self.env["order.importer"])
        prepare = Importer._prepare_order_vals

        def refuse_po4(importer, order, *args):
            if order["ref"] == "PO-4":
                raise UserError(importer.env._("refused in the last batch"))
            return prepare(importer, order, *args)

        for size in (1, 2, 3):
            with (
                self.subTest(size=size),
                patch.object(order_importer, "BATCH_SIZE", size),
                patch.object(Importer, "_prepare_order_vals", refuse_po4),
                self.assertRaisesRegex(UserError, "last batch"),
            ):
                self.env["order.importer"].import_file("later.csv", content)
            self.assertEqual(self._counts(), before)

    def test_16_dates_at_the_ends_of_the_calendar(self):
        """The first and last days of the calendar are refused naming their
        row, or imported; never an error of the server."""
        for day in ("0001-01-01", "9999-12-31"):
            content = csv_file(row("PO-1", 1, customer="NEW-C", date=day))
            with self.subTest(day=day), self.env.cr.savepoint(flush=False) as sp:
                try:
                    orders = self.env["order.importer"].import_file("d.csv", content)
                    orders.flush_recordset()
                except UserError as error:
                    self.assertIn("d.csv, row 2, delivery_date", str(error))
                except Exception as error:  # noqa: BLE001 - that is the bug
                    self.fail(f"{type(error).__name__}, not a UserError: {error}")
                else:
                    self.assertEqual(str(orders.commitment_date.date()), day)
                sp.rollback()

    def test_17_a_tiny_quantity_is_not_imported_as_zero(self):
        """A quantity above zero but below the unit's precision is refused,
        not stored as a line of zero."""
        content = csv_file(row("PO-1", "0.0001", customer="NEW-C"))
        try:
            order = self.env["order.importer"].import_file("q.csv", content)
        except UserError as error:
            self.assertIn("q.csv, row 2, quantity", str(error))
        else:
            self.assertGreater(
                order.order_line.product_uom_qty,
                0,
                "quantity 0.0001 was imported as a line of 0",
            )

    def test_18_a_new_customer_gets_the_address_of_its_first_order(self):
        """A new customer takes the delivery address of its first order in
        the file, whatever row ends that order."""
        content = csv_file(
            row("PO-1", 1, customer="NEW-C", delivery_street="1 First St"),
            row("PO-2", 2, customer="NEW-C", delivery_street="2 Second St"),
            row("PO-1", 3, customer="NEW-C"),
        )
        for size in (1, 200):
            with self.subTest(size=size), self.env.cr.savepoint(flush=False) as sp:
                with patch.object(order_importer, "BATCH_SIZE", size):
                    orders = self.env["order.importer"].import_file("a.csv", content)
                customer = orders.partner_id
                self.assertEqual(
                    customer.street,
                    "1 First St",
                    "the customer took the address of PO-2, the order whose "
                    "last row comes first",
                )
                sp.rollback()
