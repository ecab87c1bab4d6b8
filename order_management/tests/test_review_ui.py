from datetime import timedelta

from odoo import fields
from odoo.fields import Command
from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestReviewUi(HttpCase):
    """A reviewer in the web client, a customer in the portal."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.clerk = new_test_user(
            cls.env,
            login="om_ui_clerk",
            email="om_ui_clerk@example.com",
            groups="base.group_user,order_management.group_order_clerk",
        )
        cls.reviewer = new_test_user(
            cls.env,
            login="om_ui_reviewer",
            email="om_ui_reviewer@example.com",
            password="om_ui_reviewer_pw",
            groups="base.group_user,order_management.group_order_reviewer",
        )
        cls.portal_user = new_test_user(
            cls.env,
            login="om_ui_portal",
            password="om_ui_portal_pw",
            groups="base.group_portal",
        )
        cls.portal_user.partner_id.write(
            {
                "street": "3 Dock Road",
                "city": "Xiamen",
                "country_id": cls.env.ref("base.cn").id,
            }
        )
        cls.product = cls.env["product.product"].create(
            {"name": "Pallet wrap", "type": "consu", "list_price": 20.0}
        )

    def _order(self, partner):
        return (
            self.env["sale.order"]
            .with_user(self.clerk)
            .create(
                {
                    "partner_id": partner.id,
                    "commitment_date": fields.Datetime.now() + timedelta(days=7),
                    "order_line": [Command.create({"product_id": self.product.id})],
                }
            )
        )

    def _form_url(self, order):
        return f"/odoo/action-order_management.sale_order_action_to_review/{order.id}"

    def test_01_reviewer_approves_in_the_browser(self):
        """The approve button works for a reviewer in headless Chromium."""
        order = self._order(self.portal_user.partner_id)
        self.start_tour(
            self._form_url(order),
            "order_management_approve_tour",
            login="om_ui_reviewer",
        )
        self.assertEqual(order.review_state, "approved")

    def test_02_reviewer_rejects_in_the_browser(self):
        """The reject wizard carries the reason back to the order."""
        order = self._order(self.portal_user.partner_id)
        self.start_tour(
            self._form_url(order),
            "order_management_reject_tour",
            login="om_ui_reviewer",
        )
        self.assertEqual(order.review_state, "rejected")
        self.assertIn("below the agreed price list", order.review_reason)
        self.assertEqual(
            order.order_review_ids.reason_id,
            self.env.ref("order_management.rejection_reason_price"),
        )

    def test_03_customer_sees_the_review_in_the_portal(self):
        """The customer's order page says the order is being reviewed."""
        order = self._order(self.portal_user.partner_id)
        # Odoo makes the customer a follower when the quotation is sent.
        order.message_subscribe(partner_ids=self.portal_user.partner_id.ids)
        self.authenticate("om_ui_portal", "om_ui_portal_pw")
        url = f"/my/orders/{order.id}"

        response = self.url_open(url, allow_redirects=False)

        self.assertEqual(response.status_code, 200)
        self.assertIn("being reviewed by our team", response.text)

        order.with_user(self.reviewer).action_approve()
        response = self.url_open(url, allow_redirects=False)
        self.assertEqual(response.status_code, 200)
        self.assertIn(order.name, response.text)
        self.assertNotIn("being reviewed by our team", response.text)
