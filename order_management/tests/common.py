import itertools
from datetime import timedelta

from odoo import fields
from odoo.fields import Command
from odoo.tests import TransactionCase, new_test_user
from odoo.tools import SQL

from odoo.addons.base.tests.common import DISABLED_MAIL_CONTEXT

ROLE_GROUPS = {
    "clerk": "base.group_user,order_management.group_order_clerk",
    "clerk2": "base.group_user,order_management.group_order_clerk",
    "reviewer": "base.group_user,order_management.group_order_reviewer",
    "reviewer2": "base.group_user,order_management.group_order_reviewer",
    "logistics": "base.group_user,order_management.group_order_logistics",
    "finance": "base.group_user,order_management.group_order_finance",
    "manager": "base.group_user,order_management.group_order_manager",
    "salesman": "base.group_user,sales_team.group_sale_salesman",
    "auditor": "base.group_user,order_management.group_order_auditor",
}


def behind_triggers(cr, table, query, params=None):
    """Run ``query`` on ``table`` as someone who switched its triggers off.

    The audit tables refuse changes down to the database: tests that tamper
    with them, or clean up after committing, go around that guard this way.
    """
    cr.execute(SQL("ALTER TABLE %s DISABLE TRIGGER USER", SQL.identifier(table)))
    cr.execute(query, params)
    cr.execute(SQL("ALTER TABLE %s ENABLE TRIGGER USER", SQL.identifier(table)))


class OrderManagementCommon(TransactionCase):
    """Users per role, a customer, products and a carrier, built once."""

    _days = itertools.count()

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, **DISABLED_MAIL_CONTEXT))

        cls.users = {
            # One email per person: users may not share one.
            role: new_test_user(
                cls.env,
                login=f"om_test_{role}",
                email=f"om_test_{role}@example.com",
                groups=groups,
            )
            for role, groups in ROLE_GROUPS.items()
        }
        cls.clerk = cls.users["clerk"]
        cls.reviewer = cls.users["reviewer"]
        cls.logistics = cls.users["logistics"]
        cls.finance = cls.users["finance"]
        cls.manager = cls.users["manager"]
        cls.auditor = cls.users["auditor"]

        cls.customer = cls.env["res.partner"].create(
            {
                "name": "Harbour Trading Ltd",
                "street": "8 Quay Street",
                "city": "Ningbo",
                "country_id": cls.env.ref("base.cn").id,
                "email": "orders@harbour.example.com",
            }
        )
        cls.product = cls.env["product.product"].create(
            {
                "name": "Steel bracket",
                "default_code": "OM-BRACKET",
                "type": "consu",
                "is_storable": True,
                "list_price": 12.5,
                "invoice_policy": "delivery",
                "taxes_id": [Command.clear()],
            }
        )
        cls.other_product = cls.env["product.product"].create(
            {
                "name": "Hinge",
                "default_code": "OM-HINGE",
                "type": "consu",
                "is_storable": True,
                "list_price": 3.0,
                "invoice_policy": "delivery",
                "taxes_id": [Command.clear()],
            }
        )
        stock = cls.env.ref("stock.stock_location_stock")
        for product in cls.product + cls.other_product:
            cls.env["stock.quant"]._update_available_quantity(product, stock, 1000)

        carrier_product = cls.env["product.product"].create(
            {"name": "Road freight", "type": "service", "list_price": 0.0}
        )
        cls.carrier = cls.env["delivery.carrier"].create(
            {
                "name": "Road Freight",
                "delivery_type": "fixed",
                "product_id": carrier_product.id,
                "fixed_price": 0.0,
            }
        )

    # --------------------------------------------------------- factories --

    @classmethod
    def _create_order(cls, user=None, quantity=4, **values):
        """Enter an order as ``user`` (the clerk by default)."""
        user = user or cls.clerk
        vals = {
            "partner_id": cls.customer.id,
            "user_id": user.id,
            # A day of its own: identical lines due the same day are duplicates.
            "commitment_date": fields.Datetime.now()
            + timedelta(days=14 + next(cls._days)),
            "order_line": [
                Command.create(
                    {"product_id": cls.product.id, "product_uom_qty": quantity}
                )
            ],
        }
        vals.update(values)
        return cls.env["sale.order"].with_user(user).create(vals)

    @classmethod
    def _approved_order(cls, **values):
        order = cls._create_order(**values)
        order.with_user(cls.reviewer).action_approve()
        return order

    @classmethod
    def _confirmed_order(cls, **values):
        order = cls._approved_order(**values)
        order.with_user(cls.clerk).action_confirm()
        return order

    @classmethod
    def _ship(cls, order, tracking="1Z999AA10123456784"):
        """Ship every delivery of ``order`` as logistics."""
        pickings = order.picking_ids.with_user(cls.logistics)
        pickings.write({"carrier_id": cls.carrier.id, "carrier_tracking_ref": tracking})
        for picking in pickings:
            for move in picking.move_ids:
                move.quantity = move.product_uom_qty
            picking.button_validate()
        return pickings

    @classmethod
    def _sign(cls, order, signed_by="Wei Zhang"):
        pickings = order.picking_ids.with_user(cls.logistics)
        pickings.write({"signed_by": signed_by})
        pickings.action_confirm_signature()
        return pickings

    @classmethod
    def _invoice(cls, order):
        """Invoice ``order`` and post the invoice as finance."""
        invoice = order.with_user(cls.finance)._create_invoices()
        invoice.with_user(cls.finance).action_post()
        return invoice

    @classmethod
    def _pay(cls, invoice):
        wizard = (
            cls.env["account.payment.register"]
            .with_user(cls.finance)
            .with_context(active_model="account.move", active_ids=invoice.ids)
            .create({})
        )
        return wizard._create_payments()

    def _events(self, order):
        """The order's transitions, oldest first (its data changes left out)."""
        return [
            (event.event, event.from_state, event.to_state)
            for event in order.audit_event_ids.sorted("id")
            if event.stage != "data"
        ]
