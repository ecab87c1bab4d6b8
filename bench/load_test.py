"""Load test: clerks, reviewers and logistics at work on Odoo with workers.

Prepares its own database: a template with the addon installed (made once,
without demo data, and kept for the next runs) is copied, and the copy gets a
small master data set (customers, products, a carrier) and one account per
simulated person: clerks, reviewers and logistics staff, each with only their
role's group. Then it starts Odoo on that copy in prefork mode (``--workers``
processes, one cron thread, the limits ``./om run --workers`` sets) on a free
port of 127.0.0.1, and runs ``--users`` simulated people in threads for
``--duration`` seconds. Each logs in once (``/web/session/authenticate``)
and works through ``/web/dataset/call_kw`` with its own session, as the web
client does, pausing ``--think`` seconds on average between steps:

- a clerk enters an order (two lines, for one of the customers, delivery in
  two to eight weeks), which the addon submits for review by itself (the
  clerk submits it if it did not), and confirms the orders of theirs that a
  reviewer approved;
- a reviewer approves the orders waiting for review, each handed to one
  reviewer (with nothing to approve, they look at the list of waiting orders);
- logistics ship the confirmed orders (carrier, tracking number, quantities,
  validation) and then confirm the customer's signature (with nothing to do,
  they look at the list of deliveries to ship).

The clients remember each order by its customer reference and the last step
they saw succeed. At the end the server is stopped and the database audited
(SQL and ORM): every order a clerk created exists exactly once; an order
whose creation failed exists at most once; each order is at the step its
clients believe; nothing is half-processed (confirmed without an approved
review, a delivery done without carrier and tracking number, a signature on
a delivery not done, a step without its one history event); the history's
hash chains verify. It prints operations per second, p50 and p95 latency and
errors (with a sample message) per kind of operation, the audit's findings,
and what the server logged: serialization failures that Odoo retried, and
errors. The exit status is non-zero when the audit finds a problem.

With ``--servers N``, N such servers share the database and the data folder
(attachments and web sessions), the first one running the scheduled jobs,
and every request goes to any of them, as through a proxy without sticky
sessions: a person logs in on one server and works on all of them.

Clients and server share this machine: the figures are those of the whole.
Known limits: the path stops at the signature (no invoicing or payment);
each order has one delivery; nobody rejects, and a clerk whose confirmation
failed leaves the order approved rather than trying again; logging in (once
per person, before the clock starts) is timed but not part of the rates.

usage: .om/venv/bin/python bench/load_test.py [--users 30] [--duration 300]
       [--workers 4] [--servers 1] [--think 1.0] [--config .om/odoo.conf]
       [--database om_bench_load] [--template DB] [--keep-database]
"""

import argparse
import contextlib
import logging
import os
import queue
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests
from common import REPO, create_database, drop_database, update_module

import odoo
from odoo import SUPERUSER_ID, api
from odoo.fields import Command
from odoo.tools import config

_logger = logging.getLogger("load_test")

MODULES = "order_management"
CUSTOMERS = 20
PRODUCTS = 20

# Share of the people per role; logistics get the rest.
ROLE_SHARES = {"clerk": 0.5, "reviewer": 0.25}
ROLE_GROUPS = {
    "clerk": "order_management.group_order_clerk",
    "reviewer": "order_management.group_order_reviewer",
    "logistics": "order_management.group_order_logistics",
}

# The steps an order goes through, in order; the clients' belief is one.
STEPS = ["entered", "approved", "confirmed", "shipped", "signed"]

# Long enough for a request that waits behind the others on a busy machine,
# shorter than never: the workers' own real-time limit is 240 s.
REQUEST_TIMEOUT = 300


# ---------------------------------------------------------------- server --


def free_port():
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_config(workers, directory, number):
    """Write the configuration of prefork server ``number`` on free local ports.

    All servers share the database and the data folder (attachments and
    sessions); the first one runs the scheduled jobs.

    :return: (path of the configuration, HTTP port)
    """
    http_port = free_port()
    options = {
        "db_host": config["db_host"],
        "db_port": config["db_port"],
        "db_user": config["db_user"],
        "db_password": config["db_password"],
        "addons_path": config["addons_path"],
        "data_dir": config["data_dir"],
        "admin_passwd": config["admin_passwd"],
        "http_interface": "127.0.0.1",
        "http_port": http_port,
        "gevent_port": free_port(),
        "list_db": False,
        "proxy_mode": False,
        "workers": workers,
        "max_cron_threads": 1 if number == 0 else 0,
        # The limits ./om run --workers writes.
        "limit_memory_soft": 1024**3,
        "limit_memory_hard": 1536 * 1024**2,
        "limit_time_cpu": 120,
        "limit_time_real": 240,
        "limit_time_real_cron": 3600,
    }
    path = Path(directory) / f"odoo-load-{number}.conf"
    lines = ["[options]"] + [f"{key} = {value}" for key, value in options.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, http_port


def start_server(conf, dbname, logfile):
    command = [
        sys.executable,
        str(Path(odoo.__file__).parent.parent / "odoo-bin"),
        "-c",
        str(conf),
        "-d",
        dbname,
        f"--db-filter=^{dbname}$",
        f"--logfile={logfile}",
        "--log-level=warn",
        # Odoo says here when it retries a serialization failure.
        "--log-handler=odoo.service.model:INFO",
    ]
    return subprocess.Popen(command, stdin=subprocess.DEVNULL)


def wait_until_up(server, url, timeout=180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server stopped at start ({server.returncode})")
        with contextlib.suppress(requests.RequestException):
            if requests.get(f"{url}/web/health", timeout=5).status_code == 200:
                return
        time.sleep(1)
    raise RuntimeError(f"the server did not answer within {timeout} s")


def stop_server(server):
    server.terminate()
    try:
        server.wait(timeout=60)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def server_log_summary(logfiles):
    """Count the retried serialization failures and the errors the server logged.

    Odoo logs the query of a serialization failure as an error before it
    retries the request: those are counted apart from the other errors.
    """
    text = "\n".join(
        Path(logfile).read_text(encoding="utf-8", errors="replace")
        for logfile in logfiles
    )
    retries = Counter(
        re.findall(r"INFO \S+ odoo\.service\.model: (\w+), \d+ tries", text)
    )
    exhausted = len(re.findall(r"maximum number of tries reached", text))
    errors = []
    conflicts = Counter()
    for entry in re.split(r"\n(?=\d{4}-\d\d-\d\d )", text):
        if " ERROR " not in entry.split("\n", 1)[0]:
            continue
        table = re.search(
            r"bad query: b?'\s*(?:UPDATE|INSERT INTO|DELETE FROM)\s+\"?(\w+)", entry
        )
        if table and "could not serialize access" in entry:
            conflicts[table.group(1)] += 1
        else:
            errors.append(entry.split("\n", 1)[0])
    return retries, exhausted, conflicts, errors


# -------------------------------------------------------------- database --


def prepare_database(args):
    """Copy the template (making it first if needed) and add the master data.

    :return: {role: [(login, password)]}, the carrier's id
    """
    if not odoo.service.db.exp_db_exist(args.template):
        _logger.info("creating the template %s (once)", args.template)
        try:
            create_database(args.config, args.template, MODULES)
        except Exception:
            drop_database(args.config, args.template)
            raise
    drop_database(args.config, args.database)
    _logger.info("copying %s to %s", args.template, args.database)
    odoo.service.db.exp_duplicate_database(args.template, args.database)
    # A template kept from an earlier run may hold an older addon: its tables,
    # sequences and views are brought to the code under test.
    _logger.info("updating order_management in %s", args.database)
    update_module(args.config, args.database)

    registry = odoo.modules.registry.Registry(args.database)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
        people = create_people(env, args.users)
        carrier = create_master_data(env)
        # Nightly jobs, and this copy has no backup key: they would only fail.
        for xmlid in ("ir_cron_order_backup", "ir_cron_order_restore_drill"):
            env.ref(f"order_management.{xmlid}").active = False
    odoo.sql_db.close_db(args.database)
    return people, carrier


def role_counts(users):
    clerks = max(1, round(users * ROLE_SHARES["clerk"]))
    reviewers = max(1, round(users * ROLE_SHARES["reviewer"]))
    logistics = max(1, users - clerks - reviewers)
    return {"clerk": clerks, "reviewer": reviewers, "logistics": logistics}


def create_people(env, users):
    """One account per simulated person, with only their role's group."""
    people = defaultdict(list)
    for role, count in role_counts(users).items():
        groups = [env.ref("base.group_user").id, env.ref(ROLE_GROUPS[role]).id]
        for index in range(1, count + 1):
            login = f"load_{role}_{index:02d}"
            password = f"{login}-password"
            env["res.users"].create(
                {
                    "name": f"Load {role.title()} {index:02d}",
                    "login": login,
                    "email": f"{login}@example.com",
                    "password": password,
                    "groups_id": [Command.set(groups)],
                }
            )
            people[role].append((login, password))
    return people


def create_master_data(env):
    country = env.ref("base.cn")
    env["res.partner"].create(
        [
            {
                "name": f"Load Customer {index:02d}",
                "ref": f"LOADC{index:02d}",
                "street": f"{index} Harbour Road",
                "city": "Ningbo",
                "zip": "315000",
                "country_id": country.id,
                "email": f"load.customer.{index:02d}@example.com",
            }
            for index in range(1, CUSTOMERS + 1)
        ]
    )
    env["product.product"].create(
        [
            {
                "name": f"Load Part {index:02d}",
                "default_code": f"LOADP{index:02d}",
                "type": "consu",
                "list_price": 5.0 + index,
            }
            for index in range(1, PRODUCTS + 1)
        ]
    )
    freight = env["product.product"].create(
        {"name": "Load Freight", "type": "service", "list_price": 0.0}
    )
    carrier = env["delivery.carrier"].create(
        {
            "name": "Load Freight",
            "delivery_type": "fixed",
            "fixed_price": 0.0,
            "product_id": freight.id,
        }
    )
    return carrier.id


# --------------------------------------------------------------- clients --


class RpcError(Exception):
    """What the server answered instead of a result."""


class Client:
    """One person's session on the server."""

    def __init__(self, urls, dbname, login, password):
        self.requests = 0
        self.urls = urls
        self.dbname = dbname
        self.login = login
        self.password = password
        self.http = requests.Session()

    def _post(self, path, params):
        self.requests += 1
        # Any server, as a proxy without sticky sessions would choose.
        response = self.http.post(
            f"{random.choice(self.urls)}{path}",
            json={"jsonrpc": "2.0", "method": "call", "id": 1, "params": params},
            timeout=REQUEST_TIMEOUT,
        )
        response.raise_for_status()
        answer = response.json()
        if "error" in answer:
            error = answer["error"]
            data = error.get("data") or {}
            raise RpcError(f"{data.get('name', '')}: {data.get('message', error)}")
        return answer["result"]

    def authenticate(self):
        self._post(
            "/web/session/authenticate",
            {"db": self.dbname, "login": self.login, "password": self.password},
        )

    def call(self, model, method, *args, **kwargs):
        return self._post(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        )


class Run:
    """What the clients share: work queues, measures and beliefs."""

    def __init__(self, urls, dbname, people, carrier, think, tag):
        self.urls = urls
        self.dbname = dbname
        self.people = people
        self.carrier = carrier
        self.think = think
        self.tag = tag
        self.lock = threading.Lock()
        self.to_review = queue.Queue()
        self.to_confirm = {login: queue.Queue() for login, _ in people["clerk"]}
        self.to_ship = queue.Queue()
        self.to_sign = queue.Queue()
        self.latencies = defaultdict(list)
        self.errors = defaultdict(list)
        # {customer reference: (order id, last step seen succeeding)}
        self.orders = {}
        # References whose creation failed: the order may or may not exist.
        self.uncertain = set()
        self.start_gate = threading.Barrier(sum(len(p) for p in people.values()) + 1)
        self.end = None
        self.requests = 0
        self.load = []
        self.partners = []
        self.products = []

    def measure(self, kind, function, *args):
        """Run one operation; keep its latency, or its error."""
        start = time.perf_counter()
        try:
            result = function(*args)
        except Exception as error:  # noqa: BLE001 - every failure is counted
            with self.lock:
                self.errors[kind].append(str(error)[:300])
            return None, False
        with self.lock:
            self.latencies[kind].append(time.perf_counter() - start)
        return result, True

    def believe(self, ref, order_id, step):
        with self.lock:
            self.orders[ref] = (order_id, step)

    def pause(self, factor=1.0):
        time.sleep(random.uniform(0.5, 1.5) * self.think * factor)

    def running(self):
        return time.monotonic() < self.end


def person(run, role, login, password):
    client = Client(run.urls, run.dbname, login, password)
    _, ok = run.measure("login", client.authenticate)
    run.start_gate.wait()
    if not ok:
        return
    work = {"clerk": clerk, "reviewer": reviewer, "logistics": logistics}[role]
    client.requests = 0
    work(run, client)
    with run.lock:
        run.requests += client.requests


def clerk(run, client):
    sequence = 0
    while run.running():
        try:
            order_id, ref = run.to_confirm[client.login].get_nowait()
        except queue.Empty:
            sequence += 1
            ref = f"LOAD-{run.tag}-{client.login[-2:]}-{sequence:05d}"
            order_id, ok = run.measure("enter", enter_order, run, client, ref)
            if ok:
                run.believe(ref, order_id, "entered")
                run.to_review.put((order_id, ref, client.login))
            else:
                with run.lock:
                    run.uncertain.add(ref)
        else:
            _, ok = run.measure(
                "confirm", client.call, "sale.order", "action_confirm", [order_id]
            )
            if ok:
                run.believe(ref, order_id, "confirmed")
                run.to_ship.put((order_id, ref))
        run.pause()


def enter_order(run, client, ref):
    """Create an order as a clerk types it, and see it sent to review."""
    number = int(ref.rsplit("-", 1)[1]) + 7919 * int(ref.split("-")[2])
    first, second = random.sample(run.products, 2)
    delivery = datetime.now() + timedelta(days=14 + number % 42)
    order_id = client.call(
        "sale.order",
        "create",
        {
            "partner_id": random.choice(run.partners),
            "client_order_ref": ref,
            "commitment_date": delivery.strftime("%Y-%m-%d %H:%M:%S"),
            "order_line": [
                (0, 0, {"product_id": first, "product_uom_qty": 1 + number % 97}),
                (0, 0, {"product_id": second, "product_uom_qty": 1 + number % 89}),
            ],
        },
    )
    [order] = client.call("sale.order", "read", [order_id], ["review_state"])
    if order["review_state"] == "draft":
        client.call("sale.order", "action_submit_for_review", [order_id])
        [order] = client.call("sale.order", "read", [order_id], ["review_state"])
    if order["review_state"] != "waiting":
        raise RpcError(f"{ref} is {order['review_state']}, not waiting for review")
    return order_id


def reviewer(run, client):
    while run.running():
        try:
            order_id, ref, clerk_login = run.to_review.get_nowait()
        except queue.Empty:
            run.measure("list waiting", list_waiting, client)
            run.pause()
            continue
        _, ok = run.measure(
            "approve", client.call, "sale.order", "action_approve", [order_id]
        )
        if ok:
            run.believe(ref, order_id, "approved")
            run.to_confirm[clerk_login].put((order_id, ref))
        run.pause()


def list_waiting(client):
    return client.call(
        "sale.order",
        "search_read",
        [("review_state", "=", "waiting")],
        ["name", "partner_id", "amount_total", "commitment_date"],
        limit=80,
    )


def logistics(run, client):
    while run.running():
        try:
            order_id, ref, picking_ids = run.to_sign.get_nowait()
        except queue.Empty:
            try:
                order_id, ref = run.to_ship.get_nowait()
            except queue.Empty:
                run.measure("list to ship", list_to_ship, client)
                run.pause()
                continue
            picking_ids, ok = run.measure("ship", ship, run, client, order_id)
            if ok:
                run.believe(ref, order_id, "shipped")
                run.to_sign.put((order_id, ref, picking_ids))
        else:
            _, ok = run.measure("sign", sign, client, picking_ids)
            if ok:
                run.believe(ref, order_id, "signed")
        run.pause()


def list_to_ship(client):
    return client.call(
        "stock.picking",
        "search_read",
        [("picking_type_code", "=", "outgoing"), ("state", "=", "assigned")],
        ["name", "partner_id", "scheduled_date", "origin"],
        limit=80,
    )


def ship(run, client, order_id):
    """Give the order's delivery its carrier and tracking number, and validate."""
    pickings = client.call(
        "stock.picking",
        "search_read",
        [("sale_id", "=", order_id), ("state", "not in", ["done", "cancel"])],
        ["move_ids"],
    )
    picking_ids = [picking["id"] for picking in pickings]
    client.call(
        "stock.picking",
        "write",
        picking_ids,
        {"carrier_id": run.carrier, "carrier_tracking_ref": f"LT{order_id:010d}"},
    )
    move_ids = [move for picking in pickings for move in picking["move_ids"]]
    for move in client.call("stock.move", "read", move_ids, ["product_uom_qty"]):
        client.call(
            "stock.move", "write", [move["id"]], {"quantity": move["product_uom_qty"]}
        )
    result = client.call(
        "stock.picking",
        "button_validate",
        picking_ids,
        context={"skip_sms": True, "skip_backorder": True},
    )
    if result is not True:
        raise RpcError(f"validation asked for more: {result}")
    return picking_ids


def sign(client, picking_ids):
    client.call("stock.picking", "write", picking_ids, {"signed_by": "Load Receiver"})
    client.call("stock.picking", "action_confirm_signature", picking_ids)


def drive(run, duration):
    """Start every person, let them work ``duration`` seconds, wait for them."""
    with odoo.modules.registry.Registry(run.dbname).cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        run.partners = env["res.partner"].search([("ref", "like", "LOADC")]).ids
        products = env["product.product"].search([("default_code", "like", "LOADP")])
        run.products = products.ids
    odoo.sql_db.close_db(run.dbname)

    threads = [
        threading.Thread(target=person, args=(run, role, login, password))
        for role, people in run.people.items()
        for login, password in people
    ]
    run.end = time.monotonic() + 3600  # set for real once everyone logged in
    for thread in threads:
        thread.start()
    run.start_gate.wait()
    start = time.monotonic()
    run.end = start + duration
    run.load = [os.getloadavg()[0]]
    _logger.info("%s people at work for %s s", len(threads), duration)
    for thread in threads:
        thread.join()
    run.load.append(os.getloadavg()[0])
    return time.monotonic() - start


# ----------------------------------------------------------------- audit --


def audit(run):
    """Compare the database with what the clients believe; return the problems."""
    problems = []
    registry = odoo.modules.registry.Registry(run.dbname)
    with registry.cursor() as cr:
        cr.execute(
            """
            SELECT o.client_order_ref, count(*), min(o.id), min(o.state),
                   min(o.review_state), min(o.shipment_state)
              FROM sale_order o
             WHERE o.client_order_ref LIKE %s
             GROUP BY o.client_order_ref
            """,
            [f"LOAD-{run.tag}-%"],
        )
        found = {row[0]: row[1:] for row in cr.fetchall()}
        expected = {
            "entered": ("draft", "waiting", "none"),
            "approved": ("draft", "approved", "none"),
            "confirmed": ("sale", "approved", "to_ship"),
            "shipped": ("sale", "approved", "shipped"),
            "signed": ("sale", "approved", "signed"),
        }
        for ref, (order_id, step) in run.orders.items():
            if ref not in found:
                problems.append(f"{ref}: created (id {order_id}) but missing")
                continue
            count, found_id, *states = found[ref]
            if count != 1:
                problems.append(f"{ref}: {count} orders")
            if found_id != order_id:
                problems.append(f"{ref}: id {found_id}, the client saw {order_id}")
            if tuple(states) != expected[step]:
                problems.append(f"{ref}: {states}, the client saw it {step}")
        for ref in run.uncertain:
            if found.get(ref, (0,))[0] > 1:
                problems.append(f"{ref}: creation failed, yet {found[ref][0]} orders")
        unknown = set(found) - set(run.orders) - run.uncertain
        problems += [f"{ref}: exists, no client entered it" for ref in sorted(unknown)]
        problems += half_processed(cr, run.tag)

        problems += chain_problems(cr, api.Environment(cr, SUPERUSER_ID, {}))
        counts = Counter(step for _id, step in run.orders.values())
    odoo.sql_db.close_db(run.dbname)
    return problems, counts, found


def chain_problems(cr, env):
    """Forks of the history's hash chains, then the addon's own verification.

    A fork is two events that follow the same one: two transactions appended
    to a chain at the same time, each unaware of the other's event.
    """
    cr.execute(
        """
        SELECT order_id IS NOT NULL, count(*), min(ids[2])
          FROM (SELECT order_id, array_agg(id ORDER BY id) AS ids
                  FROM order_audit_event
                 WHERE hash IS NOT NULL
                 GROUP BY COALESCE(order_id, 0), order_id, previous_hash
                HAVING count(*) > 1) AS forks
         GROUP BY 1
        """
    )
    problems = [
        f"{count} forks in the history of "
        f"{'orders' if of_orders else 'events without an order'}"
        f" (the first at event {first})"
        for of_orders, count, first in cr.fetchall()
    ]
    broken = env["order.audit.event"]._verify_chain()
    if broken:
        problems.append(f"the history's verification stops at event {broken.id}")
    return problems


def half_processed(cr, tag):
    """Orders of this run in a state no complete step leaves behind."""
    checks = {
        "confirmed without an approved review": """
            SELECT o.client_order_ref FROM sale_order o
             WHERE o.state = 'sale' AND (
                   o.review_state != 'approved' OR o.review_fingerprint IS NULL
                   OR NOT EXISTS (SELECT 1 FROM sale_order_review r
                                   WHERE r.order_id = o.id
                                     AND r.decision = 'approved'))
        """,
        "delivery done without carrier or tracking number": """
            SELECT o.client_order_ref FROM sale_order o
              JOIN stock_picking p ON p.sale_id = o.id
             WHERE p.state = 'done'
               AND (p.carrier_id IS NULL OR p.carrier_tracking_ref IS NULL)
        """,
        "signed, yet not done or without a name": """
            SELECT o.client_order_ref FROM sale_order o
              JOIN stock_picking p ON p.sale_id = o.id
             WHERE p.shipment_state = 'signed'
               AND (p.state != 'done' OR coalesce(trim(p.signed_by), '') = '')
        """,
        "order's shipment state behind its delivery": """
            SELECT o.client_order_ref FROM sale_order o
              JOIN stock_picking p ON p.sale_id = o.id
             WHERE p.state = 'done'
               AND p.shipment_state IS DISTINCT FROM o.shipment_state
        """,
    }
    # Each step leaves one transition event: (event, the order's condition).
    events = {
        "submit": "o.review_state IN ('waiting', 'approved')",
        "approve": "o.review_state = 'approved'",
        "confirm": "o.state = 'sale'",
        "ship": "o.shipment_state IN ('shipped', 'signed')",
        "sign": "o.shipment_state = 'signed'",
    }
    for event, condition in events.items():
        checks[f"not exactly one '{event}' event"] = f"""
            SELECT o.client_order_ref FROM sale_order o
             WHERE {condition}
               AND (SELECT count(*) FROM order_audit_event e
                     WHERE e.order_id = o.id AND e.event = '{event}') != 1
        """
    problems = []
    for name, query in checks.items():
        cr.execute(
            f"SELECT client_order_ref FROM ({query}) q WHERE client_order_ref LIKE %s",
            [f"LOAD-{tag}-%"],
        )
        refs = sorted({row[0] for row in cr.fetchall()})
        if refs:
            problems.append(f"{name}: {len(refs)} orders, e.g. {refs[:3]}")
    return problems


# ---------------------------------------------------------------- report --


def percentile(values, share):
    values = sorted(values)
    return values[min(len(values) - 1, int(share * len(values)))]


def report(run, args, elapsed, problems, counts, logged):
    retries, exhausted, conflicts, server_errors = logged
    people = ", ".join(f"{len(p)} {role}" for role, p in run.people.items())
    print(
        f"\nload test {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC: "
        f"{args.users} people "
        f"({people}), {args.servers} server(s) of {args.workers} workers, "
        f"think {args.think} s, "
        f"{elapsed:.0f} s"
    )
    print(
        f"{'operation':16}{'count':>8}{'per s':>8}{'p50 s':>8}{'p95 s':>8}"
        f"{'errors':>8}"
    )
    print(f"{'(HTTP requests)':16}{run.requests:8}{run.requests / elapsed:8.2f}")
    kinds = sorted(set(run.latencies) | set(run.errors))
    for kind in kinds:
        latencies = run.latencies.get(kind, [])
        # Everyone logs in once, before the clock starts.
        per_second = len(latencies) / elapsed if kind != "login" else 0
        p50 = statistics.median(latencies) if latencies else 0
        p95 = percentile(latencies, 0.95) if latencies else 0
        print(
            f"{kind:16}{len(latencies):8}{per_second:8.2f}{p50:8.3f}{p95:8.3f}"
            f"{len(run.errors.get(kind, [])):8}"
        )
    for kind, messages in sorted(run.errors.items()):
        print(f"errors in {kind}: {len(messages)}, e.g. {messages[0]}")
    print(
        "orders by the step the clients saw last: "
        + ", ".join(f"{step} {counts.get(step, 0)}" for step in STEPS)
        + f"; creation failed: {len(run.uncertain)}"
    )
    print(
        f"server: {sum(retries.values())} requests retried ({dict(retries)}), "
        f"{exhausted} out of tries; serialization failures by table: "
        f"{dict(conflicts)}; {len(server_errors)} other errors logged"
    )
    for line in server_errors[:3]:
        print(f"  {line[:200]}")
    print(
        f"load average (1 min) at start and end: {run.load[0]:.1f}, {run.load[1]:.1f}"
    )
    if problems:
        print(f"audit: {len(problems)} problems")
        for problem in problems[:20]:
            print(f"  {problem}")
    else:
        print(
            f"audit: all {len(run.orders)} orders exist once, at the step their "
            "clients saw, none half-processed; history chains verified"
        )


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=30)
    parser.add_argument("--duration", type=float, default=300)
    parser.add_argument("--workers", type=int, default=4, help="per server")
    parser.add_argument(
        "--servers",
        type=int,
        default=1,
        help="Odoo servers sharing the database and data folder; each request "
        "goes to any of them",
    )
    parser.add_argument(
        "--think", type=float, default=1.0, help="mean pause between steps, seconds"
    )
    parser.add_argument("--config", default=str(REPO / ".om" / "odoo.conf"))
    parser.add_argument("--database", default="om_bench_load")
    parser.add_argument("--template", help="default: the database's name + _template")
    parser.add_argument("--keep-database", action="store_true")
    args = parser.parse_args(argv)
    args.template = args.template or f"{args.database}_template"
    if args.users < 3:
        parser.error("--users: at least one person per role (3)")

    config.parse_config(["-c", args.config, "--log-level=warn"], setup_logging=True)
    _logger.setLevel(logging.INFO)
    config["list_db"] = True

    people, carrier = prepare_database(args)
    directory = tempfile.mkdtemp(prefix="om-load-")
    servers, urls, logfiles = [], [], []
    try:
        for number in range(args.servers):
            conf, port = server_config(args.workers, directory, number)
            logfiles.append(Path(directory) / f"server-{number}.log")
            servers.append(start_server(conf, args.database, logfiles[-1]))
            urls.append(f"http://127.0.0.1:{port}")
        for server, url in zip(servers, urls, strict=True):
            wait_until_up(server, url)
        _logger.info("servers up at %s, %s workers each", urls, args.workers)
        tag = f"{int(time.time())}"
        run = Run(urls, args.database, people, carrier, args.think, tag)
        elapsed = drive(run, args.duration)
    finally:
        for server in servers:
            stop_server(server)
    logged = server_log_summary(logfiles)
    problems, counts, _found = audit(run)
    report(run, args, elapsed, problems, counts, logged)
    print(f"server logs: {directory}")
    if not args.keep_database:
        drop_database(args.config, args.database)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
