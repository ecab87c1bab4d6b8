"""What review costs: the same TPC-H orders through plain Odoo and the addon.

Builds two databases side by side (Odoo's sales, stock and delivery apps; the
same plus order_management), pushes the same TPC-H orders through entry,
confirmation (with review and approval on the addon's side), shipping and
invoicing, and prints per stage the time ratio and the extra queries per
order. Each stage starts with a cold ORM cache, like a new request. Nothing
is committed: each run rolls back.

Timings on a shared machine wander by a few percent from one run to the
next: the two sides run in turn, ``--repeat`` times, and each stage keeps
its fastest time on each side.

usage: .om/venv/bin/python bench/review_overhead.py [--orders 1000]
       [--repeat 2] [--config .om/odoo.conf] [--keep-databases]
"""

import argparse
import os
import sys
from datetime import date

from common import (
    LIFECYCLE_STAGES,
    PLAIN_MODULES,
    REPO,
    create_database,
    drop_database,
    fastest,
    load_reader,
    run_lifecycle,
    tpch_orders,
)

from odoo.tools import config


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--config", default=str(REPO / ".om" / "odoo.conf"))
    parser.add_argument("--keep-databases", action="store_true")
    args = parser.parse_args(argv)

    config.parse_config(["-c", args.config, "--log-level=warn"])
    config["list_db"] = True
    orders = tpch_orders(load_reader(), args.orders)
    lines = sum(len(o["lines"]) for o in orders)

    plain_db, addon_db = "om_bench_plain", "om_bench_addon"
    for name in (plain_db, addon_db):
        drop_database(args.config, name)
    create_database(args.config, plain_db, PLAIN_MODULES)
    create_database(args.config, addon_db, PLAIN_MODULES + ",order_management")

    plain_runs, addon_runs = [], []
    for _run in range(args.repeat):
        plain_runs.append(run_lifecycle(plain_db, orders, with_addon=False)[0])
        addon_runs.append(run_lifecycle(addon_db, orders, with_addon=True)[0])
    plain, addon = fastest(plain_runs), fastest(addon_runs)
    names = LIFECYCLE_STAGES

    print(
        f"{len(orders)} TPC-H orders, {lines} lines, fastest of {args.repeat} runs, "
        f"measured {date.today()}"
    )
    print(
        f"{'stage':40} {'plain s':>8} {'addon s':>8} {'ratio':>6} "
        f"{'q/order plain':>13} {'q/order addon':>13} {'extra':>6}"
    )
    for name, (p_time, p_q), (a_time, a_q) in zip(names, plain, addon, strict=False):
        per_plain, per_addon = p_q / len(orders), a_q / len(orders)
        print(
            f"{name:40} {p_time:8.2f} {a_time:8.2f} {a_time / p_time:6.2f} "
            f"{per_plain:13.1f} {per_addon:13.1f} {per_addon - per_plain:6.1f}"
        )
    total_plain = sum(t for t, _q in plain)
    total_addon = sum(t for t, _q in addon)
    print(
        f"{'whole lifecycle':40} {total_plain:8.2f} {total_addon:8.2f} "
        f"{total_addon / total_plain:6.2f}"
    )

    if not args.keep_databases:
        for name in (plain_db, addon_db):
            drop_database(args.config, name)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TZ", "UTC")
    sys.exit(main(sys.argv[1:]))
