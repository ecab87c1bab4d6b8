from datetime import timedelta

from odoo import fields, http
from odoo.fields import Command
from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestPortalTracking(HttpCase):
    """Customers follow their orders and report problems in the portal."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.clerk = new_test_user(
            cls.env,
            login="om_pt_clerk",
            email="om_pt_clerk@example.com",
            groups="base.group_user,order_management.group_order_clerk",
        )
        cls.reviewer = new_test_user(
            cls.env,
            login="om_pt_reviewer",
            email="om_pt_reviewer@example.com",
            groups="base.group_user,order_management.group_order_reviewer",
        )
        cls.logistics = new_test_user(
            cls.env,
            login="om_pt_logistics",
            email="om_pt_logistics@example.com",
            groups="base.group_user,order_management.group_order_logistics",
        )
        cls.customers = [
            new_test_user(
                cls.env,
                login=login,
                password=f"{login}_pw",
                groups="base.group_portal",
            )
            for login in ("om_pt_portal", "om_pt_other")
        ]
        for user in cls.customers:
            user.partner_id.write(
                {
                    "street": "3 Dock Road",
                    "city": "Xiamen",
                    "country_id": cls.env.ref("base.cn").id,
                }
            )
        cls.product = cls.env["product.product"].create(
            {"name": "Pallet wrap", "type": "consu", "list_price": 20.0}
        )
        carrier_product = cls.env["product.product"].create(
            {"name": "Express", "type": "service"}
        )
        cls.carrier = cls.env["delivery.carrier"].create(
            {
                "name": "SF Express",
                "delivery_type": "fixed",
                "product_id": carrier_product.id,
                "tracking_url_pattern": "https://track.example/?no={ref}",
            }
        )
        cls.order, cls.other_order = (
            cls._shipped_order(user.partner_id) for user in cls.customers
        )

    @classmethod
    def _shipped_order(cls, partner):
        order = (
            cls.env["sale.order"]
            .with_user(cls.clerk)
            .create(
                {
                    "partner_id": partner.id,
                    "commitment_date": fields.Datetime.now() + timedelta(days=7),
                    "order_line": [Command.create({"product_id": cls.product.id})],
                }
            )
        )
        order.with_user(cls.reviewer).action_approve()
        order.with_user(cls.clerk).action_confirm()
        picking = order.picking_ids.with_user(cls.logistics)
        picking.write(
            {"carrier_id": cls.carrier.id, "carrier_tracking_ref": "SF123456789012"}
        )
        picking.move_ids.quantity = 1
        picking.button_validate()
        picking.action_mark_in_transit()
        order.message_subscribe(partner_ids=partner.ids)
        return order

    def test_01_timeline_shows_the_tracking_number(self):
        """Confirmed, shipped with carrier, number and link, in transit."""
        self.authenticate("om_pt_portal", "om_pt_portal_pw")
        response = self.url_open(f"/my/orders/{self.order.id}")
        self.assertEqual(response.status_code, 200)
        page = response.text
        self.assertIn("SF Express, tracking number SF123456789012", page)
        self.assertIn("https://track.example/?no=SF123456789012", page)
        self.assertIn("In transit", page)
        self.assertEqual(page.count("fa-check-circle"), 5)  # received .. in transit

        # Signed without a delivery reported first: delivered all the same.
        picking = self.order.picking_ids.with_user(self.logistics)
        picking.write({"signed_by": "Pat"})
        picking.action_confirm_signature()
        steps = {step["label"]: step["date"] for step in self.order._portal_timeline()}
        self.assertTrue(steps["Delivered"] and steps["Signed for"])

    def test_02_customer_reports_an_incident_with_a_photo(self):
        """The report becomes an incident with its photo and a to-do."""
        self.authenticate("om_pt_portal", "om_pt_portal_pw")
        self.url_open(f"/my/orders/{self.order.id}")
        response = self.url_open(
            f"/my/orders/{self.order.id}/incident",
            data={
                "csrf_token": http.Request.csrf_token(self),
                "incident_type": "damage",
                "description": "The wrap is torn.",
            },
            files={"photo": ("box.png", b"\x89PNG\r\n\x1a\nfake", "image/png")},
        )
        self.assertEqual(response.status_code, 200)
        incident = self.order.incident_ids
        self.assertEqual(len(incident), 1)
        self.assertEqual(incident.reported_via, "portal")
        self.assertEqual(incident.incident_type, "damage")
        self.assertEqual(incident.picking_id, self.order.picking_ids)
        photos = self.env["ir.attachment"].search(
            [("res_model", "=", "order.incident"), ("res_id", "=", incident.id)]
        )
        self.assertEqual(photos.mapped("name"), ["box.png"])
        self.assertIn("The wrap is torn.", response.text)

    def test_03_another_customers_order_is_refused(self):
        """By id, by a wrong token or by a guessed picking: nothing shown,
        nothing created."""
        self.authenticate("om_pt_portal", "om_pt_portal_pw")
        self.url_open(f"/my/orders/{self.order.id}")
        other = self.other_order

        response = self.url_open(f"/my/orders/{other.id}", allow_redirects=False)
        self.assertIn(response.status_code, (303, 302, 403, 404))
        self.assertNotIn("SF123456789012", response.text)

        for token in (None, "not-the-token", self.order.access_token):
            data = {
                "csrf_token": http.Request.csrf_token(self),
                "incident_type": "loss",
                "description": "Never arrived.",
            }
            if token:
                data["access_token"] = token
            self.url_open(f"/my/orders/{other.id}/incident", data=data)
        self.assertFalse(other.incident_ids)

        picking = other.picking_ids
        response = self.url_open(f"/my/picking/pdf/{picking.id}", allow_redirects=False)
        self.assertNotEqual(response.status_code, 200)

        # The other customer's incident never shows on this customer's page.
        other.incident_ids.sudo().create(
            {"order_id": other.id, "incident_type": "delay", "description": "Late X9"}
        )
        page = self.url_open(f"/my/orders/{self.order.id}").text
        self.assertNotIn("Late X9", page)

    def test_04_customer_reports_in_the_browser(self):
        """Headless Chromium: the customer sees the tracking number and
        reports damage from the order page."""
        self.start_tour(
            f"/my/orders/{self.order.id}",
            "order_management_portal_incident_tour",
            login="om_pt_portal",
        )
        self.assertEqual(
            self.order.incident_ids.description, "Two boxes arrived crushed."
        )
