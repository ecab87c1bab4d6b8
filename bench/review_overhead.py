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
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import odoo
from odoo import SUPERUSER_ID, api
from odoo.fields import Command
from odoo.tools import config

REPO = Path(__file__).resolve().parent.parent
PLAIN_MODULES = "sale_management,sale_stock,stock_delivery"
BATCH = 100


def load_reader():
    """Import the addon's pure TPC-H reader without loading the addon."""
    path = REPO / "order_management" / "tools" / "order_files.py"
    spec = importlib.util.spec_from_file_location("order_files", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def create_database(conf, name, modules):
    subprocess.run(
        [
            sys.executable,
            str(Path(odoo.__file__).parent.parent / "odoo-bin"),
            "-c",
            conf,
            "-d",
            name,
            "-i",
            modules,
            "--without-demo=all",
            "--stop-after-init",
            "--log-level=warn",
        ],
        check=True,
    )


def drop_database(conf, name):
    subprocess.run(
        [sys.executable, str(REPO / "scripts" / "dbctl.py"), conf, "drop", name],
        check=True,
    )


class Stage:
    def __init__(self, cr):
        self.cr = cr
        self.results = {}

    def measure(self, name, function):
        # Each stage starts from a cold cache, as a new request would: a warm
        # cache left by the stage before would favour whichever run kept it.
        self.cr.flush()
        api.Environment(self.cr, SUPERUSER_ID, {}).invalidate_all()
        queries = self.cr.sql_log_count
        start = time.perf_counter()
        function()
        self.cr.flush()
        self.results[name] = (
            time.perf_counter() - start,
            self.cr.sql_log_count - queries,
        )


def master_data(env, orders):
    """Create the customers and products the orders need (not measured)."""
    countries = {c.code: c.id for c in env["res.country"].search([])}
    customers = {o["customer"]["ref"]: o["customer"] for o in orders}
    partners = env["res.partner"].create(
        [
            {
                "name": c["name"],
                "ref": ref,
                "street": c["street"],
                "city": "City",
                "country_id": countries.get(c["country_code"]),
            }
            for ref, c in customers.items()
        ]
    )
    products = {}
    for order in orders:
        for line in order["lines"]:
            products.setdefault(line["product"]["code"], line["product"])
    created = env["product.product"].create(
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
    carrier_product = env["product.product"].create(
        {"name": "Freight", "type": "service"}
    )
    carrier = env["delivery.carrier"].create(
        {
            "name": "Bench Freight",
            "delivery_type": "fixed",
            "product_id": carrier_product.id,
        }
    )
    return (
        {p.ref: p.id for p in partners},
        {p.default_code: p.id for p in created},
        carrier,
    )


def order_vals(orders, partners, products):
    return [
        {
            "partner_id": partners[o["customer"]["ref"]],
            "client_order_ref": o["ref"],
            "commitment_date": o["delivery_date"],
            "order_line": [
                Command.create(
                    {
                        "product_id": products[line["product"]["code"]],
                        "product_uom_qty": line["quantity"],
                        "price_unit": line["price_unit"],
                        "discount": line["discount"],
                    }
                )
                for line in o["lines"]
            ],
        }
        for o in orders
    ]


def run_lifecycle(dbname, orders, with_addon):
    registry = odoo.modules.registry.Registry(dbname)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
        partners, products, carrier = master_data(env, orders)
        vals_list = order_vals(orders, partners, products)
        reviewers = []
        if with_addon:
            # Two managers: large orders need a second, different reviewer.
            reviewers = env["res.users"].create(
                [
                    {
                        "name": f"Bench Reviewer {index}",
                        "login": f"bench_reviewer_{index}",
                        "groups_id": [
                            Command.link(env.ref("base.group_user").id),
                            Command.link(
                                env.ref("order_management.group_order_manager").id
                            ),
                        ],
                    }
                    for index in (1, 2)
                ]
            )
        stage = Stage(cr)
        created = env["sale.order"]

        def enter():
            nonlocal created
            for start in range(0, len(vals_list), BATCH):
                created |= created.create(vals_list[start : start + BATCH])

        def confirm():
            for start in range(0, len(created), BATCH):
                batch = created[start : start + BATCH]
                if with_addon:
                    batch.with_user(reviewers[0]).action_approve()
                    second = batch.filtered(lambda o: o.review_state == "waiting")
                    second.with_user(reviewers[1]).action_approve()
                batch.action_confirm()

        def ship():
            pickings = created.picking_ids
            pickings.write({"carrier_id": carrier.id, "carrier_tracking_ref": "BENCH1"})
            for move in pickings.move_ids:
                move.quantity = move.product_uom_qty
            for start in range(0, len(pickings), BATCH):
                pickings[start : start + BATCH].with_context(
                    skip_sms=True, skip_backorder=True
                ).button_validate()

        def invoice():
            for start in range(0, len(created), BATCH):
                moves = created[start : start + BATCH]._create_invoices(grouped=True)
                moves.action_post()

        stage.measure("enter", enter)
        if with_addon:
            held = created.filtered(lambda o: o.review_state != "waiting")
            assert not held, f"{len(held)} orders held by the checks"
        stage.measure(
            "confirm" + (" (review + approve)" if with_addon else ""), confirm
        )
        stage.measure("ship", ship)
        stage.measure("invoice", invoice)
        assert set(created.mapped("state")) == {"sale"}
        cr.rollback()
    return list(stage.results.values())


def fastest(runs):
    """Per stage, the fastest time of the runs and its query count."""
    return [min(stage_runs) for stage_runs in zip(*runs, strict=True)]


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--config", default=str(REPO / ".om" / "odoo.conf"))
    parser.add_argument("--keep-databases", action="store_true")
    args = parser.parse_args(argv)

    config.parse_config(["-c", args.config, "--log-level=warn"])
    config["list_db"] = True
    reader = load_reader()
    with tempfile.TemporaryDirectory() as directory:
        # Enough orders at this scale (1,500 per 0.001), with room to spare.
        reader.generate_tpch(directory, scale=max(0.001, args.orders / 1_250_000))
        orders, errors = reader.read_tpch(
            directory, limit=args.orders, rebase_to=date.today() + timedelta(days=1)
        )
    assert not errors, errors[:3]
    lines = sum(len(o["lines"]) for o in orders)

    plain_db, addon_db = "om_bench_plain", "om_bench_addon"
    for name in (plain_db, addon_db):
        drop_database(args.config, name)
    create_database(args.config, plain_db, PLAIN_MODULES)
    create_database(args.config, addon_db, PLAIN_MODULES + ",order_management")

    plain_runs, addon_runs = [], []
    for _run in range(args.repeat):
        plain_runs.append(run_lifecycle(plain_db, orders, with_addon=False))
        addon_runs.append(run_lifecycle(addon_db, orders, with_addon=True))
    plain, addon = fastest(plain_runs), fastest(addon_runs)
    names = ["enter", "confirm / review + approve + confirm", "ship", "invoice"]

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
