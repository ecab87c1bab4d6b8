"""What the audit trail costs: ours on and off, and OCA auditlog, in one run.

Builds three databases side by side, all on Odoo's sales, stock and delivery
apps without demo data:

- plain: nothing more;
- auditlog: plus OCA ``auditlog`` with a full-log rule (creates, writes and
  deletes, every field) on each model our trail watches in this lifecycle:
  sale orders and their lines, pickings, invoices and customers;
- addon: plus order_management, run twice: with its audit trail on (as
  shipped) and off (the trail's entry points replaced, in this process, by
  ones that read and write nothing: order events, data changes, logins).

Then it pushes the same TPC-H orders through entry, confirmation, shipping
and invoicing on each side (``common.run_lifecycle``) and prints per stage
the time of each side and the two overheads:

- ours: addon with the trail over addon without it;
- auditlog's: plain Odoo with auditlog over plain Odoo.

Each side counts the audit rows its run wrote before rolling back, so that
both trails are seen to log. Sides run in turn, ``--repeat`` times; each
stage keeps its fastest time.

OCA auditlog comes from PyPI, without its ``odoo`` dependency (Odoo is not on
PyPI): ``.om/venv/bin/pip install --no-deps -r bench/requirements.txt``.

usage: .om/venv/bin/python bench/audit_overhead.py [--orders 1000]
       [--repeat 2] [--config .om/odoo.conf] [--keep-databases]
"""

import argparse
import contextlib
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

import odoo
from odoo import SUPERUSER_ID, api
from odoo.modules.module import get_module_path
from odoo.tools import config

# The models auditlog logs in full here: what our trail covers in this run.
AUDITLOG_MODELS = [
    "sale.order",
    "sale.order.line",
    "stock.picking",
    "account.move",
    "res.partner",
]


@contextlib.contextmanager
def nothing_logged(self, *args, **kwargs):
    yield


def write_nothing(self, *args, **kwargs):
    return self.browse()


# "Off": our trail's entry points replaced by ones that read and write nothing,
# the reads of old values before a write included.
AUDIT_OFF = {
    "order.audit.event": {
        "_record": write_nothing,
        "_record_events": write_nothing,
        "_log_created": write_nothing,
        "_changes_logged": nothing_logged,
        "_deletion_logged": nothing_logged,
    }
}

DATABASES = {
    "plain": PLAIN_MODULES,
    "auditlog": PLAIN_MODULES + ",auditlog",
    "addon": PLAIN_MODULES + ",order_management",
}


def subscribe_auditlog(dbname):
    """Give auditlog a full-log rule per model of ``AUDITLOG_MODELS``."""
    registry = odoo.modules.registry.Registry(dbname)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        rules = env["auditlog.rule"].create(
            [
                {
                    "name": model,
                    "model_id": env["ir.model"]._get_id(model),
                    "log_type": "full",
                    "log_create": True,
                    "log_write": True,
                    "log_unlink": True,
                    "log_read": False,
                }
                for model in AUDITLOG_MODELS
            ]
        )
        rules.subscribe()
    # A fresh registry patches the models of the subscribed rules.
    odoo.modules.registry.Registry.new(dbname)


def count_auditlog(env):
    return {
        "log rows": env["auditlog.log"].search_count([]),
        "line rows": env["auditlog.log.line"].search_count([]),
    }


def count_ours(env):
    return {"event rows": env["order.audit.event"].search_count([])}


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--config", default=str(REPO / ".om" / "odoo.conf"))
    parser.add_argument("--keep-databases", action="store_true")
    args = parser.parse_args(argv)

    config.parse_config(["-c", args.config, "--log-level=warn"])
    config["list_db"] = True
    if not get_module_path("auditlog", display_warning=False):
        sys.exit(
            "OCA auditlog is not installed: .om/venv/bin/pip install --no-deps "
            "-r bench/requirements.txt"
        )
    orders = tpch_orders(load_reader(), args.orders)
    lines = sum(len(o["lines"]) for o in orders)

    names = {side: f"om_bench_audit_{side}" for side in DATABASES}
    for side, modules in DATABASES.items():
        drop_database(args.config, names[side])
        create_database(args.config, names[side], modules)
    subscribe_auditlog(names["auditlog"])

    sides = {
        "plain": dict(dbname=names["plain"], with_addon=False),
        "auditlog": dict(
            dbname=names["auditlog"], with_addon=False, count=count_auditlog
        ),
        "ours off": dict(
            dbname=names["addon"],
            with_addon=True,
            count=count_ours,
            patches=AUDIT_OFF,
        ),
        "ours on": dict(dbname=names["addon"], with_addon=True, count=count_ours),
    }
    runs = {side: [] for side in sides}
    rows = {}
    for _run in range(args.repeat):
        for side, kwargs in sides.items():
            stages, rows[side] = run_lifecycle(orders=orders, **kwargs)
            runs[side].append(stages)
    best = {side: fastest(side_runs) for side, side_runs in runs.items()}

    print(
        f"{len(orders)} TPC-H orders, {lines} lines, fastest of {args.repeat} runs, "
        f"measured {date.today()}"
    )
    header = "".join(f"{side:>10}" for side in sides)
    print(f"{'stage (seconds)':40}{header}{'ours':>8}{'auditlog':>10}")
    for index, stage in enumerate(LIFECYCLE_STAGES):
        times = {side: best[side][index][0] for side in sides}
        print(
            f"{stage:40}"
            + "".join(f"{times[side]:10.2f}" for side in sides)
            + f"{times['ours on'] / times['ours off']:8.2f}"
            + f"{times['auditlog'] / times['plain']:10.2f}"
        )
    totals = {side: sum(t for t, _q in best[side]) for side in sides}
    ours = totals["ours on"] / totals["ours off"]
    theirs = totals["auditlog"] / totals["plain"]
    print(
        f"{'whole lifecycle':40}"
        + "".join(f"{totals[side]:10.2f}" for side in sides)
        + f"{ours:8.2f}{theirs:10.2f}"
    )
    print(f"overhead of our audit trail     {ours - 1:7.1%} (target at most 10%)")
    print(f"overhead of OCA auditlog        {theirs - 1:7.1%}")
    if theirs > 1:
        print(
            f"ours / auditlog's overhead      {(ours - 1) / (theirs - 1):7.2f} "
            "(target at most 0.20)"
        )
    for side in ("auditlog", "ours off", "ours on"):
        print(f"rows written by {side:10} {rows[side]}")

    if not args.keep_databases:
        for name in names.values():
            drop_database(args.config, name)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TZ", "UTC")
    sys.exit(main(sys.argv[1:]))
