"""Build the management workbook of the order KPIs: plain rows in, XLSX bytes out.

Nothing here touches a database: the caller gathers the figures (and
translates every heading), :func:`build_workbook` lays them out. The
workbook is written in xlsxwriter's constant-memory mode, row after row, so
that a month of detailed orders does not sit in memory as cells.

Every text goes into its cell through ``write_string``: a customer reference
or a name that starts with ``=``, ``+``, ``-`` or ``@`` stays the text it is
and is never run by the spreadsheet as a formula.

The data is a dict::

    {
        "title": str,
        "facts": [(label, text)],           # company, period, when made
        "summary": {"title", "columns": [(heading, kind)],
                    "rows": [(label, value, kind)]},
        "states": TABLE,    # (progress label, order count)
        "trend": TABLE,     # (month, orders, median h, p90 h, reviews on time
                            #  %, shipped on time %, delivered on time %)
        "reasons": TABLE,   # (code, reason, rejections)
        "tables": [TABLE],  # further sheets, as they are (clerks, orders...)
        "charts": {"states", "lead_time", "reasons", "on_time": chart title},
    }

where a TABLE is ``{"sheet": name, "title": str, "columns": [(heading,
kind)], "rows": [tuple]}`` and a kind says how a value is shown: ``text``,
``int``, ``number``, ``hours``, ``pct`` (0 to 100), ``money``, ``date``,
``datetime`` or ``month``.
"""

import io
import re
from datetime import date, datetime
from decimal import Decimal

import xlsxwriter

# Characters a sheet name may not hold, and its longest length.
SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
SHEET_NAME_SIZE = 31

NUMBER_FORMATS = {
    "int": "#,##0",
    "number": "#,##0.00",
    "hours": "0.0",
    "pct": "0.0%",
    "money": "#,##0.00",
    "date": "yyyy-mm-dd",
    "datetime": "yyyy-mm-dd hh:mm",
    "month": "yyyy-mm",
}

COLUMN_WIDTHS = {"text": 24, "datetime": 17, "date": 12, "month": 10}
DEFAULT_WIDTH = 14

# Trend columns: the lead times, then the on-time rates.
TREND_LEAD_TIME_COLUMNS = (2, 3)
TREND_ON_TIME_COLUMNS = (4, 5, 6)


def build_workbook(data):
    """Return the XLSX file of ``data`` (see the module's docstring) as bytes."""
    output = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        output,
        {
            "constant_memory": True,
            # Belt and braces: text is written with write_string anyway.
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "nan_inf_to_errors": True,
        },
    )
    writer = _Writer(workbook)
    summary = workbook.add_worksheet(writer.sheet_name(data["summary"]["title"]))
    sheets = {
        key: writer.table_sheet(data[key]) for key in ("states", "trend", "reasons")
    }
    for table in data.get("tables", []):
        writer.table_sheet(table)
    writer.summary_sheet(summary, data)
    writer.charts(summary, data, sheets)
    workbook.close()
    return output.getvalue()


class _Writer:
    """Formats and cell writing of one workbook."""

    def __init__(self, workbook):
        self.workbook = workbook
        self.used_names = set()
        self.title = workbook.add_format({"bold": True, "font_size": 14})
        self.heading = workbook.add_format(
            {"bold": True, "bg_color": "#DDE4EE", "border": 1, "text_wrap": True}
        )
        self.label = workbook.add_format({"bold": True})
        self.formats = {
            kind: workbook.add_format({"num_format": pattern})
            for kind, pattern in NUMBER_FORMATS.items()
        }
        self.formats["text"] = None

    # ---------------------------------------------------------- sheets --

    def sheet_name(self, name):
        """Return ``name`` made valid and unique as a sheet name."""
        base = SHEET_NAME_FORBIDDEN.sub(" ", name or "Sheet").strip("' ")[
            :SHEET_NAME_SIZE
        ]
        base = base or "Sheet"
        candidate, number = base, 1
        while candidate.lower() in self.used_names:
            number += 1
            suffix = f" ({number})"
            candidate = base[: SHEET_NAME_SIZE - len(suffix)] + suffix
        self.used_names.add(candidate.lower())
        return candidate

    def table_sheet(self, table):
        """Write a table on a sheet of its own: title, headings, rows."""
        sheet = self.workbook.add_worksheet(self.sheet_name(table["sheet"]))
        kinds = [kind for _heading, kind in table["columns"]]
        for column, kind in enumerate(kinds):
            sheet.set_column(column, column, COLUMN_WIDTHS.get(kind, DEFAULT_WIDTH))
        sheet.write_string(0, 0, table["title"], self.title)
        for column, (heading, _kind) in enumerate(table["columns"]):
            sheet.write_string(2, column, heading, self.heading)
        for number, row in enumerate(table["rows"]):
            for column, (value, kind) in enumerate(zip(row, kinds, strict=True)):
                self.write(sheet, 3 + number, column, value, kind)
        if table["rows"]:
            sheet.freeze_panes(3, 0)
            sheet.autofilter(2, 0, 2 + len(table["rows"]), len(kinds) - 1)
        return {"sheet": sheet, "first_row": 3, "count": len(table["rows"])}

    def summary_sheet(self, sheet, data):
        sheet.set_column(0, 0, 36)
        sheet.set_column(1, 1, 24)
        sheet.write_string(0, 0, data["title"], self.title)
        row = 2
        for label, text in data["facts"]:
            sheet.write_string(row, 0, label, self.label)
            self.write(sheet, row, 1, text, "text")
            row += 1
        row += 1
        summary = data["summary"]
        for column, (heading, _kind) in enumerate(summary["columns"]):
            sheet.write_string(row, column, heading, self.heading)
        for label, value, kind in summary["rows"]:
            row += 1
            self.write(sheet, row, 0, label, "text")
            self.write(sheet, row, 1, value, kind)
        self.charts_row = row + 2

    # ---------------------------------------------------------- charts --

    def charts(self, summary, data, sheets):
        """Put the four charts on the summary sheet, two per row.

        A chart whose table is empty is left out: Excel refuses empty ranges.
        """
        titles = data["charts"]
        states, trend, reasons = sheets["states"], sheets["trend"], sheets["reasons"]
        charts = []
        if states["count"]:
            chart = self.workbook.add_chart({"type": "column"})
            self._series(chart, states, 0, 1)
            charts.append((chart, titles["states"], None))
        if trend["count"]:
            chart = self.workbook.add_chart({"type": "line"})
            for column in TREND_LEAD_TIME_COLUMNS:
                self._series(chart, trend, 0, column, marker=True)
            charts.append((chart, titles["lead_time"], "0"))
        if reasons["count"]:
            chart = self.workbook.add_chart({"type": "bar"})
            self._series(chart, reasons, 1, 2)
            charts.append((chart, titles["reasons"], None))
        if trend["count"]:
            chart = self.workbook.add_chart({"type": "line"})
            for column in TREND_ON_TIME_COLUMNS:
                self._series(chart, trend, 0, column, marker=True)
            chart.set_y_axis({"min": 0, "max": 1, "num_format": "0%"})
            charts.append((chart, titles["on_time"], "0%"))
        for index, (chart, title, axis_format) in enumerate(charts):
            chart.set_title({"name": title})
            if axis_format == "0":
                chart.set_y_axis({"num_format": "0", "min": 0})
            if len(chart.series) == 1:
                chart.set_legend({"none": True})
            chart.set_size({"width": 600, "height": 300})
            summary.insert_chart(
                self.charts_row + 16 * (index // 2), 4 * (index % 2), chart
            )

    def _series(self, chart, table, category_column, value_column, marker=False):
        sheet_name = table["sheet"].name
        first, last = table["first_row"], table["first_row"] + table["count"] - 1
        series = {
            # The heading above the values names the series.
            "name": [sheet_name, first - 1, value_column],
            "categories": [sheet_name, first, category_column, last, category_column],
            "values": [sheet_name, first, value_column, last, value_column],
        }
        if marker:
            series["marker"] = {"type": "circle"}
        chart.add_series(series)

    # ----------------------------------------------------------- cells --

    def write(self, sheet, row, column, value, kind):
        """Write one value; text always as text, never as a formula."""
        cell_format = self.formats.get(kind)
        if value is None or value is False:
            sheet.write_blank(row, column, None, cell_format)
        elif isinstance(value, bool):
            sheet.write_boolean(row, column, value, cell_format)
        elif kind == "pct" and isinstance(value, int | float | Decimal):
            sheet.write_number(row, column, float(value) / 100.0, cell_format)
        elif isinstance(value, int | float | Decimal):
            sheet.write_number(row, column, float(value), cell_format)
        elif isinstance(value, datetime):
            sheet.write_datetime(row, column, value, cell_format)
        elif isinstance(value, date):
            sheet.write_datetime(
                row, column, datetime(value.year, value.month, value.day), cell_format
            )
        else:
            # write_string whatever the text: one starting with = + - or @
            # (a formula or a DDE call to a spreadsheet) stays data.
            sheet.write_string(row, column, str(value), cell_format)
