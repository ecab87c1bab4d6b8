import base64
import io
from unittest.mock import patch

import openpyxl

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.order_management.models import order_import_job, order_importer

from .common import OrderManagementCommon
from .test_order_files import HEADER, csv_file, xlsx_file


def order_rows(count, start=1):
    """``count`` one-line orders of the test customer's bracket.

    Each has a quantity of its own: the same lines for the same day would be
    duplicates that review holds.
    """
    return [
        f"PO-{number},HB-1,Harbour Ltd,8 Quay St,Ningbo,315000,CN,2031-05-02,"
        f"OM-BRACKET,,{number * 10},12.5,,"
        for number in range(start, start + count)
    ]


def read_workbook(content):
    book = openpyxl.load_workbook(io.BytesIO(content))
    return {
        sheet.title: [[cell.value for cell in row] for row in sheet.iter_rows()]
        for sheet in book.worksheets
    }


@tagged("post_install", "-at_install")
class TestOrderImportJob(OrderManagementCommon):
    def _job(self, content, name="orders.csv", user=None, **values):
        return (
            self.env["order.import.job"]
            .with_user(user or self.clerk)
            .create({"name": name, "file": base64.b64encode(content), **values})
        )

    def _order_count(self):
        return self.env["sale.order"].search_count([])

    def test_01_check_previews_the_columns_and_first_rows(self):
        """Check maps the columns, shows five rows and counts what it read."""
        job = self._job(csv_file(*order_rows(8)))

        job.action_check()

        self.assertEqual(job.state, "checked")
        self.assertEqual((job.order_count, job.valid_order_count), (8, 8))
        self.assertEqual(job.error_count, 0)
        self.assertFalse(job.error_report)
        preview = str(job.preview)
        self.assertIn("customer_ref", preview)
        self.assertIn("utf-8", preview)
        self.assertIn("PO-5", preview)
        self.assertNotIn("PO-6", preview)

        job.action_import()
        self.assertEqual(job.state, "done")
        self.assertEqual(len(job.order_ids), 8)
        self.assertEqual(set(job.order_ids.mapped("review_state")), {"waiting"})

    def test_02_three_bad_rows_of_a_hundred_all_or_nothing(self):
        """The report names exactly the three bad rows; nothing is written."""
        rows = order_rows(100)
        rows[9] = rows[9].replace(",12.5,", ",twelve,")  # file row 11
        rows[49] = rows[49].replace("2031-05-02", "2031-13-45")  # row 51
        rows[89] = rows[89].replace("OM-BRACKET", "")  # row 91
        before = self._order_count()
        job = self._job(csv_file(*rows))

        job.action_check()
        self.assertEqual(
            (job.order_count, job.valid_order_count, job.error_count), (100, 97, 3)
        )
        with self.assertRaisesRegex(UserError, "3 wrong value"):
            job.action_import()
        self.assertEqual(self._order_count(), before)

        report = read_workbook(base64.b64decode(job.error_report))
        errors = report["Errors"][1:]
        self.assertEqual(
            [(row, column) for row, column, _reason in errors],
            [(11, "unit_price"), (51, "delivery_date"), (91, "product_code")],
        )
        returned = report["Rows not imported"]
        self.assertEqual(returned[0][1:], HEADER.strip().split(","))
        self.assertEqual([row[0] for row in returned[1:]], [11, 51, 91])
        self.assertEqual(returned[1][1], "PO-10")
        self.assertEqual(job.error_report_name, "orders-errors.xlsx")

    def test_03_import_the_valid_orders_and_return_the_others(self):
        """In that mode the 97 good orders are created, the 3 others returned."""
        rows = order_rows(100)
        rows[9] = rows[9].replace(",12.5,", ",twelve,")
        rows[49] = rows[49].replace("2031-05-02", "2031-13-45")
        rows[89] = rows[89].replace("OM-BRACKET", "")
        job = self._job(csv_file(*rows), mode="valid")

        job.action_check()
        job.action_import()

        self.assertEqual(job.state, "done")
        self.assertEqual(len(job.order_ids), 97)
        refs = set(job.order_ids.mapped("client_order_ref"))
        self.assertFalse(refs & {"PO-10", "PO-50", "PO-90"})
        returned = read_workbook(base64.b64decode(job.error_report))
        self.assertEqual(
            [row[1] for row in returned["Rows not imported"][1:]],
            ["PO-10", "PO-50", "PO-90"],
        )

    def test_04_an_order_with_one_bad_line_is_returned_whole(self):
        """Valid-only mode never imports part of an order."""
        good, bad = order_rows(1)[0], order_rows(1, start=2)[0]
        content = csv_file(good, bad, bad.replace(",12.5,", ",-1,"))
        job = self._job(content, mode="valid")

        job.action_import()

        self.assertEqual(job.order_ids.mapped("client_order_ref"), ["PO-1"])
        returned = read_workbook(base64.b64decode(job.error_report))
        self.assertEqual([row[0] for row in returned["Rows not imported"][1:]], [3, 4])

    def test_05_formulas_are_text(self):
        """A formula is kept as text, refused where a number is due, and the
        error report writes it back as text, not as a formula."""
        header = HEADER.strip().split(",")
        first, second = (row.split(",") for row in order_rows(2))
        first[2] = '=HYPERLINK("http://example.com","Harbour Ltd")'
        second[10] = "=1+1"
        job = self._job(xlsx_file(header, first, second), name="f.xlsx", mode="valid")

        job.action_import()

        self.assertEqual(job.order_ids.partner_id.ref, "HB-1")
        self.assertEqual(job.order_ids.partner_id.name, first[2])
        self.assertEqual(job.order_ids.client_order_ref, "PO-1")
        report = openpyxl.load_workbook(io.BytesIO(base64.b64decode(job.error_report)))
        cell = report["Rows not imported"].cell(row=2, column=12)
        self.assertEqual((cell.value, cell.data_type), ("=1+1", "s"))
        self.assertIn("formula", report["Errors"].cell(row=2, column=3).value)

    def test_06_large_file_runs_in_the_background_with_progress(self):
        """Over the threshold the file waits for the scheduler, which imports
        it whole and reports its progress on the way."""
        job = self._job(csv_file(*order_rows(12)))
        reported = []
        real_report = type(job)._report_progress

        def spy(record, done, state=None):
            reported.append(done)
            return real_report(record, done, state=state)

        with (
            patch.object(order_import_job, "BACKGROUND_ORDERS", 5),
            patch.object(order_import_job, "PROGRESS_EVERY", 4),
            patch.object(order_importer, "BATCH_SIZE", 4),
        ):
            job.action_check()
            job.action_import()
            self.assertEqual(job.state, "queued")
            self.assertFalse(job.order_ids)
            cron = self.env.ref("order_management.ir_cron_order_import")
            self.assertTrue(
                self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)])
            )

            with patch.object(type(job), "_report_progress", spy):
                self.env["order.import.job"]._cron_import()

        self.assertEqual(job.state, "done")
        self.assertEqual((job.done_count, job.progress), (12, 100.0))
        self.assertEqual(len(job.order_ids), 12)
        self.assertEqual(reported, [0, 4, 8, 12])
        self.assertTrue(job.finished_at)

    def test_07_background_failure_leaves_nothing(self):
        """A file the scheduler cannot import is marked failed, with nothing
        of it left behind."""
        job = self._job(csv_file(*order_rows(6)))
        with patch.object(order_import_job, "BACKGROUND_ORDERS", 5):
            job.action_check()
            job.action_import()
        before = self._order_count()
        # The product disappears between the check and the import.
        self.product.default_code = "OM-BRACKET-OLD"
        self.env["order.import.job"]._cron_import()

        self.assertEqual(job.state, "failed")
        self.assertIn("OM-BRACKET", job.message)
        self.assertEqual(self._order_count(), before)

    def test_07b_unexpected_background_failure_ends_the_job(self):
        """Any error in a background import, not only a refusal, marks the job
        failed; otherwise it would stay "running" for good."""
        job = self._job(csv_file(*order_rows(6)))
        with patch.object(order_import_job, "BACKGROUND_ORDERS", 5):
            job.action_check()
            job.action_import()
        before = self._order_count()

        broken = ValueError("A string literal cannot contain NUL (0x00) characters.")
        with (
            patch.object(
                type(self.env["order.importer"]),
                "_prepare_order_vals",
                side_effect=broken,
            ),
            mute_logger("odoo.addons.order_management.models.order_import_job"),
        ):
            self.env["order.import.job"]._cron_import()

        self.assertEqual(job.state, "failed")
        self.assertIn("unexpectedly", job.message)
        self.assertEqual(self._order_count(), before)

    def test_08_other_files_are_refused_clearly(self):
        """An .ods file is named as not readable."""
        job = self._job(b"a;b", name="orders.ods")
        job.action_check()
        self.assertEqual(job.error_count, 1)
        with self.assertRaisesRegex(UserError, "1 wrong value"):
            job.action_import()
        errors = read_workbook(base64.b64decode(job.error_report))["Errors"]
        self.assertIn(".csv and .xlsx", errors[1][2])

    def test_09_clerks_see_their_own_imports(self):
        """Another clerk's import is not listed; the manager sees them all."""
        job = self._job(csv_file(*order_rows(1)))
        other_clerk = self.clerk.copy({"login": "om_test_clerk_2"})
        self.assertFalse(
            self.env["order.import.job"]
            .with_user(other_clerk)
            .search([("id", "=", job.id)])
        )
        self.assertTrue(
            self.env["order.import.job"]
            .with_user(self.manager)
            .search([("id", "=", job.id)])
        )

    def test_10_results_are_not_typed_in(self):
        """Over RPC a clerk can neither plant HTML in the preview, mark a job
        done nor attach orders to it; a new file asks for a new check."""
        job = self._job(csv_file(*order_rows(2)))
        job.action_check()
        for vals in (
            {"preview": "<img src=x onerror=alert(1)>"},
            {"state": "checked", "error_count": 0},
            {"order_ids": [(6, 0, self.env["sale.order"].search([], limit=2).ids)]},
        ):
            with self.subTest(vals=list(vals)), self.assertRaises(AccessError):
                job.write(vals)
        with self.assertRaises(AccessError):
            self.env["order.import.job"].with_user(self.clerk).create(
                {"name": "x.csv", "file": job.file, "state": "done"}
            )
        # Nor through defaults in the context of the call.
        planted = (
            self.env["order.import.job"]
            .with_user(self.clerk)
            .with_context(default_state="done", default_done_count=7)
            .create({"name": "x.csv", "file": job.file})
        )
        self.assertEqual((planted.state, planted.done_count), ("draft", 0))

        job.write({"file": base64.b64encode(csv_file(*order_rows(3)))})
        self.assertEqual(job.state, "draft")
        job.action_import()
        self.assertEqual(len(job.order_ids), 3)
        with self.assertRaisesRegex(UserError, "already imported"):
            job.write({"mode": "valid"})

    def test_11_valid_orders_leave_out_every_order_of_an_unknown_product(self):
        """Each row of a product the clerk may not create is named, in every
        batch, so that only the orders of known products are imported."""
        rows = order_rows(6)
        for index in (1, 4):  # file rows 3 and 6, in two batches of two orders
            rows[index] = rows[index].replace("OM-BRACKET,", "NEW-9,Clamp")
        job = self._job(csv_file(*rows), mode="valid")

        with patch.object(order_importer, "BATCH_SIZE", 2):
            job.action_check()
            self.assertEqual((job.valid_order_count, job.error_count), (4, 2))
            job.action_import()

        self.assertEqual(job.state, "done")
        self.assertEqual(
            sorted(job.order_ids.mapped("client_order_ref")),
            ["PO-1", "PO-3", "PO-4", "PO-6"],
        )
        report = read_workbook(base64.b64decode(job.error_report))
        self.assertEqual([row[0] for row in report["Errors"][1:]], [3, 6])
        self.assertEqual([row[0] for row in report["Rows not imported"][1:]], [3, 6])
