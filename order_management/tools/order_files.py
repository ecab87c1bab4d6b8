"""Read order files into plain order dictionaries, checking every row.

Two sources are understood:

- the TPC-H tables written by ``tpchgen-cli`` (pipe-separated ``.tbl`` files);
- a CSV or XLSX file with one row per order line (see ``COLUMNS``).

Nothing here touches a database. Each reader returns ``(orders, errors)``: the
orders it could read and a list of :class:`RowError`, one per wrong value, so
that the caller can refuse the whole file and say everything that is wrong.
"""

import csv
import io
import os
from datetime import date, timedelta
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
            return date.fromisoformat(raw[:10])
        except ValueError:
            self.refuse(field, f"'{raw}' is not a date (YYYY-MM-DD)")
            return None


# ------------------------------------------------------------------ TPC-H --


def _tbl_rows(path, table):
    """Yield (row number, values dict) for each line of a ``.tbl`` file."""
    columns = TPCH_COLUMNS[table]
    with open(path, encoding="utf-8", newline="") as handle:
        for number, line in enumerate(handle, start=1):
            fields = line.rstrip("\r\n").split("|")
            if fields and fields[-1] == "":
                fields.pop()
            if len(fields) != len(columns):
                yield number, None, len(fields)
            else:
                yield number, dict(zip(columns, fields, strict=False)), len(fields)


def _table_rows(directory, table, errors):
    """Yield a _RowReader for each well-formed line of a TPC-H table."""
    filename = f"{table}.tbl"
    path = os.path.join(directory, filename)
    for number, values, count in _tbl_rows(path, table):
        if values is None:
            reason = f"{count} fields where {len(TPCH_COLUMNS[table])} are expected"
            errors.append(RowError(filename, number, "(row)", reason))
            continue
        yield _RowReader(filename, number, values, errors)


def read_tpch(directory, limit=None, rebase_to=None):
    """Read the first ``limit`` TPC-H orders of ``directory``.

    :param str directory: holds orders.tbl, lineitem.tbl, customer.tbl,
        part.tbl and nation.tbl
    :param int limit: how many orders, by ascending key (all when None)
    :param date rebase_to: when given, the order dates are spread over the
        30 days up to this date, each delivery keeping its lead time
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
        if key is None:
            continue
        orders[key] = {
            "ref": f"TPCH-{key}",
            "customer_key": row.integer("o_custkey"),
            "date_order": row.date("o_orderdate"),
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
        quantity = row.number("l_quantity", positive=True)
        extended = row.number("l_extendedprice", minimum=0)
        discount = row.number("l_discount", minimum=0, maximum=1)
        commit_date = row.date("l_commitdate")
        part_key = row.integer("l_partkey")
        if None in (quantity, extended, discount, part_key) or quantity <= 0:
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
    nations = {
        row.integer("n_nationkey"): TPCH_NATIONS.get(row.text("n_name"))
        for row in _table_rows(directory, "nation", errors)
    }
    wanted = {order["customer_key"] for order in orders.values()}
    customers = {}
    for row in _table_rows(directory, "customer", errors):
        key = row.integer("c_custkey")
        if key not in wanted:
            continue
        customers[key] = {
            "ref": f"TPCH-C{key:09d}",
            "name": row.text("c_name", required=True),
            "street": row.text("c_address"),
            "city": "",
            "zip": "",
            "phone": row.text("c_phone"),
            "country_code": nations.get(row.integer("c_nationkey")),
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
        filename, number = order.pop("source")
        customer = customers.get(order.pop("customer_key"))
        if customer is None:
            reason = "no such customer in customer.tbl"
            errors.append(RowError(filename, number, "o_custkey", reason))
            continue
        if not order["lines"]:
            reason = "the order has no lines"
            errors.append(RowError(filename, number, "o_orderkey", reason))
            continue
        for line in order["lines"]:
            line_file, line_number = line.pop("source")
            line["product"] = parts.get(line.pop("product_key"))
            if line["product"] is None:
                reason = "no such part in part.tbl"
                errors.append(RowError(line_file, line_number, "l_partkey", reason))
        dates = [line["delivery_date"] for line in order["lines"]]
        order["delivery_date"] = max(filter(None, dates), default=None)
        order["customer"] = customer
        order["delivery"] = None
        result.append(order)
    return result


def _rebase_dates(orders, rebase_to, spread_days=REBASE_SPREAD_DAYS):
    """Move the orders' dates into the ``spread_days`` days up to ``rebase_to``.

    TPC-H order dates span seven years of the 1990s. They are squeezed, in
    their original order, into the last few weeks; each delivery date keeps
    its lead time from its order date, so deliveries stay in the future.
    """
    order_dates = [order["date_order"] for order in orders if order["date_order"]]
    oldest, newest = min(order_dates), max(order_dates)
    span = max((newest - oldest).days, 1)
    for order in orders:
        original = order["date_order"]
        if not original:
            continue
        age = round((newest - original).days * spread_days / span)
        moved = rebase_to - timedelta(days=age)
        shift = moved - original
        order["date_order"] = moved
        if order["delivery_date"]:
            order["delivery_date"] += shift
        for line in order["lines"]:
            if line["delivery_date"]:
                line["delivery_date"] += shift


# -------------------------------------------------------------- CSV, XLSX --


def read_order_file(filename, content):
    """Read a CSV or XLSX order file given as bytes.

    :return: (orders, errors)
    """
    extension = os.path.splitext(filename)[1].lower()
    errors = []
    if extension == ".csv":
        rows = _csv_rows(filename, content, errors)
    elif extension == ".xlsx":
        rows = _xlsx_rows(filename, content, errors)
    else:
        return [], [
            RowError(filename, 0, "(file)", "only .csv and .xlsx files are read")
        ]
    if errors:
        return [], errors
    return _orders_from_rows(filename, rows, errors), errors


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
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        errors.append(
            RowError(filename, 0, "(file)", f"not UTF-8 text (byte {error.start})")
        )
        return []
    reader = csv.reader(io.StringIO(text, newline=""))
    header = _normalise_header(next(reader, []))
    if not _check_header(filename, header, errors):
        return []
    rows = []
    for number, fields in enumerate(reader, start=2):
        if not any(field.strip() for field in fields):
            continue
        if len(fields) > len(header):
            errors.append(
                RowError(
                    filename,
                    number,
                    "(row)",
                    f"{len(fields)} values for {len(header)} columns",
                )
            )
            continue
        rows.append((number, dict(zip(header, fields, strict=False))))
    return rows


def _xlsx_rows(filename, content, errors):
    import openpyxl

    try:
        book = openpyxl.load_workbook(
            io.BytesIO(content), read_only=True, data_only=False
        )
    except Exception as error:  # openpyxl raises many kinds for a bad file
        errors.append(
            RowError(filename, 0, "(file)", f"not a readable XLSX file ({error})")
        )
        return []
    sheet = book.worksheets[0]
    rows_iter = sheet.iter_rows(values_only=True)
    header = _normalise_header(next(rows_iter, ()) or ())
    if not _check_header(filename, header, errors):
        book.close()
        return []
    rows = []
    for number, cells in enumerate(rows_iter, start=2):
        if all(cell is None or str(cell).strip() == "" for cell in cells):
            continue
        rows.append((number, dict(zip(header, cells, strict=False))))
    book.close()
    return rows


def _orders_from_rows(filename, rows, errors):
    """Group line rows into orders by their order reference."""
    orders = {}
    for number, values in rows:
        row = _RowReader(filename, number, values, errors)
        ref = row.text("order_ref", required=True)
        delivery = {
            "street": row.text("delivery_street"),
            "city": row.text("delivery_city"),
            "zip": row.text("delivery_zip"),
            "country_code": row.text("delivery_country").upper() or None,
        }
        # A customer new to Odoo gets the delivery address as its own.
        customer = dict(
            delivery,
            ref=row.text("customer_ref", required=True),
            name=row.text("customer_name", required=True),
            phone="",
        )
        delivery_date = row.date("delivery_date")
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
            "row": number,
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
                "note": row.text("note"),
                "lines": [],
                "row": number,
            }
        elif customer["ref"] and customer["ref"] != order["customer"]["ref"]:
            row.refuse(
                "customer_ref",
                f"order {ref} already has customer {order['customer']['ref']}",
            )
        elif (
            delivery_date
            and order["delivery_date"]
            and delivery_date != order["delivery_date"]
        ):
            row.refuse(
                "delivery_date",
                f"order {ref} already has delivery date {order['delivery_date']}",
            )
        for key in ("quantity", "price_unit", "discount"):
            line[key] = (
                float(line[key])
                if line[key] is not None
                else (0.0 if key == "discount" else None)
            )
        order["lines"].append(line)
    return list(orders.values())
