"""Read order files into plain order dictionaries, checking every row.

Two sources are understood:

- the TPC-H tables written by ``tpchgen-cli`` (pipe-separated ``.tbl`` files);
- a CSV or XLSX file with one row per order line (see ``COLUMNS``).

Nothing here touches a database. Each reader returns ``(orders, errors)``: the
orders it could read and a list of :class:`RowError`, one per wrong value, so
that the caller can refuse the whole file and say everything that is wrong.

An order is a dict::

    {
        "ref": "PO-1",                  # becomes the customer reference
        "customer": {"ref", "name", "street", "city", "zip", "phone",
                     "country_code"},
        "delivery": {"street", "city", "zip", "country_code"} or None,
        "date_order": date or None,
        "delivery_date": date or None,  # the latest date of its lines
        "note": str,
        "special_type": str or None,    # code of an order.special.type
        "special_note": str,
        "lines": [{"product": {"code", "name", "list_price"}, "quantity",
                   "price_unit", "discount", "delivery_date", "source"}],
        "source": (file name, row number),
    }

Files are read as streams: rows are turned into orders one at a time, and the
TPC-H lineitem table is left as soon as the wanted orders are complete.

CSV and XLSX files come from spreadsheets of any locale: a CSV file may be
UTF-8, GB18030 or Windows-1252 (see :func:`detect_encoding`), separated by
commas, semicolons, tabs or bars (see :func:`detect_separator`), with Chinese
column names (``CHINESE_COLUMNS``), decimal commas and dates in the usual
national formats. Formulas are never evaluated.
"""

import codecs
import contextlib
import csv
import io
import os
import re
import subprocess
import sys
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

# TPC-H nations and their ISO 3166 codes.
TPCH_NATIONS = {
    "ALGERIA": "DZ",
    "ARGENTINA": "AR",
    "BRAZIL": "BR",
    "CANADA": "CA",
    "EGYPT": "EG",
    "ETHIOPIA": "ET",
    "FRANCE": "FR",
    "GERMANY": "DE",
    "INDIA": "IN",
    "INDONESIA": "ID",
    "IRAN": "IR",
    "IRAQ": "IQ",
    "JAPAN": "JP",
    "JORDAN": "JO",
    "KENYA": "KE",
    "MOROCCO": "MA",
    "MOZAMBIQUE": "MZ",
    "PERU": "PE",
    "CHINA": "CN",
    "ROMANIA": "RO",
    "SAUDI ARABIA": "SA",
    "VIETNAM": "VN",
    "RUSSIA": "RU",
    "UNITED KINGDOM": "GB",
    "UNITED STATES": "US",
}

TPCH_COLUMNS = {
    "orders": [
        "o_orderkey",
        "o_custkey",
        "o_orderstatus",
        "o_totalprice",
        "o_orderdate",
        "o_orderpriority",
        "o_clerk",
        "o_shippriority",
        "o_comment",
    ],
    "lineitem": [
        "l_orderkey",
        "l_partkey",
        "l_suppkey",
        "l_linenumber",
        "l_quantity",
        "l_extendedprice",
        "l_discount",
        "l_tax",
        "l_returnflag",
        "l_linestatus",
        "l_shipdate",
        "l_commitdate",
        "l_receiptdate",
        "l_shipinstruct",
        "l_shipmode",
        "l_comment",
    ],
    "customer": [
        "c_custkey",
        "c_name",
        "c_address",
        "c_nationkey",
        "c_phone",
        "c_acctbal",
        "c_mktsegment",
        "c_comment",
    ],
    "part": [
        "p_partkey",
        "p_name",
        "p_mfgr",
        "p_brand",
        "p_type",
        "p_size",
        "p_container",
        "p_retailprice",
        "p_comment",
    ],
    "nation": ["n_nationkey", "n_name", "n_regionkey", "n_comment"],
}

# Quantities and prices from a file must stay below this: larger ones are
# typing errors, and they overflow Odoo's floats and monetary columns.
LARGEST_NUMBER = Decimal("1e12")

# TPC-H orders of this priority are imported as rush special orders.
TPCH_RUSH_PRIORITY = "1-URGENT"

# Rebased TPC-H orders are spread over this many days up to the given date.
REBASE_SPREAD_DAYS = 30

# Columns of the CSV/XLSX layout: name -> required.
COLUMNS = {
    "order_ref": True,
    "customer_ref": True,
    "customer_name": True,
    "delivery_street": False,
    "delivery_city": False,
    "delivery_zip": False,
    "delivery_country": False,
    "delivery_date": True,
    "product_code": True,
    "product_name": False,
    "quantity": True,
    "unit_price": True,
    "discount": False,
    "note": False,
    "special_type": False,
    "special_note": False,
}

# Column names that Chinese order files use, for the columns of ``COLUMNS``.
CHINESE_COLUMNS = {
    "订单号": "order_ref",
    "订单编号": "order_ref",
    "订单号码": "order_ref",
    "客户编号": "customer_ref",
    "客户代码": "customer_ref",
    "客户名称": "customer_name",
    "收货地址": "delivery_street",
    "送货地址": "delivery_street",
    "城市": "delivery_city",
    "邮编": "delivery_zip",
    "邮政编码": "delivery_zip",
    "国家": "delivery_country",
    "国家代码": "delivery_country",
    "交货日期": "delivery_date",
    "交付日期": "delivery_date",
    "产品编码": "product_code",
    "产品代码": "product_code",
    "产品名称": "product_name",
    "数量": "quantity",
    "单价": "unit_price",
    "折扣": "discount",
    "备注": "note",
    "特殊订单类型": "special_type",
    "特殊说明": "special_note",
}

# Separators of a CSV file; on a tie in its header line, the first one wins.
SEPARATORS = (",", ";", "\t", "|")

# First bytes of GB2312's first level of ideographs, the most common ones.
GB2312_FIRST_LEVEL = (0xB0, 0xD7)

# Encodings a person may choose for a CSV file when detection guesses wrong.
ENCODINGS = [
    ("utf-8", "UTF-8"),
    ("gb18030", "GB18030 / GBK"),
    ("cp1252", "Windows-1252 / Latin-1"),
]

# Spaces besides the plain one that locales put between groups of thousands:
# no-break, narrow no-break and thin.
THOUSANDS_SPACES = re.compile("[\u00a0\u202f\u2009]")

# Dates as people write them, besides ISO 8601.
YEAR_FIRST_DATE = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})")
DOTTED_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
CHINESE_DATE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
SLASHED_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


class RowError(NamedTuple):
    """One wrong value: where it is and why it is refused."""

    filename: str
    row: int
    field: str
    reason: str


class _Refused(Exception):
    """A value that cannot be read; the message is the reason, naming it."""


class _RowReader:
    """Convert the values of one row, remembering every refusal."""

    def __init__(self, filename, row, values, errors):
        self.filename = filename
        self.row = row
        self.values = values
        self.errors = errors

    def refuse(self, field, reason):
        self.errors.append(RowError(self.filename, self.row, field, reason))

    def text(self, field, required=False):
        value = self.values.get(field)
        value = "" if value is None else str(value).strip()
        if "\x00" in value:
            # PostgreSQL cannot store it: refused here, named, not at writing.
            self.refuse(field, "the value holds a NUL character")
            return ""
        if required and not value:
            self.refuse(field, "a value is required")
        return value

    def number(self, field, required=True, minimum=None, maximum=None, positive=False):
        raw = self.text(field, required=required)
        if not raw:
            return None
        try:
            value = _decimal(raw)
        except _Refused as refusal:
            self.refuse(field, str(refusal))
            return None
        if abs(value) >= LARGEST_NUMBER:
            self.refuse(field, f"{raw} is too large")
            return None
        if positive and value <= 0:
            self.refuse(field, f"{raw} must be greater than zero")
        elif minimum is not None and value < minimum:
            self.refuse(field, f"{raw} is below {minimum}")
        elif maximum is not None and value > maximum:
            self.refuse(field, f"{raw} is above {maximum}")
        return value

    def integer(self, field):
        raw = self.text(field, required=True)
        if raw and not raw.isdigit():
            self.refuse(field, f"'{raw}' is not a whole number")
            return None
        return int(raw) if raw else None

    def date(self, field, required=True):
        raw = self.values.get(field)
        if isinstance(raw, date):
            return raw if type(raw) is date else raw.date()
        raw = self.text(field, required=required)
        if not raw:
            return None
        try:
            return _date(raw)
        except _Refused as refusal:
            self.refuse(field, str(refusal))
            return None


def _decimal(raw):
    """Read a number written with a decimal point or a decimal comma.

    ``12.5`` and ``1e3`` read as Python reads them. Spreadsheets of other
    locales write ``12,5``, ``1.234,50``, ``1,234.50`` or ``1 234,5``: those
    are read by :func:`_grouped_decimal`. A formula is refused, not computed.

    :raise _Refused: naming the value
    """
    if raw.startswith("="):
        raise _Refused(f"'{raw}' is a formula, not a number")
    # TPC-H files hold millions of numbers: ASCII ones skip the substitution.
    text = raw if raw.isascii() else THOUSANDS_SPACES.sub(" ", raw)
    if "," in text or " " in text:
        value = _grouped_decimal(raw, text)
    else:
        try:
            value = Decimal(text)
        except InvalidOperation:
            value = None
    if value is None or not value.is_finite():
        raise _Refused(f"'{raw}' is not a number")
    return value


def _grouped_decimal(raw, text):
    """Read a number with a decimal comma or with separated thousands.

    The later of a comma and a dot is the decimal mark, the other one groups
    thousands; so do spaces and several commas. Groups must hold three digits,
    so that a misplaced separator (``1,2,3``) is refused rather than dropped.
    A single comma before three digits (``1,234``) means 1234 in some
    countries and 1.234 in others: it is refused rather than guessed.

    :param str text: ``raw`` with every kind of space made a plain one
    :return: the Decimal, or None when it is not a number
    :raise _Refused: when it is ambiguous
    """
    sign = text[0] if text[0] in "+-" else ""
    body = text[len(sign) :]
    point, group = _number_marks(body)
    whole, _point, fraction = body.rpartition(point) if point else (body, "", "")
    groups = whole.split(group) if group else [whole]
    if point and not re.fullmatch(r"[0-9]+", fraction):
        return None
    if len(groups) > 1 and not (
        re.fullmatch(r"[1-9][0-9]{0,2}", groups[0])
        and all(re.fullmatch(r"[0-9]{3}", digits) for digits in groups[1:])
    ):
        return None
    if len(groups) == 1 and not re.fullmatch(r"[0-9]*", whole):
        return None
    if point == "," and not group and re.fullmatch(r"[1-9][0-9]{0,2}", whole):
        if len(fraction) == 3:
            raise _Refused(
                f"'{raw}' is ambiguous: write {whole}{fraction} or "
                f"{whole}.{fraction}, without a thousands separator"
            )
    return Decimal(f"{sign}{''.join(groups) or '0'}.{fraction or '0'}")


def _number_marks(body):
    """Return (decimal mark, thousands separator) of a number, each or None."""
    commas, dots = body.count(","), body.count(".")
    if commas and dots:
        point = "," if body.rindex(",") > body.rindex(".") else "."
        group = "." if point == "," else ","
    elif commas > 1:
        point, group = None, ","
    elif commas or dots:
        point, group = ("," if commas else "."), None
    else:
        point, group = None, None
    if " " in body:
        # Spaces and another thousands separator in one number: no reading.
        group = " " if group is None else "(mixed)"
    return point, group


def _date(raw):
    """Read a date in the formats that order files use.

    ISO 8601 (``2031-05-02``, with a time as spreadsheets write it),
    ``2031/05/02``, ``2031.05.02``, ``02.05.2031`` (day first, as in Europe),
    ``2031年5月2日``. ``05/02/2031`` is the 5th of February in Europe and
    May 2nd in the US: it is read only when one of the numbers is above 12,
    or both are the same. A formula is refused, not computed.

    :raise _Refused: naming the value
    """
    if raw.startswith("="):
        raise _Refused(f"'{raw}' is a formula, not a date")
    with contextlib.suppress(ValueError):
        return datetime.fromisoformat(raw).date()
    if match := YEAR_FIRST_DATE.fullmatch(raw):
        year, month, day = match[1], match[3], match[4]
    elif match := DOTTED_DATE.fullmatch(raw):
        day, month, year = match.groups()
    elif match := CHINESE_DATE.fullmatch(raw):
        year, month, day = match.groups()
    elif match := SLASHED_DATE.fullmatch(raw):
        day, month, year = _day_and_month(raw, match)
    else:
        raise _Refused(f"'{raw}' is not a date (YYYY-MM-DD)")
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise _Refused(f"'{raw}' is not a date (YYYY-MM-DD)") from None


def _day_and_month(raw, match):
    """Return (day, month, year) of a slashed date with the year last.

    :raise _Refused: when either number could be the day
    """
    first, second, year = match.groups()
    if int(first) > 12 or int(first) == int(second):
        return first, second, year
    if int(second) > 12:
        return second, first, year
    raise _Refused(
        f"'{raw}' is ambiguous: day/month/year or month/day/year? "
        "Write the date as YYYY-MM-DD"
    )


# ------------------------------------------------------------------ TPC-H --


def _table_rows(directory, table, errors):
    """Yield a _RowReader for each well-formed line of a TPC-H table.

    The file is read line by line; a line with the wrong number of fields is
    refused as a whole and skipped.
    """
    filename = f"{table}.tbl"
    columns = TPCH_COLUMNS[table]
    with open(os.path.join(directory, filename), encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            fields = line.rstrip("\r\n").split("|")
            # Every line ends with a separator, hence an empty last field.
            if len(fields) > 1 and fields[-1] == "":
                fields.pop()
            if len(fields) != len(columns):
                reason = f"{len(fields)} fields where {len(columns)} are expected"
                errors.append(RowError(filename, number, "(row)", reason))
                continue
            values = dict(zip(columns, fields, strict=True))
            yield _RowReader(filename, number, values, errors)


def generate_tpch(directory, scale=0.001):
    """Write the TPC-H tables this reader needs into ``directory``.

    Runs the ``tpchgen-cli`` installed beside the running Python (a pinned
    requirement). Scale 0.001 holds 1,500 orders.
    """
    binary = os.path.join(os.path.dirname(sys.executable), "tpchgen-cli")
    command = [binary, "-s", f"{scale:g}", "-o", str(directory), "--overwrite"]
    for table in TPCH_COLUMNS:
        command += ["-T", table]
    subprocess.run(command, check=True, capture_output=True)


def read_tpch(directory, limit=None, rebase_to=None):
    """Read the first ``limit`` TPC-H orders of ``directory``.

    Delivery date of an order: the latest commit date of its lines. Unit
    price: extended price / quantity. Discount: l_discount as a percentage.
    The order comment and the ship modes of its lines make the note.

    :param str directory: holds orders.tbl, lineitem.tbl, customer.tbl,
        part.tbl and nation.tbl
    :param int limit: how many orders, by ascending key (all when None)
    :param date rebase_to: when given, the order dates are moved into the
        30 days up to this date, the newest order landing on it; each order's
        delivery dates move with its order date (same shift)
    :return: (orders, errors)
    """
    errors = [
        RowError(f"{table}.tbl", 0, "(file)", "the file is missing")
        for table in TPCH_COLUMNS
        if not os.path.isfile(os.path.join(directory, f"{table}.tbl"))
    ]
    if errors:
        return [], errors

    orders = _tpch_orders(directory, limit, errors)
    _tpch_lines(directory, orders, errors)
    customers = _tpch_customers(directory, orders, errors)
    parts = _tpch_parts(directory, orders, errors)

    result = _tpch_assemble(orders, customers, parts, errors)
    if rebase_to and result and not errors:
        _rebase_dates(result, rebase_to)
    return result, errors


def _tpch_orders(directory, limit, errors):
    """Return {order key: order} for the first ``limit`` orders, in key order."""
    orders = {}
    for row in _table_rows(directory, "orders", errors):
        if limit is not None and len(orders) >= limit:
            break
        key = row.integer("o_orderkey")
        customer_key = row.integer("o_custkey")
        date_order = row.date("o_orderdate")
        if key is None:
            continue
        orders[key] = {
            "ref": f"TPCH-{key}",
            "customer_key": customer_key,
            "date_order": date_order,
            "priority": row.text("o_orderpriority"),
            "note": row.text("o_comment"),
            "lines": [],
            "source": (row.filename, row.row),
        }
    return orders


def _tpch_lines(directory, orders, errors):
    """Attach its lines to each order; lineitem.tbl is sorted by order key."""
    last_key = max(orders, default=0)
    for row in _table_rows(directory, "lineitem", errors):
        order_key = row.integer("l_orderkey")
        if order_key is not None and order_key > last_key:
            break
        if order_key not in orders:
            continue

        part_key = row.integer("l_partkey")
        quantity = row.number("l_quantity", positive=True)
        extended = row.number("l_extendedprice", minimum=0)
        discount = row.number("l_discount", minimum=0, maximum=1)
        commit_date = row.date("l_commitdate")
        if None in (part_key, quantity, extended, discount) or quantity <= 0:
            continue

        orders[order_key]["lines"].append(
            {
                "product_key": part_key,
                "quantity": float(quantity),
                "price_unit": float((extended / quantity).quantize(Decimal("0.01"))),
                "discount": float(discount * 100),
                "delivery_date": commit_date,
                "ship_mode": row.text("l_shipmode"),
                "source": (row.filename, row.row),
            }
        )


def _tpch_customers(directory, orders, errors):
    """Return {customer key: customer} for the customers the orders name."""
    nations = {}
    for row in _table_rows(directory, "nation", errors):
        name = row.text("n_name", required=True)
        if name and name not in TPCH_NATIONS:
            row.refuse("n_name", f"'{name}' is not a TPC-H nation")
        nations[row.integer("n_nationkey")] = TPCH_NATIONS.get(name)

    wanted = {order["customer_key"] for order in orders.values()}
    customers = {}
    for row in _table_rows(directory, "customer", errors):
        key = row.integer("c_custkey")
        if key not in wanted:
            continue
        nation_key = row.integer("c_nationkey")
        if nation_key is not None and nation_key not in nations:
            row.refuse("c_nationkey", f"no nation {nation_key} in nation.tbl")
        customers[key] = {
            "ref": f"TPCH-C{key:09d}",
            "name": row.text("c_name", required=True),
            "street": row.text("c_address"),
            "city": "",
            "zip": "",
            "phone": row.text("c_phone"),
            "country_code": nations.get(nation_key),
        }
    return customers


def _tpch_parts(directory, orders, errors):
    """Return {part key: product} for the parts the order lines name."""
    wanted = {
        line["product_key"] for order in orders.values() for line in order["lines"]
    }
    parts = {}
    for row in _table_rows(directory, "part", errors):
        key = row.integer("p_partkey")
        if key not in wanted:
            continue
        parts[key] = {
            "code": f"TPCH-P{key}",
            "name": row.text("p_name", required=True),
            "list_price": float(row.number("p_retailprice", minimum=0) or 0),
        }
    return parts


def _tpch_assemble(orders, customers, parts, errors):
    """Resolve every reference of the orders; name each one that fails."""
    result = []
    for order in orders.values():
        filename, number = order["source"]
        customer_key = order.pop("customer_key")
        if customer_key is None:
            continue  # already refused as not a number
        customer = customers.get(customer_key)
        if customer is None:
            reason = "no such customer in customer.tbl"
            errors.append(RowError(filename, number, "o_custkey", reason))
            continue
        if not order["lines"]:
            reason = "the order has no valid line in lineitem.tbl"
            errors.append(RowError(filename, number, "o_orderkey", reason))
            continue

        for line in order["lines"]:
            line["product"] = parts.get(line.pop("product_key"))
            if line["product"] is None:
                line_file, line_number = line["source"]
                reason = "no such part in part.tbl"
                errors.append(RowError(line_file, line_number, "l_partkey", reason))

        dates = [line["delivery_date"] for line in order["lines"]]
        modes = dict.fromkeys(line["ship_mode"] for line in order["lines"])
        ship_modes = ", ".join(mode for mode in modes if mode)
        # TPC-H's most urgent priority is what a clerk would enter as a rush.
        urgent = order["priority"] == TPCH_RUSH_PRIORITY
        order.update(
            customer=customer,
            delivery=None,
            special_type="rush" if urgent else None,
            special_note=f"TPC-H order priority {order['priority']}" if urgent else "",
            delivery_date=max(filter(None, dates), default=None),
            note="\n".join(
                text
                for text in (order["note"], ship_modes and f"Ship mode: {ship_modes}")
                if text
            ),
        )
        result.append(order)
    return result


def _rebase_dates(orders, rebase_to, spread_days=REBASE_SPREAD_DAYS):
    """Move the orders' dates into the ``spread_days`` days up to ``rebase_to``.

    TPC-H order dates span seven years of the 1990s. Shifting them all by one
    delta would leave most deliveries years in the past, so they are squeezed,
    in their original order, into the last few weeks, the newest order landing
    on ``rebase_to``. An order's delivery dates are shifted by the same delta
    as its order date, so each keeps its lead time.
    """
    order_dates = [order["date_order"] for order in orders if order["date_order"]]
    if not order_dates:
        return
    oldest, newest = min(order_dates), max(order_dates)
    span = max((newest - oldest).days, 1)
    for order in orders:
        original = order["date_order"]
        if not original:
            continue
        age = round((newest - original).days * spread_days / span)
        shift = rebase_to - timedelta(days=age) - original
        order["date_order"] = original + shift
        if order["delivery_date"]:
            order["delivery_date"] += shift
        for line in order["lines"]:
            if line["delivery_date"]:
                line["delivery_date"] += shift


# -------------------------------------------------------------- CSV, XLSX --


def read_order_file(filename, content, encoding=None, partial=False):
    """Read a CSV or XLSX file given as bytes, one row per order line.

    Rows sharing an ``order_ref`` make one order; they must agree on its
    customer, delivery address and delivery date. The first row of an order
    that names a customer, address or date gives them.

    Every order of the file is held at once: for files of any size, read them
    with :func:`order_batches`.

    :param str filename: its name; the extension (.csv or .xlsx) tells the format
    :param bytes content: the file itself
    :param str encoding: the codec of a CSV file, when the user knows it better
        than :func:`detect_encoding`; a file it cannot read is refused
    :param bool partial: return the orders read even when some rows are
        wrong, for a caller that imports only the orders no error names
    :return: (orders, errors)
    """
    errors = []
    rows = _file_rows(filename, content, encoding, errors)
    orders = list(_orders_from_rows(filename, rows, errors))
    errors.sort(key=lambda error: error.row)
    return (orders if partial or not errors else []), errors


def order_batches(filename, content, size, errors, encoding=None, skip=()):
    """Yield the orders of a CSV or XLSX file as lists of ``size`` at most.

    The rows are read twice: first for the last row of each order, then into
    orders, in the order of their first rows, each handed over once its last
    row and those of the orders begun before it are read. Only a batch of
    orders is held at a time, and a row number per order, however large the
    file; orders whose rows are spread over the file are held meanwhile.

    :param list errors: gets the wrong values found, as :func:`read_order_file`
        returns them, though not sorted; a batch comes after the errors of its
        orders' rows
    :param str encoding: as for :func:`read_order_file`
    :param skip: references of orders to leave out
    """
    ends = {}
    for number, values in _file_rows(filename, content, encoding, []):
        ref = _text(values.get("order_ref")).strip()
        if ref:
            ends[ref] = number

    batch = []
    rows = _file_rows(filename, content, encoding, errors)
    for order in _orders_from_rows(filename, rows, errors, ends):
        if order["ref"] in skip:
            continue
        batch.append(order)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _file_rows(filename, content, encoding, errors):
    """Yield (row number, values) of a CSV or XLSX file; refuse other files."""
    extension = os.path.splitext(filename)[1].lower()
    if not content:
        errors.append(RowError(filename, 0, "(file)", "the file is empty"))
    elif extension == ".csv":
        yield from _csv_rows(filename, content, encoding, errors)
    elif extension == ".xlsx":
        yield from _xlsx_rows(filename, content, errors)
    else:
        reason = "only .csv and .xlsx files are read"
        errors.append(RowError(filename, 0, "(file)", reason))


def preview_order_file(filename, content, encoding=None, limit=5, rows=None):
    """Return how a CSV or XLSX order file is read, for a person to check it.

    :param str encoding: as for :func:`read_order_file`
    :param int limit: how many rows to return (None: all)
    :param rows: return only these row numbers (the header is row 1)
    :return: dict with ``encoding`` and ``separator`` (None for XLSX),
        ``columns`` (each header cell with the column it is read as, or None
        when it is ignored), ``numbers`` and ``rows`` (the cells as text)
    """
    preview = {
        "encoding": None,
        "separator": None,
        "columns": [],
        "numbers": [],
        "rows": [],
    }
    extension = os.path.splitext(filename)[1].lower()
    if not content or extension not in (".csv", ".xlsx"):
        return preview
    if extension == ".csv":
        preview["encoding"] = encoding or detect_encoding(content)
        stream = _text_stream(filename, content, preview["encoding"], [])
        if stream is None:
            return preview
        lines, preview["separator"] = _csv_reader(stream)
        book = None
    else:
        import openpyxl

        try:
            book = openpyxl.load_workbook(
                io.BytesIO(content), read_only=True, data_only=False
            )
        except Exception:  # as in _xlsx_rows: reported when the file is read
            return preview
        lines = book.worksheets[0].iter_rows(values_only=True)
    wanted = set(rows) if rows is not None else None
    try:
        header = [_text(cell) for cell in next(lines, ())]
        names = _normalise_header(header)
        preview["columns"] = [
            (cell, name if name in COLUMNS else None)
            for cell, name in zip(header, names, strict=True)
        ]
        for number, cells in enumerate(lines, start=2):
            if limit is not None and len(preview["rows"]) >= limit:
                break
            if wanted is not None and number not in wanted:
                continue
            cells = [_text(_cell_value(cell)) for cell in cells]
            if not any(cell.strip() for cell in cells):
                continue
            preview["numbers"].append(number)
            preview["rows"].append(cells)
    except Exception:  # csv or openpyxl parsing errors, of any kind
        # What was read so far: the error is reported with its row when the
        # file is read.
        return preview
    finally:
        if book is not None:
            book.close()
    return preview


def _text(value):
    return "" if value is None else str(value)


def _normalise_header(header):
    """Return the column names of a header row as ``COLUMNS`` spells them.

    Case does not matter and spaces count as underscores. A byte order mark
    left by a text editor and full-width spaces around a Chinese name are
    dropped, then Chinese names are translated (``CHINESE_COLUMNS``).
    """
    names = []
    for cell in header:
        name = str(cell or "").replace("\ufeff", "").strip()
        chinese = CHINESE_COLUMNS.get("".join(name.split()))
        names.append(chinese or name.lower().replace(" ", "_"))
    return names


def _check_header(filename, header, errors):
    missing = [
        name for name, required in COLUMNS.items() if required and name not in header
    ]
    for name in missing:
        errors.append(RowError(filename, 1, name, "this column is missing"))
    # Two cells read as one column (客户编号 and 客户代码, say): which one
    # holds the value is a guess, so neither is taken.
    twice = sorted(
        {name for name in header if name in COLUMNS and header.count(name) > 1}
    )
    for name in twice:
        errors.append(RowError(filename, 1, name, "two columns are read as this one"))
    return not missing and not twice


def detect_encoding(content):
    """Return the name of the codec that reads ``content``, a CSV file's bytes.

    UTF-8 is tried first: other text hardly ever decodes as UTF-8 by chance.
    A byte order mark gives ``utf-8-sig`` (or ``utf-16`` for Excel's
    "Unicode text"). Then GB18030, which Chinese Excel writes; Windows-1252
    text often decodes as GB18030 too, into rare ideographs, so it is taken
    only when the text then holds Chinese in common characters (GB2312). Last
    comes Windows-1252, the Latin-1 of Windows; Latin-1 itself when a byte is
    one of the five that Windows-1252 leaves unassigned.
    """
    if content.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    bom = content.startswith(codecs.BOM_UTF8)
    for codec in ("utf-8", "gb18030", "cp1252"):
        try:
            if codec == "gb18030":
                # Only here are the characters looked at, one by one.
                chinese = _is_chinese(_decoded_chunks(content, codec))
            else:
                _check_decodes(content, codec)
        except UnicodeDecodeError:
            continue
        if codec == "utf-8":
            return "utf-8-sig" if bom else codec
        if codec == "cp1252" or chinese:
            return codec
    return "latin-1"


def _check_decodes(content, codec):
    """Decode ``content`` a piece at a time, keeping nothing.

    :raise UnicodeDecodeError: where ``content`` is not ``codec`` text
    :raise LookupError: when ``codec`` is not a known text encoding
    """
    for _chunk in _decoded_chunks(content, codec):
        pass


def _decoded_chunks(content, codec, size=1 << 16):
    """Yield the text of ``content`` a piece at a time, never all of it.

    :raise UnicodeDecodeError: where ``content`` is not ``codec`` text
    :raise LookupError: when ``codec`` is not a known text encoding
    """
    # Refuses codecs of bytes to bytes (base64, zlib...) as well; Python
    # skips the codec for empty bytes, hence four.
    b"\0\0\0\0".decode(codec, errors="ignore")
    decoder = codecs.getincrementaldecoder(codec)()
    for start in range(0, len(content), size):
        yield decoder.decode(content[start : start + size])
    yield decoder.decode(b"", final=True)


def _is_chinese(chunks):
    """Tell whether text, given in pieces, holds ideographs, mostly common ones.

    Common ones are the 3,755 of GB2312's first level, which make nearly all
    of everyday Chinese; accented Latin letters read as GB18030 give rarer
    ones (Finnish "ää" gives 滗, of the second level).
    """
    ideographs = common = 0
    for chunk in chunks:
        for char in chunk:
            if not "\u3400" <= char <= "\u9fff":
                continue
            ideographs += 1
            try:
                first_byte = char.encode("gb2312")[0]
            except UnicodeEncodeError:
                continue
            common += GB2312_FIRST_LEVEL[0] <= first_byte <= GB2312_FIRST_LEVEL[1]
    return bool(ideographs) and common * 2 >= ideographs


def detect_separator(text):
    """Return the separator of a CSV text: the one its header line holds most.

    ``csv.Sniffer`` guesses from whole rows and is fooled by the commas of
    addresses and decimal commas; the header holds only column names, so
    counting there is reliable. Quoted names are left out of the count.
    """
    line = re.sub(r'"[^"]*"', "", text.partition("\n")[0])
    return max(SEPARATORS, key=line.count)


def _text_stream(filename, content, encoding, errors):
    """Return the text of a CSV file as a stream, or None when it is not text.

    The whole file is decoded once to find a wrong byte before any row is
    read, a piece at a time: the text is never held whole.
    """
    codec = encoding or detect_encoding(content)
    try:
        _check_decodes(content, codec)
    except LookupError:
        reason = f"'{codec}' is not a known text encoding"
    except UnicodeDecodeError:
        reason = f"the file is not {codec.upper()} text; choose its encoding"
    else:
        stream = io.TextIOWrapper(io.BytesIO(content), encoding=codec, newline="")
        # Any codec may leave a byte order mark at the start of the text.
        if stream.read(1) != "\ufeff":
            stream.seek(0)
        return stream
    errors.append(RowError(filename, 0, "(file)", reason))
    return None


def _csv_reader(stream):
    """A ``csv.reader`` of a text stream, with the separator of its header."""
    start = stream.tell()
    separator = detect_separator(stream.readline())
    stream.seek(start)
    # Strict: a quote left open is an error, not a cell to the end of the file.
    return csv.reader(stream, delimiter=separator, strict=True), separator


def _csv_rows(filename, content, encoding, errors):
    """Yield (row number, values) for each non-empty row of a CSV file."""
    stream = _text_stream(filename, content, encoding, errors)
    if stream is None:
        return
    reader, _separator = _csv_reader(stream)
    # The row read last; on an error, the one after it could not be read.
    number = 0
    try:
        header = _normalise_header(next(reader, []))
        number = 1
        if not _check_header(filename, header, errors):
            return
        for number, fields in enumerate(reader, start=2):
            if not any(field.strip() for field in fields):
                continue
            if len(fields) > len(header):
                reason = f"{len(fields)} values for {len(header)} columns"
                errors.append(RowError(filename, number, "(row)", reason))
            # Still read, wrong, so that its order is refused with it.
            yield number, dict(zip(header, fields, strict=False))
    except csv.Error as error:
        # A quote left open, say: what follows cannot be told apart.
        reason = f"not CSV from this row on ({error})"
        errors.append(RowError(filename, number + 1, "(file)", reason))


def _xlsx_rows(filename, content, errors):
    """Yield (row number, values) for each non-empty row of the first sheet."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(
            io.BytesIO(content), read_only=True, data_only=False
        )
    except Exception as error:  # openpyxl raises many kinds for a bad file
        reason = f"not a readable XLSX file ({error})"
        errors.append(RowError(filename, 0, "(file)", reason))
        return
    number = 0
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        header = _normalise_header(next(rows, ()) or ())
        number = 1
        if not _check_header(filename, header, errors):
            return
        for number, cells in enumerate(rows, start=2):
            if all(cell is None or str(cell).strip() == "" for cell in cells):
                continue
            values = (_cell_value(cell) for cell in cells)
            yield number, dict(zip(header, values, strict=False))
    except Exception as error:  # the sheet is parsed as it is read: any kind
        reason = f"not a readable XLSX file from this row on ({error})"
        errors.append(RowError(filename, number + 1, "(file)", reason))
    finally:
        book.close()


def _cell_value(cell):
    """Return a cell's value; a formula as its text, never its result.

    openpyxl gives a formula as its text, starting with ``=``; from 3.1 on,
    an array formula comes as an object that holds that text.
    """
    text = getattr(cell, "text", None)
    return text if isinstance(text, str) else cell


def _orders_from_rows(filename, rows, errors, ends=None):
    """Group line rows into orders by their order reference; yield each order.

    :param dict ends: {order reference: its last row}; an order is yielded
        at its last row, or at the last row of an order begun before it.
        Without it, every order is yielded at the end.
    """
    orders, ended = {}, set()
    for number, values in rows:
        row = _RowReader(filename, number, values, errors)
        ref = row.text("order_ref", required=True)
        delivery = _read_delivery(row)
        customer = {
            "ref": row.text("customer_ref", required=True),
            "name": row.text("customer_name", required=True),
            "phone": "",
            # A customer new to Odoo gets the delivery address as its own.
            **delivery,
        }
        # Checked per order below: the order's other rows may leave it empty.
        delivery_date = row.date("delivery_date", required=False)
        dated = bool(row.text("delivery_date"))
        note = row.text("note")
        special = {
            "special_type": row.text("special_type") or None,
            "special_note": row.text("special_note"),
        }
        line = {
            "product": {
                "code": row.text("product_code", required=True),
                "name": row.text("product_name"),
                "list_price": None,
            },
            "quantity": row.number("quantity", positive=True),
            "price_unit": row.number("unit_price", minimum=0),
            "discount": row.number("discount", required=False, minimum=0, maximum=100),
            "delivery_date": delivery_date,
            "source": (filename, number),
        }
        if not ref:
            continue

        order = orders.get(ref)
        if order is None:
            order = orders[ref] = {
                "ref": ref,
                "customer": customer,
                "delivery": delivery if any(delivery.values()) else None,
                "date_order": None,
                "delivery_date": delivery_date,
                "notes": [],
                "special_type": None,
                "special_notes": [],
                "dated": False,
                "lines": [],
                "source": (filename, number),
            }
        else:
            _check_same_order(row, order, customer, delivery, delivery_date)
        order["dated"] = order["dated"] or dated
        if note and note not in order["notes"]:
            order["notes"].append(note)
        _add_special(row, order, special)
        for key in ("quantity", "price_unit", "discount"):
            line[key] = float(line[key]) if line[key] is not None else None
        line["discount"] = line["discount"] or 0.0
        order["lines"].append(line)
        if ends is not None and ends.get(ref) == number:
            # Handed over in the order of their first rows, as read whole:
            # an order that ends first waits for those begun before it.
            ended.add(ref)
            while orders and next(iter(orders)) in ended:
                first = next(iter(orders))
                ended.discard(first)
                yield _complete(orders.pop(first), errors)

    for order in orders.values():
        yield _complete(order, errors)


def _complete(order, errors):
    """Finish an order whose rows are all read; refuse it if it has no date."""
    order["note"] = "\n".join(order.pop("notes"))
    order["special_note"] = "\n".join(order.pop("special_notes"))
    # A date given but refused is already reported.
    if not order.pop("dated"):
        filename, number = order["source"]
        reason = f"order {order['ref']} has no delivery date on any row"
        errors.append(RowError(filename, number, "delivery_date", reason))
    return order


def _add_special(row, order, special):
    """Take the row's special-order type and note into its order."""
    known = order["special_type"]
    wanted = special["special_type"]
    if wanted and known and wanted != known:
        row.refuse(
            "special_type", f"order {order['ref']} is already a {known} special order"
        )
    elif wanted:
        order["special_type"] = wanted
    note = special["special_note"]
    if note and note not in order["special_notes"]:
        order["special_notes"].append(note)


def _read_delivery(row):
    """Return the delivery address of a row; the country is an ISO code."""
    country = row.text("delivery_country").upper()
    if country and not (len(country) == 2 and country.isalpha()):
        reason = f"'{country}' is not a two-letter country code (ISO 3166)"
        row.refuse("delivery_country", reason)
    return {
        "street": row.text("delivery_street"),
        "city": row.text("delivery_city"),
        "zip": row.text("delivery_zip"),
        "country_code": country or None,
    }


def _check_same_order(row, order, customer, delivery, delivery_date):
    """Refuse a row whose order-wide values contradict its order's first row."""
    ref = order["ref"]
    known = order["customer"]["ref"]
    if customer["ref"] and known and customer["ref"] != known:
        row.refuse("customer_ref", f"order {ref} already has customer {known}")

    known = order["delivery_date"]
    if delivery_date and known and delivery_date != known:
        row.refuse("delivery_date", f"order {ref} already has delivery date {known}")
    elif delivery_date and not known:
        order["delivery_date"] = delivery_date

    known = order["delivery"]
    if any(delivery.values()) and known and delivery != known:
        address = ", ".join(value for value in known.values() if value)
        row.refuse(
            "delivery_street", f"order {ref} already goes to another address: {address}"
        )
    elif any(delivery.values()) and not known:
        order["delivery"] = delivery
        order["customer"].update(delivery)
