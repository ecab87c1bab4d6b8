"""Import throughput: the same TPC-H order lines through the addon and base_import.

Creates one database (Odoo's sales, stock and delivery apps with
order_management, no demo data) and the customers and products the orders
need, once and unmeasured. Then it imports the same TPC-H orders, as one CSV
file each, through

- ours: ``env["order.importer"].import_file("orders.csv", content)``, in the
  addon's layout (``COLUMNS`` of ``order_management/tools/order_files.py``);
- Odoo's: ``base_import.import.execute_import``, the generic import behind
  Odoo's *Import records*, on ``sale.order`` with the order's columns on its
  first row and only the ``order_line/...`` columns on the rows after it.

Both files hold the same values: the customer reference (``client_order_ref``),
the customer, the delivery date (``commitment_date``, rebased into the future
so that the review's checks accept it), and per line the product, quantity,
unit price and discount. Neither holds the TPC-H comment, order date or
priority (no note, no special order). Customers and products are found by the
same keys on both sides: the addon's importer searches customers by ``ref``
and products by ``default_code``; in Odoo's file, ``partner_id`` and
``order_line/product_id`` hold the same ``ref`` and ``default_code`` and
base_import resolves them by name search (``name_search(value, '=')``), which
matches a partner's ``ref`` and a product's ``default_code``. Odoo's import
gets the whole file in one ``execute_import`` call, as ours does (its web
client would send it in requests of 2,000 rows).

Both sides run as superuser with the same context (``tz`` UTC, and
``tracking_disable``, the default of Odoo's import dialog, unless ``--track``)
through the same ORM, so the addon's review checks run on the orders of both.
Each run checks that both sides created the same orders (count, lines and a
digest of their customers, references, delivery dates, lines, totals and
review states), then rolls back.

Each side runs in its own forked process that loads the registry, imports a
few orders to warm up and rolls them back, then imports the file: memory is
that process's peak resident set during the import (its high-water mark is
reset just before), and how much it grew over the resident set the import
started from. The two sides run in turn, ``--repeat`` times; each keeps its
fastest time, and the highest memory of its runs.

usage: .om/venv/bin/python bench/import_throughput.py [--lines 10000]
       [--repeat 2] [--config .om/odoo.conf] [--track] [--keep-database]
"""

import argparse
import csv
import hashlib
import io
import logging
import multiprocessing
import os
import resource
import sys
import tempfile
import time
import traceback
from collections import Counter
from datetime import date, timedelta

from common import (
    PLAIN_MODULES,
    REPO,
    create_database,
    drop_database,
    load_reader,
    vacuum,
)

import odoo
from odoo import SUPERUSER_ID, api
from odoo.tools import config

MODULES = PLAIN_MODULES + ",order_management"
DATABASE = "om_bench_import"
WARM_UP_ORDERS = 5

# Odoo's import layout: (column = field path, value of an order, of a line).
# The order's columns are filled on its first row only.
ODOO_ORDER_COLUMNS = [
    ("client_order_ref", lambda order: order["ref"]),
    ("partner_id", lambda order: order["customer"]["ref"]),
    ("commitment_date", lambda order: order["delivery_date"].isoformat()),
]
ODOO_LINE_COLUMNS = [
    ("order_line/product_id", lambda line: line["product"]["code"]),
    ("order_line/product_uom_qty", lambda line: repr(line["quantity"])),
    ("order_line/price_unit", lambda line: repr(line["price_unit"])),
    ("order_line/discount", lambda line: repr(line["discount"])),
]
ODOO_OPTIONS = {
    "encoding": "utf-8",
    "separator": ",",
    "quoting": '"',
    "has_headers": True,
    "date_format": "%Y-%m-%d",
    "datetime_format": "%Y-%m-%d %H:%M:%S",
    "float_thousand_separator": ",",
    "float_decimal_separator": ".",
}

_logger = logging.getLogger("import_throughput")


# ------------------------------------------------------------------ data --


def tpch_orders(reader, lines):
    """Return the first TPC-H orders holding ``lines`` lines in all."""
    with tempfile.TemporaryDirectory() as directory:
        # Every order has a line: ``lines`` orders are always enough.
        reader.generate_tpch(directory, scale=max(0.001, lines / 1_250_000))
        orders, errors = reader.read_tpch(
            directory, limit=lines, rebase_to=date.today() + timedelta(days=1)
        )
    assert not errors, errors[:3]
    kept = first_lines(orders, lines)
    count = sum(len(order["lines"]) for order in kept)
    assert count == lines, f"only {count} TPC-H lines for {lines}"
    return kept


def first_lines(orders, lines):
    """The first orders holding ``lines`` lines in all.

    The last order keeps only the lines needed; its delivery date is then the
    latest of the lines it keeps, as the reader computes it.
    """
    kept, count = [], 0
    for order in orders:
        if count >= lines:
            break
        order = dict(order, lines=order["lines"][: lines - count])
        order["delivery_date"] = max(line["delivery_date"] for line in order["lines"])
        count += len(order["lines"])
        kept.append(order)
    return kept


def our_file(reader, orders):
    """The orders as a CSV file in the addon's layout, one row per line."""
    stream = io.StringIO()
    writer = csv.DictWriter(stream, fieldnames=list(reader.COLUMNS))
    writer.writeheader()
    for order in orders:
        for line in order["lines"]:
            writer.writerow(
                {
                    "order_ref": order["ref"],
                    "customer_ref": order["customer"]["ref"],
                    "customer_name": order["customer"]["name"],
                    "delivery_date": order["delivery_date"].isoformat(),
                    "product_code": line["product"]["code"],
                    "quantity": repr(line["quantity"]),
                    "unit_price": repr(line["price_unit"]),
                    "discount": repr(line["discount"]),
                }
            )
    return stream.getvalue().encode()


def odoo_file(orders):
    """The orders as a CSV file in Odoo's import layout, one row per line."""
    stream = io.StringIO()
    writer = csv.writer(stream)
    writer.writerow([name for name, _value in ODOO_ORDER_COLUMNS + ODOO_LINE_COLUMNS])
    for order in orders:
        # Continuation rows leave the order's columns empty.
        head = [value(order) for _name, value in ODOO_ORDER_COLUMNS]
        for line in order["lines"]:
            writer.writerow(head + [value(line) for _name, value in ODOO_LINE_COLUMNS])
            head = [""] * len(head)
    return stream.getvalue().encode()


def files_of(reader, orders):
    return {"ours": our_file(reader, orders), "odoo": odoo_file(orders)}


# ---------------------------------------------------- forked processes --


def in_child(function, *args):
    """Run ``function(*args)`` in a forked process and return its result.

    The parent holds no database connection, so nothing is shared but the
    imported code and the data.
    """
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)

    def target():
        try:
            sender.send(("ok", function(*args)))
        except BaseException:
            sender.send(("error", traceback.format_exc()))

    process = context.Process(target=target)
    process.start()
    sender.close()
    try:
        status, result = receiver.recv()
    except EOFError:
        status, result = "error", "it ended without a result"
    process.join()
    if status != "ok":
        raise RuntimeError(f"{function.__name__} failed in its process:\n{result}")
    return result


def create_master_data(dbname, orders):
    """Create and commit the customers and products the orders need."""
    registry = odoo.modules.registry.Registry(dbname)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
        countries = {c.code: c.id for c in env["res.country"].search([])}
        customers = {o["customer"]["ref"]: o["customer"] for o in orders}
        env["res.partner"].create(
            [
                {
                    "name": c["name"],
                    "ref": ref,
                    "street": c["street"],
                    "city": "City",
                    "country_id": countries.get(c["country_code"]),
                    "is_company": True,
                    "customer_rank": 1,
                }
                for ref, c in customers.items()
            ]
        )
        products = {}
        for order in orders:
            for line in order["lines"]:
                products.setdefault(line["product"]["code"], line["product"])
        env["product.product"].create(
            [
                {
                    "name": p["name"],
                    "default_code": code,
                    "type": "consu",
                    "list_price": p["list_price"],
                    "invoice_policy": "order",
                }
                for code, p in products.items()
            ]
        )
        assert env["ir.module.module"].search_count(
            [("name", "=", "base_import"), ("state", "=", "installed")]
        ), "base_import is not installed"
    return len(customers), len(products)


def import_ours(env, files):
    return env["order.importer"].import_file("orders.csv", files["ours"])


def import_odoo(env, files):
    wizard = env["base_import.import"].create(
        {
            "res_model": "sale.order",
            "file": files["odoo"],
            "file_name": "orders.csv",
            "file_type": "text/csv",
        }
    )
    columns = [name for name, _value in ODOO_ORDER_COLUMNS + ODOO_LINE_COLUMNS]
    result = wizard.execute_import(columns, columns, dict(ODOO_OPTIONS))
    if result["messages"] or not result.get("ids"):
        raise RuntimeError(f"base_import refused the file: {result['messages'][:5]}")
    return env["sale.order"].browse(result["ids"])


SIDES = {"ours": import_ours, "odoo": import_odoo}


def resident_kib(field):
    """A ``/proc/self/status`` figure of this process (VmRSS, VmHWM), in KiB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise LookupError(field)


def reset_peak():
    """Reset this process's peak resident set; False where Linux refuses."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear:
            clear.write("5")
    except OSError:
        return False
    return True


def summarise(orders):
    """Count the orders and lines; digest what both sides must agree on."""
    content = sorted(
        (
            order.client_order_ref,
            order.partner_id.ref,
            str(order.commitment_date),
            order.state,
            order.review_state,
            order.amount_total,
            tuple(
                (
                    line.product_id.default_code,
                    line.product_uom_qty,
                    line.price_unit,
                    line.discount,
                )
                for line in order.order_line
            ),
        )
        for order in orders
    )
    return {
        "orders": len(orders),
        "lines": len(orders.order_line),
        "digest": hashlib.sha256(repr(content).encode()).hexdigest(),
        "review": Counter(order.review_state for order in orders),
    }


def run_side(dbname, side, files, warm_up, context):
    """Import ``files`` through ``side`` once; measure, check, roll back."""
    # The rows of the runs before, rolled back, must not slow this one down.
    vacuum(dbname)
    registry = odoo.modules.registry.Registry(dbname)
    importer = SIDES[side]
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, context)
        # First calls fill the registry's caches: not part of the measure.
        importer(env, warm_up)
        cr.rollback()

        env.invalidate_all()
        start_kib = resident_kib("VmRSS")
        reset = reset_peak()
        queries = cr.sql_log_count
        start = time.perf_counter()
        orders = importer(env, files)
        cr.flush()
        seconds = time.perf_counter() - start
        queries = cr.sql_log_count - queries
        peak_kib = (
            resident_kib("VmHWM")
            if reset
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        )
        result = {
            "seconds": seconds,
            "queries": queries,
            "start_kib": start_kib,
            "peak_kib": peak_kib,
            "peak_reset": reset,
            **summarise(orders),
        }
        cr.rollback()
    return result


# ------------------------------------------------------------------ main --


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--config", default=str(REPO / ".om" / "odoo.conf"))
    parser.add_argument(
        "--track", action="store_true", help="keep mail tracking on, on both sides"
    )
    parser.add_argument("--keep-database", action="store_true")
    args = parser.parse_args(argv)

    # Odoo's handlers, set up by parse_config, show this logger's progress.
    config.parse_config(["-c", args.config, "--log-level=warn"])
    _logger.setLevel(logging.INFO)
    config["list_db"] = True
    reader = load_reader()

    orders = tpch_orders(reader, args.lines)
    files = files_of(reader, orders)
    warm_up = files_of(reader, orders[:WARM_UP_ORDERS])
    context = {"tz": "UTC"} if args.track else {"tz": "UTC", "tracking_disable": True}

    drop_database(args.config, DATABASE)
    _logger.info("creating database %s", DATABASE)
    create_database(args.config, DATABASE, MODULES)
    try:
        customers, products = in_child(create_master_data, DATABASE, orders)
        runs = {side: [] for side in SIDES}
        for run in range(args.repeat):
            for side in SIDES:
                _logger.info("run %s/%s: %s", run + 1, args.repeat, side)
                result = in_child(run_side, DATABASE, side, files, warm_up, context)
                _logger.info(
                    "%s: %.2f s, %s orders, %s lines",
                    side,
                    result["seconds"],
                    result["orders"],
                    result["lines"],
                )
                runs[side].append(result)
    finally:
        if not args.keep_database:
            drop_database(args.config, DATABASE)

    every = [result for side_runs in runs.values() for result in side_runs]
    expected = {"orders": len(orders), "lines": args.lines}
    for result in every:
        got = {key: result[key] for key in expected}
        assert got == expected, f"created {got}, expected {expected}"
    digests = {result["digest"] for result in every}
    assert len(digests) == 1, "the two sides did not create the same orders"

    best = {
        side: {
            **min(side_runs, key=lambda r: r["seconds"]),
            "peak_kib": max(r["peak_kib"] for r in side_runs),
            "growth_kib": max(r["peak_kib"] - r["start_kib"] for r in side_runs),
        }
        for side, side_runs in runs.items()
    }
    names = {
        "ours": "order.importer.import_file",
        "odoo": "base_import execute_import",
    }
    print(
        f"{len(orders)} TPC-H orders, {args.lines} lines "
        f"({customers} customers, {products} products created beforehand), "
        f"fastest of {args.repeat} runs, measured {date.today()}"
    )
    print(
        f"{'side':28} {'seconds':>8} {'lines/s':>8} {'orders/s':>8} "
        f"{'q/order':>8} {'peak MB':>8} {'growth MB':>9}"
    )
    for side, result in best.items():
        print(
            f"{names[side]:28} {result['seconds']:8.2f} "
            f"{args.lines / result['seconds']:8.0f} "
            f"{len(orders) / result['seconds']:8.1f} "
            f"{result['queries'] / len(orders):8.1f} "
            f"{result['peak_kib'] / 1024:8.0f} {result['growth_kib'] / 1024:9.0f}"
        )
    ratio = best["odoo"]["seconds"] / best["ours"]["seconds"]
    print(f"{'throughput ours / Odoo':28} {ratio:8.2f}")
    review = ", ".join(
        f"{count} {state}" for state, count in sorted(best["ours"]["review"].items())
    )
    print(
        "Both sides created the same orders and lines each run "
        f"(review states: {review}); tracking "
        f"{'on' if args.track else 'off (tracking_disable)'}."
    )
    print(
        "Memory: resident set of the process that ran the side (one forked "
        "process per run, registry loaded and warmed up): peak during the "
        "import"
        + ("" if all(r["peak_reset"] for r in every) else " (or since its start)")
        + ", and growth over the start of the import; highest of the runs."
    )
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TZ", "UTC")
    sys.exit(main(sys.argv[1:]))
