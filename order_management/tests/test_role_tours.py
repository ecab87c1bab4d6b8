"""The guided tours of each role, played in headless Chromium.

Each tour is the one a new employee starts from the web client; here it runs
by itself as the role's demo user (who holds only that role's groups), from
data the role would find on its first day, and must leave the order where
the role's work puts it.
"""

from datetime import timedelta

from odoo import fields
from odoo.fields import Command
from odoo.tests import HttpCase, tagged


class RoleTourCommon(HttpCase):
    """A customer, a product in stock and a carrier, known to the tours."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.clerk = cls.env.ref("order_management.user_clerk")
        cls.reviewer = cls.env.ref("order_management.user_reviewer")
        cls.logistics = cls.env.ref("order_management.user_logistics")
        cls.finance = cls.env.ref("order_management.user_finance")

        # The names the tours type when they play by themselves.
        cls.customer = cls.env["res.partner"].create(
            {
                "name": "Tour Harbour Trading",
                "street": "8 Quay Street",
                "city": "Ningbo",
                "country_id": cls.env.ref("base.cn").id,
            }
        )
        cls.product = cls.env["product.product"].create(
            {
                "name": "Tour Steel Bracket",
                "type": "consu",
                "is_storable": True,
                "list_price": 12.5,
                "invoice_policy": "delivery",
                "taxes_id": [Command.clear()],
            }
        )
        cls.env["stock.quant"]._update_available_quantity(
            cls.product, cls.env.ref("stock.stock_location_stock"), 100
        )
        carrier_product = cls.env["product.product"].create(
            {"name": "Tour freight", "type": "service", "list_price": 0.0}
        )
        cls.carrier = cls.env["delivery.carrier"].create(
            {
                "name": "Tour Road Freight",
                "delivery_type": "fixed",
                "fixed_price": 0.0,
                "product_id": carrier_product.id,
            }
        )

    def _entered_order(self):
        """An order the demo clerk entered: it waits for review."""
        return (
            self.env["sale.order"]
            .with_user(self.clerk)
            .create(
                {
                    "partner_id": self.customer.id,
                    "commitment_date": fields.Datetime.now() + timedelta(days=14),
                    "order_line": [
                        Command.create(
                            {"product_id": self.product.id, "product_uom_qty": 5}
                        )
                    ],
                }
            )
        )

    def _confirmed_order(self):
        order = self._entered_order()
        order.with_user(self.reviewer).action_approve()
        order.with_user(self.clerk).action_confirm()
        return order


@tagged("post_install", "-at_install")
class TestClerkTour(RoleTourCommon):
    def test_clerk_enters_an_order(self):
        """The clerk's tour enters an order, which goes to review on saving."""
        self.start_tour("/odoo", "order_management_clerk_tour", login="om_clerk")

        order = self.env["sale.order"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual(len(order), 1)
        self.assertEqual(order.user_id, self.clerk)
        self.assertEqual(order.order_line.product_id, self.product)
        self.assertEqual(order.order_line.product_uom_qty, 5)
        self.assertTrue(order.commitment_date)
        self.assertEqual(order.review_state, "waiting")
        self.assertEqual(order.state, "draft")


@tagged("post_install", "-at_install")
class TestReviewerTour(RoleTourCommon):
    def setUp(self):
        super().setUp()
        self.order = self._entered_order()
        self.assertEqual(self.order.review_state, "waiting")

    def test_reviewer_approves_an_order(self):
        """The reviewer's tour finds the waiting order and approves it."""
        self.start_tour("/odoo", "order_management_reviewer_tour", login="om_reviewer")

        self.assertEqual(self.order.review_state, "approved")
        decision = self.order.order_review_ids.filtered("decision")
        self.assertEqual(decision.decision, "approved")
        self.assertEqual(decision.reviewer_id, self.reviewer)


@tagged("post_install", "-at_install")
class TestLogisticsTour(RoleTourCommon):
    def setUp(self):
        super().setUp()
        self.order = self._confirmed_order()
        self.delivery = self.order.picking_ids
        self.assertEqual(self.delivery.state, "assigned")

    def test_logistics_ships_and_confirms_the_signature(self):
        """The logistics tour ships with carrier and tracking number, then
        confirms who signed."""
        self.start_tour(
            "/odoo", "order_management_logistics_tour", login="om_logistics"
        )

        self.assertEqual(self.delivery.state, "done")
        self.assertEqual(self.delivery.carrier_id, self.carrier)
        self.assertEqual(self.delivery.carrier_tracking_ref, "SF1234567890")
        self.assertEqual(self.delivery.signed_by, "Li Na")
        self.assertEqual(self.delivery.shipment_state, "signed")
        self.assertEqual(self.order.shipment_state, "signed")


@tagged("post_install", "-at_install")
class TestFinanceTour(RoleTourCommon):
    def setUp(self):
        super().setUp()
        self.order = self._confirmed_order()
        delivery = self.order.picking_ids.with_user(self.logistics)
        delivery.write(
            {"carrier_id": self.carrier.id, "carrier_tracking_ref": "SF1234567890"}
        )
        delivery.move_ids.quantity = 5
        delivery.button_validate()
        delivery.signed_by = "Li Na"
        delivery.action_confirm_signature()
        self.assertEqual(self.order.completion_state, "to_invoice")

    def test_finance_invoices_and_collects(self):
        """The finance tour invoices the signed order, posts the invoice and
        registers its payment, which completes the order."""
        self.start_tour("/odoo", "order_management_finance_tour", login="om_finance")

        invoice = self.order.invoice_ids
        self.assertEqual(len(invoice), 1)
        self.assertEqual(invoice.state, "posted")
        self.assertEqual(invoice.amount_total, 62.5)
        self.assertIn(invoice.payment_state, ("paid", "in_payment"))
        self.assertEqual(invoice.create_uid, self.finance)
        self.assertEqual(self.order.completion_state, "completed")
        self.assertTrue(self.order.locked)


@tagged("post_install", "-at_install")
class TestTourOffering(HttpCase):
    """How a new employee comes to their role's tour."""

    ROLE_TOURS = {
        "order_management.user_clerk": "order_management_clerk_tour",
        "order_management.user_reviewer": "order_management_reviewer_tour",
        "order_management.user_logistics": "order_management_logistics_tour",
        "order_management.user_finance": "order_management_finance_tour",
    }

    def _role_tours(self, user):
        tours = self.env["web_tour.tour"].with_user(user)
        return tours.search([("name", "=like", "order_management_%")]).mapped("name")

    def test_each_role_is_offered_its_own_tour(self):
        """Onboarding offers each role its tour first, and no other role's."""
        for xmlid, tour_name in self.ROLE_TOURS.items():
            user = self.env.ref(xmlid)
            with self.subTest(user=user.login):
                self.assertEqual(self._role_tours(user), [tour_name])
                user.tour_enabled = True
                tours = self.env["web_tour.tour"].with_user(user)
                self.assertEqual(tours.get_current_tour()["name"], tour_name)

                offered_next = tours.consume(tour_name)

                self.assertNotIn(
                    offered_next and offered_next["name"],
                    set(self.ROLE_TOURS.values()),
                )

        manager = self.env.ref("order_management.user_manager")
        self.assertEqual(
            sorted(self._role_tours(manager)), sorted(self.ROLE_TOURS.values())
        )

    def test_each_role_starts_its_tour_from_a_menu(self):
        """A menu of the role's own app opens the link that starts its tour;
        the other roles' tour menus stay hidden."""
        menu_of_tour = {
            "order_management_clerk_tour": "order_management.tour_menu_clerk",
            "order_management_reviewer_tour": "order_management.tour_menu_reviewer",
            "order_management_logistics_tour": "order_management.tour_menu_logistics",
            "order_management_finance_tour": "order_management.tour_menu_finance",
        }
        for xmlid, tour_name in self.ROLE_TOURS.items():
            user = self.env.ref(xmlid)
            with self.subTest(user=user.login):
                menus = self.env["ir.ui.menu"].with_user(user).load_menus(False)
                visible = {menu.get("xmlid") for menu in menus.values()}
                tour_menus = visible & set(menu_of_tour.values())
                self.assertEqual(tour_menus, {menu_of_tour[tour_name]})

                menu = self.env.ref(menu_of_tour[tour_name])
                self.assertEqual(menu.action.url, f"/odoo?tour={tour_name}")

    def test_the_tour_link_shows_the_first_step(self):
        """Opening /odoo?tour=... starts the tour by hand: the pointer
        explains the first step and waits for the person to act."""
        tour = self.env.ref("order_management.tour_clerk")
        self.assertEqual(tour.url, "/odoo")
        wait_for_pointer = """
            const deadline = Date.now() + 15000;
            const check = () => {
                const pointer = document.querySelector(".o_tour_pointer_content");
                if (pointer && pointer.textContent.includes("the apps menu")) {
                    console.log("test successful");
                } else if (Date.now() > deadline) {
                    console.error("the tour pointer did not show the first step");
                } else {
                    setTimeout(check, 100);
                }
            };
            check();
        """
        self.browser_js(f"/odoo?tour={tour.name}", wait_for_pointer, login="om_clerk")
        self.assertTrue(self.env.ref("order_management.user_clerk").tour_enabled)
