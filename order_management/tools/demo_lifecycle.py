"""Fill a demo database with TPC-H orders spread over the whole order path.

Used by ``./om run`` once, on a database installed with demo data: the demo
users of each role take the steps, so every order's history reads as if
people had done the work.
"""

import logging
from datetime import timedelta

from odoo import fields

_logger = logging.getLogger(__name__)

# Share of the imported orders left at each step, in path order.
STEP_SHARES = [
    ("waiting", 0.10),
    ("held", 0.05),
    ("rejected", 0.10),
    ("resubmitted", 0.05),
    ("approved", 0.10),
    ("confirmed", 0.15),
    ("shipped", 0.10),
    ("signed", 0.10),
    ("invoiced", 0.10),
    ("completed", 0.15),
]

# (reason code, explanation) of the demo's rejections.
REJECTION_REASONS = [
    ("rejection_reason_price", "Unit price is below the customer's agreed price list."),
    (
        "rejection_reason_address",
        "Delivery date is too early for the quantity ordered.",
    ),
    (
        "rejection_reason_address",
        "Delivery address is incomplete: the postcode is missing.",
    ),
    (
        "rejection_reason_quantity",
        "Customer asked to split the order; enter two orders.",
    ),
]

# One order in PORTAL_EVERY goes to the demo portal customer.
PORTAL_EVERY = 20

CARRIERS = ["SF Express", "China Post EMS", "DHL Express", "ZTO Express"]


def _demo_user(env, login):
    return env["res.users"].search([("login", "=", login)], limit=1)


def split_by_step(orders):
    """Cut ``orders`` into consecutive slices, one per step of STEP_SHARES."""
    slices = {}
    start = 0
    for index, (step, share) in enumerate(STEP_SHARES):
        last = index == len(STEP_SHARES) - 1
        end = len(orders) if last else start + round(len(orders) * share)
        slices[step] = orders[start:end]
        start = end
    return slices


def load_demo_orders(env, directory, limit=500):
    """Import ``limit`` TPC-H orders from ``directory`` and move them along.

    :param env: an environment of the demo database (superuser is fine)
    :param str directory: where ``tpchgen-cli`` wrote its ``.tbl`` files
    :param int limit: how many orders to import
    :return: the imported orders
    """
    clerk = _demo_user(env, "om_clerk")
    reviewer = _demo_user(env, "om_reviewer")
    logistics = _demo_user(env, "om_logistics")
    finance = _demo_user(env, "om_finance")

    manager = _demo_user(env, "om_manager")

    # Products are master data: the manager creates them, the clerk orders.
    # Reading tables on the server's disk takes the administrator's rights
    # (sudo); the records are still made by, and in the name of, each person.
    importer = env["order.importer"]
    importer.with_user(manager).sudo().import_tpch_master_data(directory, limit=limit)
    orders = (
        importer.with_user(clerk)
        .sudo()
        .import_tpch(directory, limit=limit, rebase_to=fields.Date.context_today(clerk))
    )
    orders = orders.with_env(env).sorted("id")
    _logger.info("demo: %s TPC-H orders imported", len(orders))

    # Some orders belong to the demo portal customer, at every step.
    portal_customer = _demo_user(env, "om_portal").partner_id
    if portal_customer:
        for order in orders[::PORTAL_EVERY]:
            order.with_user(clerk).write(
                {
                    "partner_id": portal_customer.id,
                    "partner_invoice_id": portal_customer.id,
                    "partner_shipping_id": portal_customer.id,
                }
            )
    steps = split_by_step(orders)

    # 1. Review: some rejected, some corrected and sent again, most approved.
    to_reject = steps["rejected"] | steps["resubmitted"]
    for index, order in enumerate(to_reject):
        code, reason = REJECTION_REASONS[index % len(REJECTION_REASONS)]
        reason_id = env.ref(f"order_management.{code}").id
        order.with_user(reviewer).action_reject(reason, reason_id)

    # Some orders are changed to a delivery date already past: the checks hold them.
    for order in steps["held"]:
        order.with_user(clerk).commitment_date = fields.Datetime.now() - timedelta(
            days=2
        )
    for order in steps["resubmitted"]:
        line = order.order_line[:1].with_user(clerk)
        line.product_uom_qty = max(1, round(line.product_uom_qty / 2))
        order.with_user(clerk).action_submit_for_review()

    confirmed_steps = ("confirmed", "shipped", "signed", "invoiced", "completed")
    approved = steps["approved"].browse()
    for step in ("approved",) + confirmed_steps:
        approved |= steps[step]
    approved.with_user(reviewer).action_approve()
    # Large orders need a second look, by the manager.
    second_level = approved.filtered(lambda o: o.review_state == "waiting")
    second_level.with_user(manager).action_approve()

    # 2. Confirmation by the clerk who entered them.
    confirmed = approved - steps["approved"]
    confirmed.with_user(clerk).action_confirm()

    # 3. Shipping with a carrier and a tracking number, then signatures.
    shipped = confirmed - steps["confirmed"]
    carriers = _demo_carriers(env)
    for index, order in enumerate(shipped):
        pickings = order.picking_ids.with_user(logistics)
        pickings.write(
            {
                "carrier_id": carriers[index % len(carriers)].id,
                "carrier_tracking_ref": f"OM{order.id:010d}",
            }
        )
        for move in pickings.move_ids:
            move.quantity = move.product_uom_qty
        # A demo has no SMS account: skip the "text the customer?" question.
        pickings.with_context(skip_sms=True).button_validate()

    # Every other shipment still on the road is reported in transit; one of
    # them is late, and its customer has been told.
    on_the_road = steps["shipped"].picking_ids.filtered(lambda p: p.state == "done")
    on_the_road[::2].with_user(logistics).action_mark_in_transit()
    late = steps["shipped"][:1]
    if late:
        env["order.incident"].with_user(logistics).create(
            {
                "order_id": late.id,
                "picking_id": late.picking_ids[:1].id,
                "incident_type": "delay",
                "description": "The truck is held at the regional hub by the weather.",
                "handling": "Customer called; new delivery day agreed.",
                "responsible_id": logistics.id,
                "deadline": fields.Date.today() + timedelta(days=2),
            }
        )

    signed = shipped - steps["shipped"]
    signed[::2].picking_ids.with_user(logistics).action_mark_delivered()
    for order in signed:
        pickings = order.picking_ids.with_user(logistics)
        pickings.write({"signed_by": order.partner_id.name})
        pickings.action_confirm_signature()

    # 4. Finance: invoice, post, and collect the oldest ones.
    invoiced = signed - steps["signed"]
    invoices = invoiced.with_user(finance)._create_invoices(grouped=True)
    invoices.action_post()
    paid_invoices = steps["completed"].invoice_ids.filtered(
        lambda m: m.state == "posted"
    )
    if paid_invoices:
        env["account.payment.register"].with_user(finance).with_context(
            active_model="account.move", active_ids=paid_invoices.ids
        ).create({"group_payment": False})._create_payments()

    _logger.info(
        "demo: orders by step: %s",
        ", ".join(f"{step}={len(records)}" for step, records in steps.items()),
    )
    return orders


def _demo_carriers(env):
    """Return one carrier per name of CARRIERS, creating the missing ones."""
    Carrier = env["delivery.carrier"]
    carriers = Carrier.browse()
    for name in CARRIERS:
        carrier = Carrier.search([("name", "=", name)], limit=1)
        if not carrier:
            product = env["product.product"].create(
                {"name": f"Freight: {name}", "type": "service", "list_price": 0.0}
            )
            carrier = Carrier.create(
                {
                    "name": name,
                    "delivery_type": "fixed",
                    "fixed_price": 0.0,
                    "product_id": product.id,
                }
            )
        carriers |= carrier
    return carriers
