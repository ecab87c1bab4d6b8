"""What the side-by-side benchmarks share: databases, TPC-H data, the lifecycle.

Each benchmark builds its databases with ``odoo-bin`` in a subprocess, reads
TPC-H data with the addon's pure reader (without loading the addon), and
measures stages that start from a cold ORM cache, as a new request would.
"""

import contextlib
import importlib.util
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from unittest.mock import patch

import odoo
from odoo import SUPERUSER_ID, api
from odoo.fields import Command

REPO = Path(__file__).resolve().parent.parent

# Odoo's own apps the addon extends: the "plain Odoo" of every comparison.
PLAIN_MODULES = "sale_management,sale_stock,stock_delivery"

# Orders per ORM call in the lifecycle, like a list action on a page of orders.
BATCH = 100

LIFECYCLE_STAGES = ["enter", "confirm / review + approve + confirm", "ship", "invoice"]


# ------------------------------------------------------------- databases --


def load_reader():
    """Import the addon's pure TPC-H reader without loading the addon."""
    path = REPO / "order_management" / "tools" / "order_files.py"
    spec = importlib.util.spec_from_file_location("order_files", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_quietly(command):
    """Run a command; show what it wrote only when it fails."""
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(
            f"{' '.join(command)} failed ({done.returncode}):\n"
            f"{done.stdout}{done.stderr}"
        )


def odoo_bin(conf, name, *args):
    """Run ``odoo-bin`` on database ``name`` until its work is done, quietly."""
    run_quietly(
        [
            sys.executable,
            str(Path(odoo.__file__).parent.parent / "odoo-bin"),
            "-c",
            conf,
            "-d",
            name,
            *args,
            "--stop-after-init",
            "--log-level=warn",
        ]
    )


def create_database(conf, name, modules):
    """Create ``name`` with ``modules`` installed, without demo data."""
    odoo_bin(conf, name, "-i", modules, "--without-demo=all")


def update_module(conf, name, module="order_management"):
    """Update ``module`` in ``name`` to the code on the addons path."""
    odoo_bin(conf, name, "-u", module)


def drop_database(conf, name):
    """Drop ``name`` and its filestore, if it exists."""
    run_quietly(
        [sys.executable, str(REPO / "scripts" / "dbctl.py"), conf, "drop", name]
    )


# ------------------------------------------------------------------ data --


def tpch_orders(reader, count):
    """Return ``count`` TPC-H orders, dated so that the review accepts them."""
    with tempfile.TemporaryDirectory() as directory:
        # Enough orders at this scale (1,500 per 0.001), with room to spare.
        reader.generate_tpch(directory, scale=max(0.001, count / 1_250_000))
        orders, errors = reader.read_tpch(
            directory, limit=count, rebase_to=date.today() + timedelta(days=1)
        )
    assert not errors, errors[:3]
    return orders


def master_data(env, orders):
    """Create the customers, products and carrier the orders need.

    :return: ({customer ref: partner id}, {product code: product id}, carrier)
    """
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
    """The ``sale.order`` values of TPC-H orders, as a clerk would type them."""
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


# ------------------------------------------------------------- lifecycle --


class Stage:
    """Time and count the queries of named stages run on one cursor."""

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


def vacuum(dbname):
    """Clear the rows earlier runs wrote and rolled back, and refresh statistics.

    A rolled-back run leaves its rows behind as dead tuples until autovacuum
    passes: the next run's lookups (invoice sequences among them) wade through
    them, and each run would be slower than the one before.
    """
    with contextlib.closing(odoo.sql_db.db_connect(dbname).cursor()) as cr:
        cr._cnx.autocommit = True
        cr.execute("VACUUM ANALYZE")


def run_lifecycle(dbname, orders, with_addon, patches=None, count=None):
    """Enter, confirm, ship and invoice ``orders`` in ``dbname``, then roll back.

    With the addon, confirmation includes the review: two order managers
    approve (large orders need a second, different reviewer).

    :param dict patches: {model name: {method name: replacement}}, set on
        the registry's classes for the measured stages only
    :param count: called with the environment after the stages, before the
        roll back, to count what they wrote
    :return: ([(seconds, queries)] per stage of ``LIFECYCLE_STAGES``, what
        ``count`` returned)
    """
    vacuum(dbname)
    registry = odoo.modules.registry.Registry(dbname)
    with registry.cursor() as cr, contextlib.ExitStack() as patched:
        env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
        partners, products, carrier = master_data(env, orders)
        vals_list = order_vals(orders, partners, products)
        reviewers = []
        if with_addon:
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

        for model, methods in (patches or {}).items():
            for name, replacement in methods.items():
                patched.enter_context(patch.object(type(env[model]), name, replacement))

        stage.measure("enter", enter)
        if with_addon:
            held = created.filtered(lambda o: o.review_state != "waiting")
            assert not held, f"{len(held)} orders held by the checks"
        stage.measure("confirm", confirm)
        stage.measure("ship", ship)
        stage.measure("invoice", invoice)
        assert set(created.mapped("state")) == {"sale"}
        counted = count(env) if count else None
        cr.rollback()
    return list(stage.results.values()), counted


def fastest(runs):
    """Per stage, the fastest time of the runs and its query count."""
    return [min(stage_runs) for stage_runs in zip(*runs, strict=True)]
