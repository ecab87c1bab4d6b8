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
        "lines": [{"product": {"code", "name", "list_price"}, "quantity",
                   "price_unit", "discount", "delivery_date", "source"}],
        "source": (file name, row number),
    }

Files are read as streams: rows are turned into orders one at a time, and the
TPC-H lineitem table is left as soon as the wanted orders are complete.
"""

import csv
import io
import os
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
}


class RowError(NamedTuple):
    """One wrong value: where it is and why it is refused."""

    filename: str
    row: int
    field: str
    reason: str


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
        if required and not value:
            self.refuse(field, "a value is required")
        return value

    def number(self, field, required=True, minimum=None, maximum=None, positive=False):
        raw = self.text(field, required=required)
        if not raw:
            return None
        try:
            value = Decimal(raw)
        except InvalidOperation:
            self.refuse(field, f"'{raw}' is not a number")
            return None
        if not value.is_finite():
            self.refuse(field, f"'{raw}' is not a number")
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
            # A date, or a date and time as spreadsheets write them; nothing else.
            return datetime.fromisoformat(raw).date()
        except ValueError:
            self.refuse(field, f"'{raw}' is not a date (YYYY-MM-DD)")
            return None


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
        order.update(
            customer=customer,
            delivery=None,
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


def read_order_file(filename, content):
    """Read a CSV or XLSX order file given as bytes, one row per order line.

    Rows sharing an ``order_ref`` make one order; they must agree on its
    customer, delivery address and delivery date. The first row of an order
    that names a customer, address or date gives them.

    :param str filename: its name; the extension (.csv or .xlsx) tells the format
    :param bytes content: the file itself
    :return: (orders, errors)
    """
    extension = os.path.splitext(filename)[1].lower()
    errors = []
    if not content:
        return [], [RowError(filename, 0, "(file)", "the file is empty")]
    if extension == ".csv":
        rows = _csv_rows(filename, content, errors)
    elif extension == ".xlsx":
        rows = _xlsx_rows(filename, content, errors)
    else:
        reason = "only .csv and .xlsx files are read"
        return [], [RowError(filename, 0, "(file)", reason)]
    orders = _orders_from_rows(filename, rows, errors)
    errors.sort(key=lambda error: error.row)
    return (orders if not errors else []), errors


def _normalise_header(header):
    return [str(name or "").strip().lower().replace(" ", "_") for name in header]


def _check_header(filename, header, errors):
    missing = [
        name for name, required in COLUMNS.items() if required and name not in header
    ]
    for name in missing:
        errors.append(RowError(filename, 1, name, "this column is missing"))
    return not missing


def _csv_rows(filename, content, errors):
    """Yield (row number, values) for each non-empty row of a CSV file."""
    # utf-8-sig drops a byte order mark and reads plain UTF-8 as well.
    text = io.TextIOWrapper(io.BytesIO(content), encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    number = 1
    try:
        header = _normalise_header(next(reader, []))
        if not _check_header(filename, header, errors):
            return
        for number, fields in enumerate(reader, start=2):
            if not any(field.strip() for field in fields):
                continue
            if len(fields) > len(header):
                reason = f"{len(fields)} values for {len(header)} columns"
                errors.append(RowError(filename, number, "(row)", reason))
                continue
            yield number, dict(zip(header, fields, strict=False))
    except UnicodeDecodeError:
        # The decoder reads ahead: the row number would be a guess.
        reason = "not UTF-8 text; save the file as CSV UTF-8"
        errors.append(RowError(filename, 0, "(file)", reason))
    except csv.Error as error:
        errors.append(RowError(filename, number, "(file)", f"not CSV ({error})"))


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
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        header = _normalise_header(next(rows, ()) or ())
        if not _check_header(filename, header, errors):
            return
        for number, cells in enumerate(rows, start=2):
            if all(cell is None or str(cell).strip() == "" for cell in cells):
                continue
            yield number, dict(zip(header, cells, strict=False))
    finally:
        book.close()


def _orders_from_rows(filename, rows, errors):
    """Group line rows into orders by their order reference."""
    orders = {}
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
                "dated": False,
                "lines": [],
                "source": (filename, number),
            }
        else:
            _check_same_order(row, order, customer, delivery, delivery_date)
        order["dated"] = order["dated"] or dated
        if note and note not in order["notes"]:
            order["notes"].append(note)
        for key in ("quantity", "price_unit", "discount"):
            line[key] = float(line[key]) if line[key] is not None else None
        line["discount"] = line["discount"] or 0.0
        order["lines"].append(line)

    for order in orders.values():
        order["note"] = "\n".join(order.pop("notes"))
        # A date given but refused is already reported.
        if not order.pop("dated"):
            filename, number = order["source"]
            reason = f"order {order['ref']} has no delivery date on any row"
            errors.append(RowError(filename, number, "delivery_date", reason))
    return list(orders.values())


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
