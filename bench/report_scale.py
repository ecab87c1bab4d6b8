"""How the order KPIs hold at scale: the order cycle pivot and the monthly workbook.

Builds a database with order_management (no demo data), loads TPC-H orders at
the scale asked (customers and products through the ORM, then orders, their
lines, review rounds, history events and incidents in bulk SQL, as a year of
activity up to today), and measures as an Order Manager:

- the order cycle pivot as it opens: its default grouping (entry month, the
  Not Cancelled filter, its default measures) and its total, the two
  ``read_group`` calls the pivot makes;
- the refresh of the order cycle analysis (a materialized view);
- the management workbook of last month: gathering its figures (the
  dashboard's ``_prepare_workbook_data``), building the XLSX file, and the
  whole download as the dashboard's button runs it (refresh included).

Each is run ``--repeat`` times; the first run and the fastest are printed.
The history rows are written without their hash chain (the verification
leaves such rows out): chaining a million events one by one would measure
the chain, not the reports.

usage: .om/venv/bin/python bench/report_scale.py [--orders 100000]
       [--repeat 3] [--config .om/odoo.conf] [--database om_bench_report]
       [--keep-database]
"""

import argparse
import io
import os
import sys
import tempfile
import time
from datetime import date, datetime, timedelta

from common import REPO, create_database, drop_database, load_reader, master_data
from dateutil.relativedelta import relativedelta

import odoo
from odoo import SUPERUSER_ID, api
from odoo.fields import Command
from odoo.tools import SQL, config

DATABASE = "om_bench_report"

# TPC-H holds 1,500 orders per 0.001 of scale.
ORDERS_PER_SCALE = 1_500_000

# People of the bench company, per role.
TEAM = {"clerk": 6, "reviewer": 4, "logistics": 3, "finance": 2}

PIVOT_MEASURES = ["review_hours", "first_pass_pct", "on_time_pct", "amount_untaxed"]
PIVOT_DOMAIN = [("state", "!=", "cancel")]


# ------------------------------------------------------------------ data --


def load_tpch(count):
    """Return ``count`` TPC-H orders, with their dates as TPC-H has them."""
    reader = load_reader()
    with tempfile.TemporaryDirectory() as directory:
        reader.generate_tpch(directory, scale=max(0.001, count / ORDERS_PER_SCALE))
        orders, errors = reader.read_tpch(directory, limit=count)
    assert not errors, errors[:3]
    return orders


def copy_rows(cr, table, columns, rows):
    """COPY ``rows`` (tuples) into the temporary ``table``."""
    buffer = io.StringIO()
    for row in rows:
        buffer.write(
            "\t".join(r"\N" if value is None else str(value) for value in row) + "\n"
        )
    buffer.seek(0)
    cr._obj.copy_from(buffer, table, columns=columns)


def team(env):
    """Create the bench's people; return {role: [user ids]}."""
    groups = {
        "clerk": "order_management.group_order_clerk",
        "reviewer": "order_management.group_order_reviewer",
        "logistics": "order_management.group_order_logistics",
        "finance": "order_management.group_order_finance",
    }
    people = {}
    for role, size in TEAM.items():
        users = env["res.users"].create(
            [
                {
                    "name": f"Bench {role.title()} {number}",
                    "login": f"bench_{role}_{number}",
                    "groups_id": [
                        Command.link(env.ref("base.group_user").id),
                        Command.link(env.ref(groups[role]).id),
                    ],
                }
                for number in range(1, size + 1)
            ]
        )
        people[role] = users.ids
    return people


def clone_sql(cr, table, prototype, source, overrides):
    """Return an INSERT of one ``table`` row per row of ``source``.

    Each row copies the ``prototype`` row (made through the ORM, so that
    every column another module adds has a sound value) but for the columns
    of ``overrides``: {column: SQL expression over ``source``'s alias s}.
    """
    cr.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_name = %s AND column_name != 'id' AND is_generated = 'NEVER' "
        "ORDER BY ordinal_position",
        [table],
    )
    columns = [name for (name,) in cr.fetchall()]
    return SQL(
        "INSERT INTO %s (%s) SELECT %s FROM %s s, %s p WHERE p.id = %s",
        SQL.identifier(table),
        SQL(", ").join(SQL.identifier(name) for name in columns),
        SQL(", ").join(
            SQL(overrides[name]) if name in overrides else SQL.identifier("p", name)
            for name in columns
        ),
        SQL(source),
        SQL.identifier(table),
        prototype,
    )


def build(env, orders):
    """Load ``orders`` as a year of order activity ending now."""
    cr = env.cr
    now = datetime.utcnow().replace(microsecond=0)
    company = env.company
    partners, products, _carrier = master_data(env, orders)
    people = team(env)
    # Products cost 70% of their list price, in the company.
    cr.execute(
        SQL(
            "UPDATE product_product pp SET standard_price = "
            "jsonb_build_object(%s, round(pt.list_price * 0.7, 2)) "
            "FROM product_template pt WHERE pt.id = pp.product_tmpl_id",
            str(company.id),
        )
    )
    clerk = env["res.users"].browse(people["clerk"][0])
    prototype = (
        env["sale.order"]
        .with_user(clerk)
        .create(
            {
                "partner_id": next(iter(partners.values())),
                "commitment_date": now + timedelta(days=30),
                "order_line": [
                    Command.create(
                        {"product_id": next(iter(products.values())), "price_unit": 1}
                    )
                ],
            }
        )
    )
    env.flush_all()

    # 1. The orders and lines as TPC-H has them.
    cr.execute(
        "CREATE TEMP TABLE bench_order (key int, partner_id int, order_date date, "
        "delivery_date date, amount numeric); "
        "CREATE TEMP TABLE bench_line (order_key int, seq int, product_id int, "
        "name text, quantity numeric, price_unit numeric, discount numeric)"
    )
    copy_rows(
        cr,
        "bench_order",
        ("key", "partner_id", "order_date", "delivery_date", "amount"),
        (
            (
                int(order["ref"][5:]),
                partners[order["customer"]["ref"]],
                order["date_order"],
                order["delivery_date"] or order["date_order"],
                sum(
                    line["quantity"] * line["price_unit"] * (1 - line["discount"] / 100)
                    for line in order["lines"]
                ),
            )
            for order in orders
        ),
    )
    copy_rows(
        cr,
        "bench_line",
        (
            "order_key",
            "seq",
            "product_id",
            "name",
            "quantity",
            "price_unit",
            "discount",
        ),
        (
            (
                int(order["ref"][5:]),
                number,
                products[line["product"]["code"]],
                line["product"]["name"].replace("\t", " "),
                line["quantity"],
                line["price_unit"],
                line["discount"],
            )
            for order in orders
            for number, line in enumerate(order["lines"], start=1)
        ),
    )

    # 2. What happens to each order, drawn once (same seed, same year).
    cr.execute("SELECT setseed(0.4242)")
    cr.execute(
        SQL(
            """
            CREATE TEMP TABLE bench_plan AS
            WITH span AS (
                SELECT min(order_date) AS first, max(order_date) AS last
                FROM bench_order
            ), drawn AS (
                SELECT o.*, random() AS r_path, random() AS r_lead1,
                    random() AS r_lead2, random() AS r_lead3, random() AS r_fix,
                    random() AS r_confirm, random() AS r_ship, random() AS r_deliver,
                    random() AS r_pay, random() AS r_incident, random() AS r_hour,
                    random() AS r_people
                FROM (SELECT * FROM bench_order ORDER BY key) o
            )
            SELECT d.*,
                %(now)s - make_interval(days => (
                    (span.last - d.order_date) * 364
                    / GREATEST(span.last - span.first, 1)
                )::int) - make_interval(hours => (d.r_hour * 10)::int) AS entered,
                CASE
                    WHEN d.r_path < 0.03 THEN 'held'
                    WHEN d.r_path < 0.05 THEN 'rejected'
                    WHEN d.r_path < 0.15 THEN 'once'
                    WHEN d.r_path < 0.17 THEN 'twice'
                    ELSE 'first'
                END AS path
            FROM drawn d, span
            """,
            now=now,
        )
    )
    # Review rounds: lead times of 0.2 to 24 hours, a third past 8 hours;
    # a rejected order comes back 2 to 26 hours later.
    cr.execute(
        SQL(
            """
            ALTER TABLE bench_plan
                ADD promised timestamp, ADD clerk int, ADD reviewer int,
                ADD shipper int, ADD rq1 timestamp, ADD d1 timestamp,
                ADD rq2 timestamp, ADD d2 timestamp, ADD rq3 timestamp,
                ADD d3 timestamp, ADD approved timestamp, ADD confirmed timestamp,
                ADD shipped timestamp, ADD transit timestamp, ADD delivered timestamp,
                ADD signed timestamp, ADD invoiced timestamp, ADD paid timestamp,
                ADD incident timestamp, ADD completed timestamp, ADD order_id int;
            UPDATE bench_plan SET
                promised = entered + make_interval(
                    days => GREATEST((delivery_date - order_date) / 4, 3)),
                clerk = (%(clerks)s)[1 + mod((r_people * 1e6)::int, %(clerks_n)s)],
                reviewer = (%(reviewers)s)[
                    1 + mod((r_lead2 * 1e6)::int, %(reviewers_n)s)],
                shipper = (%(shippers)s)[
                    1 + mod((r_ship * 1e6)::int, %(shippers_n)s)],
                rq1 = entered;
            UPDATE bench_plan SET d1 = rq1 + make_interval(
                secs => (0.2 + 24 * r_lead1 ^ 3) * 3600) WHERE path != 'held';
            UPDATE bench_plan SET
                rq2 = d1 + make_interval(secs => (2 + 24 * r_fix) * 3600)
                WHERE path IN ('once', 'twice');
            UPDATE bench_plan SET d2 = rq2 + make_interval(
                secs => (0.2 + 24 * r_lead2 ^ 3) * 3600) WHERE rq2 IS NOT NULL;
            UPDATE bench_plan SET
                rq3 = d2 + make_interval(secs => (2 + 24 * r_fix) * 3600)
                WHERE path = 'twice';
            UPDATE bench_plan SET d3 = rq3 + make_interval(
                secs => (0.2 + 24 * r_lead3 ^ 3) * 3600) WHERE rq3 IS NOT NULL;
            -- Nothing happens after now: later steps are still ahead.
            UPDATE bench_plan SET
                rq2 = CASE WHEN rq2 <= %(now)s THEN rq2 END,
                rq3 = CASE WHEN rq3 <= %(now)s THEN rq3 END;
            UPDATE bench_plan SET
                d1 = CASE WHEN d1 <= %(now)s THEN d1 END,
                d2 = CASE WHEN d2 <= %(now)s THEN d2 END,
                d3 = CASE WHEN d3 <= %(now)s THEN d3 END;
            UPDATE bench_plan SET approved = CASE path
                WHEN 'first' THEN d1 WHEN 'once' THEN d2 WHEN 'twice' THEN d3 END;
            UPDATE bench_plan SET confirmed = approved + make_interval(
                secs => (0.5 + 12 * r_confirm) * 3600) WHERE r_confirm < 0.92;
            UPDATE bench_plan SET shipped = confirmed + make_interval(
                secs => (1 + 4 * r_ship) * 86400);
            UPDATE bench_plan SET
                transit = shipped + interval '12 hours',
                delivered = GREATEST(
                    shipped + interval '1 day',
                    promised + make_interval(secs => (9 * r_deliver - 6) * 86400)),
                incident = CASE WHEN r_incident < 0.03
                    THEN shipped + interval '2 days' END;
            UPDATE bench_plan SET signed = delivered + make_interval(
                secs => 6 * r_hour * 3600);
            UPDATE bench_plan SET invoiced = signed + make_interval(
                secs => 2 * r_confirm * 86400);
            UPDATE bench_plan SET paid = invoiced + make_interval(
                secs => (3 + 27 * r_pay) * 86400);
            UPDATE bench_plan SET completed = GREATEST(signed, paid)
                WHERE incident IS NULL;
            UPDATE bench_plan SET
                confirmed = CASE WHEN confirmed <= %(now)s THEN confirmed END,
                shipped = CASE WHEN shipped <= %(now)s THEN shipped END,
                transit = CASE WHEN transit <= %(now)s THEN transit END,
                delivered = CASE WHEN delivered <= %(now)s THEN delivered END,
                signed = CASE WHEN signed <= %(now)s THEN signed END,
                invoiced = CASE WHEN invoiced <= %(now)s THEN invoiced END,
                paid = CASE WHEN paid <= %(now)s THEN paid END,
                incident = CASE WHEN incident <= %(now)s THEN incident END,
                completed = CASE WHEN completed <= %(now)s THEN completed END;
            """,
            now=now,
            clerks=people["clerk"],
            clerks_n=len(people["clerk"]),
            reviewers=people["reviewer"],
            reviewers_n=len(people["reviewer"]),
            shippers=people["logistics"],
            shippers_n=len(people["logistics"]),
        )
    )

    # 3. Orders and lines, cloned from the prototype with their own values.
    cr.execute(
        clone_sql(
            cr,
            "sale_order",
            prototype.id,
            "bench_plan",
            {
                "name": "'BENCH/' || s.key",
                "client_order_ref": "'TPCH-' || s.key",
                "partner_id": "s.partner_id",
                "partner_invoice_id": "s.partner_id",
                "partner_shipping_id": "s.partner_id",
                "user_id": "s.clerk",
                "create_uid": "s.clerk",
                "write_uid": "s.clerk",
                "create_date": "s.entered",
                "write_date": "s.entered",
                "date_order": "COALESCE(s.confirmed, s.entered)",
                "commitment_date": "s.promised",
                "state": "CASE WHEN s.confirmed IS NULL THEN 'draft' ELSE 'sale' END",
                "review_state": """CASE
                    WHEN s.path = 'held' THEN 'hold'
                    WHEN s.approved IS NOT NULL THEN 'approved'
                    WHEN s.path = 'rejected' AND s.d1 IS NOT NULL THEN 'rejected'
                    WHEN s.path = 'once' AND s.rq2 IS NULL AND s.d1 IS NOT NULL
                        THEN 'rejected'
                    WHEN s.path = 'twice' AND s.rq3 IS NULL AND s.d2 IS NOT NULL
                        THEN 'rejected'
                    ELSE 'waiting' END""",
                "shipment_state": """CASE
                    WHEN s.signed IS NOT NULL THEN 'signed'
                    WHEN s.delivered IS NOT NULL THEN 'delivered'
                    WHEN s.transit IS NOT NULL THEN 'in_transit'
                    WHEN s.shipped IS NOT NULL THEN 'shipped'
                    WHEN s.confirmed IS NOT NULL THEN 'to_ship'
                    ELSE 'none' END""",
                "completion_state": """CASE
                    WHEN s.completed IS NOT NULL THEN 'completed'
                    WHEN s.paid IS NOT NULL THEN 'paid'
                    WHEN s.invoiced IS NOT NULL THEN 'invoiced'
                    WHEN s.confirmed IS NOT NULL THEN 'to_invoice'
                    ELSE 'open' END""",
                "completed_date": "s.completed",
                "locked": "s.completed IS NOT NULL",
                "amount_untaxed": "round(s.amount, 2)",
                "amount_tax": "0",
                "amount_total": "round(s.amount, 2)",
                "review_fingerprint": "NULL",
                "access_token": "NULL",
            },
        )
    )
    cr.execute(
        "UPDATE bench_plan p SET order_id = so.id FROM sale_order so "
        "WHERE so.name = 'BENCH/' || p.key"
    )
    cr.execute(
        clone_sql(
            cr,
            "sale_order_line",
            prototype.order_line.id,
            "(SELECT l.*, p.order_id, p.clerk, p.entered, p.partner_id, "
            "CASE WHEN p.confirmed IS NULL THEN 'draft' ELSE 'sale' END AS state "
            "FROM bench_line l JOIN bench_plan p ON p.key = l.order_key)",
            {
                "order_id": "s.order_id",
                "sequence": "s.seq",
                "name": "s.name",
                "product_id": "s.product_id",
                "product_uom_qty": "s.quantity",
                "price_unit": "s.price_unit",
                "discount": "s.discount",
                "price_subtotal": "round(s.quantity * s.price_unit "
                "* (1 - s.discount / 100), 2)",
                "price_total": "round(s.quantity * s.price_unit "
                "* (1 - s.discount / 100), 2)",
                "price_tax": "0",
                "order_partner_id": "s.partner_id",
                "state": "s.state",
                "salesman_id": "s.clerk",
                "create_uid": "s.clerk",
                "write_uid": "s.clerk",
                "create_date": "s.entered",
                "write_date": "s.entered",
            },
        )
    )

    # 4. Review rounds: deadline 8 hours after the request.
    finance = people["finance"][0]
    cr.execute(
        SQL(
            """
            INSERT INTO sale_order_review (order_id, company_id, round, level,
                reviewer_group_id, assigned_user_id, requested_by_id,
                requested_date, deadline, decision, reviewer_id, decision_date,
                reason_id, reason, create_uid, create_date, write_uid, write_date)
            SELECT p.order_id, %(company)s, r.round, 1, %(group)s, p.reviewer,
                p.clerk, r.requested, r.requested + interval '8 hours',
                CASE WHEN r.decided IS NULL THEN 'pending'
                    WHEN r.rejected THEN 'rejected' ELSE 'approved' END,
                CASE WHEN r.decided IS NOT NULL THEN p.reviewer END, r.decided,
                CASE WHEN r.rejected AND r.decided IS NOT NULL THEN
                    (%(reasons)s)[1 + mod((p.r_fix * 1e6)::int, %(reason_count)s)]
                END,
                CASE WHEN r.rejected AND r.decided IS NOT NULL
                    THEN 'See the lines' END,
                p.reviewer, r.requested, p.reviewer, COALESCE(r.decided, r.requested)
            FROM bench_plan p
            CROSS JOIN LATERAL (VALUES
                (1, p.rq1, p.d1, p.path IN ('rejected', 'once', 'twice')),
                (2, p.rq2, p.d2, p.path = 'twice'),
                (3, p.rq3, p.d3, FALSE)
            ) AS r(round, requested, decided, rejected)
            WHERE r.requested IS NOT NULL AND p.path != 'held'
            """,
            company=company.id,
            group=env.ref("order_management.group_order_reviewer").id,
            reasons=env["order.rejection.reason"].search([]).ids,
            reason_count=env["order.rejection.reason"].search_count([]),
        )
    )

    # 5. The history: one event per step, as the addon records them.
    cr.execute(
        SQL(
            """
            INSERT INTO order_audit_event (timestamp, user_id, order_id, event,
                stage, from_state, to_state, note)
            SELECT e.at, e.who, p.order_id, e.event, e.stage, e.from_state,
                e.to_state, e.note
            FROM bench_plan p
            CROSS JOIN LATERAL (VALUES
                (p.entered, p.clerk, 'hold', 'review', 'draft', 'hold', NULL,
                    p.path = 'held'),
                (p.rq1, p.clerk, 'submit', 'review', 'draft', 'waiting', NULL,
                    p.path != 'held'),
                (p.d1, p.reviewer, 'reject', 'review', 'waiting', 'rejected',
                    'See the lines', p.path IN ('rejected', 'once', 'twice')),
                (p.rq2, p.clerk, 'submit', 'review', 'rejected', 'waiting', NULL,
                    TRUE),
                (p.d2, p.reviewer, 'reject', 'review', 'waiting', 'rejected',
                    'See the lines', p.path = 'twice'),
                (p.rq3, p.clerk, 'submit', 'review', 'rejected', 'waiting', NULL,
                    TRUE),
                (p.approved, p.reviewer, 'approve', 'review', 'waiting',
                    'approved', NULL, TRUE),
                (p.confirmed, p.clerk, 'confirm', 'sale', 'draft', 'sale', NULL,
                    TRUE),
                (p.shipped, p.shipper, 'ship', 'shipment', 'to_ship', 'shipped',
                    NULL, TRUE),
                (p.transit, p.shipper, 'transit', 'shipment', 'shipped',
                    'in_transit', NULL, TRUE),
                (p.delivered, p.shipper, 'deliver', 'shipment', 'in_transit',
                    'delivered', NULL, TRUE),
                (p.signed, p.shipper, 'sign', 'shipment', 'delivered', 'signed',
                    NULL, TRUE),
                (p.incident, p.shipper, 'incident', 'incident', NULL, 'open',
                    'Damaged on the way', TRUE),
                (p.invoiced, %(finance)s, 'invoice', 'completion', 'to_invoice',
                    'invoiced', NULL, TRUE),
                (p.paid, %(finance)s, 'pay', 'completion', 'invoiced', 'paid',
                    NULL, TRUE),
                (p.completed, %(finance)s, 'complete', 'completion', 'paid',
                    'completed', NULL, TRUE)
            ) AS e(at, who, event, stage, from_state, to_state, note, happens)
            WHERE e.at IS NOT NULL AND e.happens
            ORDER BY e.at
            """,
            finance=finance,
        )
    )
    cr.execute(
        """
        INSERT INTO order_incident (name, order_id, partner_id, company_id,
            incident_type, description, state, responsible_id, create_uid,
            create_date, write_uid, write_date)
        SELECT 'BENCH-INC/' || p.key, p.order_id, p.partner_id, so.company_id,
            'damage', 'Damaged on the way', 'open', p.shipper, p.shipper,
            p.incident, p.shipper, p.incident
        FROM bench_plan p JOIN sale_order so ON so.id = p.order_id
        WHERE p.incident IS NOT NULL
        """
    )
    cr.execute(
        "SELECT (SELECT count(*) FROM sale_order), "
        "(SELECT count(*) FROM sale_order_line), "
        "(SELECT count(*) FROM sale_order_review), "
        "(SELECT count(*) FROM order_audit_event), "
        "(SELECT count(*) FROM order_incident)"
    )
    return dict(
        zip(
            ("orders", "lines", "review rounds", "events", "incidents"),
            cr.fetchone(),
            strict=True,
        )
    )


def vacuum(dbname):
    """Vacuum and analyse the loaded tables, as autovacuum would in time."""
    with odoo.sql_db.db_connect(dbname).cursor() as cr:
        cr._cnx.autocommit = True
        for table in (
            "sale_order",
            "sale_order_line",
            "sale_order_review",
            "order_audit_event",
            "order_incident",
            "product_product",
        ):
            cr.execute(SQL("VACUUM (ANALYZE) %s", SQL.identifier(table)))


# ------------------------------------------------------------- measures --


def timed(function, repeat):
    """Return (first, fastest) seconds of ``repeat`` runs, and the last result."""
    times = []
    result = None
    for _run in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return times[0], min(times), result


def measure(dbname, repeat):
    # The addons path is known once the configuration is read.
    from odoo.addons.order_management.tools.order_workbook import build_workbook

    registry = odoo.modules.registry.Registry(dbname)
    with registry.cursor() as cr:
        admin = api.Environment(cr, SUPERUSER_ID, {}).ref("base.user_admin")
        env = api.Environment(cr, admin.id, {"lang": "en_US", "tz": "UTC"})
        Cycle = env["order.cycle.report"]

        def pivot():
            env.invalidate_all()
            rows = Cycle.read_group(
                PIVOT_DOMAIN, PIVOT_MEASURES, ["entered_date:month"], lazy=False
            )
            Cycle.read_group(PIVOT_DOMAIN, PIVOT_MEASURES, [], lazy=False)
            return rows

        last_month = date.today().replace(day=1) - relativedelta(months=1)
        dashboard = env["order.kpi.dashboard"].create(
            {"month_from": last_month, "month_to": last_month}
        )

        def gather():
            env.invalidate_all()
            return dashboard._prepare_workbook_data()

        def download():
            env.invalidate_all()
            return dashboard.action_download_workbook()

        figures = {
            "refresh": timed(Cycle._refresh, repeat)[:2],
            "pivot": timed(pivot, repeat),
            "data": timed(gather, repeat),
        }
        figures["build"] = timed(lambda: build_workbook(figures["data"][2]), repeat)
        figures["download"] = timed(download, repeat)[:2]
        cr.rollback()
    return figures, last_month


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--config", default=str(REPO / ".om" / "odoo.conf"))
    parser.add_argument("--database", default=DATABASE, help="dropped and created anew")
    parser.add_argument("--keep-database", action="store_true")
    args = parser.parse_args(argv)

    config.parse_config(["-c", args.config, "--log-level=warn"])
    config["list_db"] = True

    steps = {}
    start = time.perf_counter()
    orders = load_tpch(args.orders)
    steps["TPC-H"] = time.perf_counter() - start
    drop_database(args.config, args.database)
    create_database(args.config, args.database, "order_management")
    steps["database"] = time.perf_counter() - start - sum(steps.values())
    registry = odoo.modules.registry.Registry(args.database)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
        counts = build(env, orders)
    vacuum(args.database)
    steps["orders"] = time.perf_counter() - start - sum(steps.values())

    figures, month = measure(args.database, args.repeat)
    counts = ", ".join(f"{count:,} {name}" for name, count in counts.items())
    print(f"measured {date.today()}: {counts}")
    print(
        "built in "
        + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in steps.items())
    )
    first, best, groups = figures["pivot"]
    print(
        f"order cycle pivot, default grouping ({len(groups)} months) and its "
        f"total: first {first:.3f} s, fastest {best:.3f} s (target under 1 s)"
    )
    first, best = figures["refresh"]
    print(f"order cycle refresh: first {first:.2f} s, fastest {best:.2f} s")
    gathered, built = figures["data"], figures["build"]
    sheet = gathered[2]["tables"][-1]["rows"]
    print(
        f"workbook of {month:%Y-%m} ({len(sheet):,} orders, {len(built[2]):,} "
        f"bytes): figures fastest {gathered[1]:.2f} s, file fastest {built[1]:.2f} s"
    )
    first, best = figures["download"]
    print(
        f"workbook download (refresh, figures, file): first {first:.2f} s, "
        f"fastest {best:.2f} s (target under 10 s)"
    )
    if not args.keep_database:
        drop_database(args.config, args.database)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("TZ", "UTC")
    sys.exit(main(sys.argv[1:]))
