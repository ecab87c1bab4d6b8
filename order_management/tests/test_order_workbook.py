import io
import zipfile
from datetime import date, datetime

import openpyxl

from odoo.tests import BaseCase, tagged

from ..tools.order_workbook import build_workbook

RISKY = [
    "=1+1",
    '=HYPERLINK("http://example.com","click")',
    "+33 1 23 45 67 89",
    "-2+3",
    "@SUM(A1:A2)",
    "=cmd|' /C calc'!A0",
]


def table(sheet, columns, rows, title=None):
    return {"sheet": sheet, "title": title or sheet, "columns": columns, "rows": rows}


def sample(**changes):
    """A small workbook's data, as the dashboard gathers it."""
    data = {
        "title": "Order KPIs",
        "facts": [("Company", "Harbour Trading"), ("Period", "2031-03")],
        "summary": {
            "title": "Summary",
            "columns": [("Figure", "text"), ("Value", "number")],
            "rows": [
                ("Orders entered", 6, "int"),
                ("First-pass acceptance", 50.0, "pct"),
                ("Median review lead time (h)", 3.0, "hours"),
                ("Margin", 210.0, "money"),
                ("Delivered on time", None, "pct"),
            ],
        },
        "states": table(
            "Orders by State",
            [("Reached", "text"), ("Orders", "int")],
            [("Waiting for review", 1), ("Rejected", 1), ("Completed", 1)],
        ),
        "trend": table(
            "Trend",
            [
                ("Month", "month"),
                ("Orders", "int"),
                ("Median (h)", "hours"),
                ("90th percentile (h)", "hours"),
                ("Reviews on time", "pct"),
                ("Shipped on time", "pct"),
                ("Delivered on time", "pct"),
            ],
            [
                (date(2031, 2, 1), 0, None, None, None, None, None),
                (date(2031, 3, 1), 6, 3.0, 36.5, 400 / 6, 200 / 3, 50.0),
            ],
        ),
        "reasons": table(
            "Rejection Reasons",
            [("Code", "text"), ("Reason", "text"), ("Rejections", "int")],
            [("PRICE", "Wrong price", 2), ("QTY", "Wrong quantity", 1)],
        ),
        "tables": [
            table(
                "Orders",
                [("Order", "text"), ("Customer", "text"), ("Entered", "datetime")],
                [
                    (f"S{number:05d}", text, datetime(2031, 3, 3, 9, 0))
                    for number, text in enumerate(RISKY, start=1)
                ],
            )
        ],
        "charts": {
            "states": "Orders by state",
            "lead_time": "Review lead time",
            "reasons": "Rejection reasons",
            "on_time": "On time",
        },
    }
    data.update(changes)
    return data


def load(content):
    return openpyxl.load_workbook(io.BytesIO(content))


@tagged("post_install", "-at_install")
class TestOrderWorkbook(BaseCase):
    def test_01_sheets_and_values(self):
        """Every table gets its sheet; values keep their type and format."""
        book = load(build_workbook(sample()))

        self.assertEqual(
            book.sheetnames,
            ["Summary", "Orders by State", "Trend", "Rejection Reasons", "Orders"],
        )
        summary = book["Summary"]
        self.assertEqual(summary["A1"].value, "Order KPIs")
        self.assertEqual(summary["B3"].value, "Harbour Trading")
        figures = {row[0].value: row[1] for row in summary.iter_rows(min_row=7)}
        self.assertEqual(figures["Orders entered"].value, 6)
        # Percentages are fractions shown as percentages.
        self.assertEqual(figures["First-pass acceptance"].value, 0.5)
        self.assertEqual(figures["First-pass acceptance"].number_format, "0.0%")
        self.assertEqual(figures["Margin"].number_format, "#,##0.00")
        self.assertIsNone(figures["Delivered on time"].value)

        trend = book["Trend"]
        self.assertEqual(trend["A3"].value, "Month")
        self.assertEqual(trend["A5"].value, datetime(2031, 3, 1))
        self.assertEqual(trend["A5"].number_format, "yyyy-mm")
        self.assertAlmostEqual(trend["E5"].value, 2 / 3)
        self.assertIsNone(trend["C4"].value)
        self.assertEqual(book["Orders"]["C4"].value, datetime(2031, 3, 3, 9, 0))

    def test_02_native_charts(self):
        """The summary holds four native charts drawn from the data sheets."""
        charts = load(build_workbook(sample()))["Summary"]._charts

        self.assertEqual(
            [(chart.tagname, getattr(chart, "barDir", None)) for chart in charts],
            [
                ("barChart", "col"),
                ("lineChart", None),
                ("barChart", "bar"),
                ("lineChart", None),
            ],
        )
        states, lead_time, reasons, on_time = (
            [((s.cat.strRef or s.cat.numRef).f, s.val.numRef.f) for s in chart.series]
            for chart in charts
        )
        self.assertEqual(
            states, [("'Orders by State'!$A$4:$A$6", "'Orders by State'!$B$4:$B$6")]
        )
        self.assertEqual(
            [values for _categories, values in lead_time],
            ["Trend!$C$4:$C$5", "Trend!$D$4:$D$5"],
        )
        self.assertEqual(
            reasons,
            [("'Rejection Reasons'!$B$4:$B$5", "'Rejection Reasons'!$C$4:$C$5")],
        )
        self.assertEqual(
            [values for _categories, values in on_time],
            ["Trend!$E$4:$E$5", "Trend!$F$4:$F$5", "Trend!$G$4:$G$5"],
        )
        # Each series is named after the heading above its values.
        self.assertEqual(
            charts[1].series[1].tx.strRef.f, "Trend!$D$3", "90th percentile"
        )

    def test_03_formula_injection(self):
        """Text that starts with = + - or @ is written as text, never a formula."""
        content = build_workbook(sample())
        customers = [row[1] for row in load(content)["Orders"].iter_rows(min_row=4)]

        self.assertEqual([cell.value for cell in customers], RISKY)
        self.assertEqual({cell.data_type for cell in customers}, {"s"})
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            sheets = [
                archive.read(name).decode()
                for name in archive.namelist()
                if name.startswith("xl/worksheets/sheet")
            ]
        self.assertFalse([sheet for sheet in sheets if "<f>" in sheet])

    def test_04_constant_memory(self):
        """Cells are streamed: constant-memory mode writes strings inline."""
        with zipfile.ZipFile(io.BytesIO(build_workbook(sample()))) as archive:
            orders = archive.read("xl/worksheets/sheet5.xml").decode()
            names = archive.namelist()
        self.assertIn('t="inlineStr"', orders)
        self.assertNotIn("xl/sharedStrings.xml", names)

    def test_05_empty_period(self):
        """A period without data still makes a workbook, without empty charts."""
        data = sample()
        for key in ("states", "trend", "reasons"):
            data[key] = dict(data[key], rows=[])
        book = load(build_workbook(data))
        self.assertEqual(book["Summary"]._charts, [])
        self.assertIsNone(book["Trend"]["A4"].value)

    def test_06_sheet_names(self):
        """Sheet names lose the characters Excel refuses and stay unique."""
        data = sample(
            tables=[
                table("Clerks: March/April [2031]", [("A", "text")], [("x",)]),
                table("Clerks: March/April [2031]", [("A", "text")], [("y",)]),
                table("A" * 40, [("A", "text")], []),
            ]
        )
        names = load(build_workbook(data)).sheetnames
        self.assertEqual(
            names[4:],
            ["Clerks  March April  2031", "Clerks  March April  2031 (2)", "A" * 31],
        )
