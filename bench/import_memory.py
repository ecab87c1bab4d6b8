"""Import memory: how the importer's memory grows with the file, next to Odoo's.

Imports the first TPC-H order lines of one generated data set, at several
sizes, through the addon's ``order.importer.import_file`` and, at the sizes up
to ``--odoo-max-lines``, through Odoo's ``base_import`` (the same files and
measures as ``import_throughput.py``, whose helpers this uses). Each import
runs in a forked process of its own, and is rolled back.

The figure is the growth of that process's resident set during the import:
its peak (reset just before) over what it held when the import started. An
importer that holds a batch of orders at a time grows by about the same
whatever the size of the file; one that holds the file grows with it.

usage: .om/venv/bin/python bench/import_memory.py [--lines 2500,10000,40000]
       [--odoo-max-lines 10000] [--config .om/odoo.conf] [--keep-database]
"""

import argparse
import logging
import os
import sys
from datetime import date

import import_throughput as throughput
from common import REPO, create_database, drop_database, load_reader

from odoo.tools import config

DATABASE = "om_bench_import_memory"

_logger = logging.getLogger("import_memory")


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", default="2500,10000,40000")
    parser.add_argument("--odoo-max-lines", type=int, default=10_000)
    parser.add_argument("--config", default=str(REPO / ".om" / "odoo.conf"))
    parser.add_argument("--keep-database", action="store_true")
    args = parser.parse_args(argv)
    sizes = sorted(int(size) for size in args.lines.split(","))

    config.parse_config(["-c", args.config, "--log-level=warn"])
    _logger.setLevel(logging.INFO)
    config["list_db"] = True
    reader = load_reader()

    everything = throughput.tpch_orders(reader, sizes[-1])
    context = {"tz": "UTC", "tracking_disable": True}
    warm_up = throughput.files_of(reader, everything[: throughput.WARM_UP_ORDERS])

    drop_database(args.config, DATABASE)
    _logger.info("creating database %s", DATABASE)
    create_database(args.config, DATABASE, throughput.MODULES)
    results = []
    try:
        throughput.in_child(throughput.create_master_data, DATABASE, everything)
        for lines in sizes:
            orders = throughput.first_lines(everything, lines)
            files = throughput.files_of(reader, orders)
            sides = ["ours"] + (["odoo"] if lines <= args.odoo_max_lines else [])
            for side in sides:
                _logger.info("%s lines: %s", lines, side)
                result = throughput.in_child(
                    throughput.run_side, DATABASE, side, files, warm_up, context
                )
                assert (result["orders"], result["lines"]) == (len(orders), lines)
                results.append((side, lines, result))
    finally:
        if not args.keep_database:
            drop_database(args.config, DATABASE)

    names = {"ours": "order.importer.import_file", "odoo": "base_import"}
    print(
        f"TPC-H order lines imported in a forked process each, rolled back; "
        f"measured {date.today()}"
    )
    print(
        f"{'side':28} {'lines':>7} {'seconds':>8} {'start MB':>8} "
        f"{'growth MB':>9} {'KB/1000 lines':>13}"
    )
    growth = {}
    for side, lines, result in results:
        grown = (result["peak_kib"] - result["start_kib"]) / 1024
        growth[side, lines] = grown
        print(
            f"{names[side]:28} {lines:7} {result['seconds']:8.2f} "
            f"{result['start_kib'] / 1024:8.0f} {grown:9.1f} "
            f"{grown * 1024 * 1000 / lines:13.0f}"
        )
    for side in names:
        measured = sorted(lines for s, lines in growth if s == side)
        if len(measured) < 2:
            continue
        small, large = measured[0], measured[-1]
        print(
            f"{names[side]}: {large / small:.0f}x the lines, "
            f"{growth[side, large] / max(growth[side, small], 0.1):.1f}x the growth"
        )
    if not all(result["peak_reset"] for _side, _lines, result in results):
        print("Linux refused to reset the peak: peaks are since each process began.")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TZ", "UTC")
    sys.exit(main(sys.argv[1:]))
