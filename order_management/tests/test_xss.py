import base64
from datetime import timedelta
from pathlib import Path

from freezegun import freeze_time
from lxml import html as lxml_html

from odoo import fields, http
from odoo.exceptions import ValidationError
from odoo.fields import Command
from odoo.tests import HttpCase, new_test_user, tagged

from .common import OrderManagementCommon
from .test_order_files import xlsx_file

# Typed into every free-text field: it must come back as the same text,
# never as a script or an element with an event handler.
PAYLOAD = '<script>alert(1)</script>"><img src=x onerror=alert(1)>'

ADDON = Path(__file__).resolve().parent.parent

# What users type, stored as plain text: the web client and QWeb's t-out and
# t-field show it escaped.
FREE_TEXT_FIELDS = [
    ("sale.order", "special_note"),
    ("sale.order", "review_reason"),
    ("sale.order.review", "reason"),
    ("sale.order.reject.wizard", "reason"),
    ("order.incident", "description"),
    ("order.incident", "handling"),
    ("order.incident", "result"),
    ("order.audit.event", "note"),
    ("order.check.result", "message"),
    ("order.import.job", "message"),
    ("stock.picking", "signed_by"),
]


class InertMixin:
    def assertInert(self, markup, where):
        """``markup`` shows PAYLOAD as text and runs nothing of it."""
        text = str(markup or "")
        self.assertTrue(text, where)
        tree = lxml_html.fragment_fromstring(text, create_parent="div")
        self.assertFalse(tree.xpath("//script"), where)
        self.assertFalse(tree.xpath("//*[@onerror]"), where)
        self.assertFalse(tree.xpath("//img[@src='x']"), where)
        self.assertIn(PAYLOAD, tree.text_content(), where)


@tagged("post_install", "-at_install")
class TestXss(InertMixin, OrderManagementCommon):
    """User text comes back escaped wherever the addon renders it."""

    def test_01_html_fields_are_sanitized_and_typed_text_is_text(self):
        """Every Html field of the addon is sanitized; typed text is Text/Char."""
        html_fields = [
            field
            for model in self.env.registry.values()
            for field in model._fields.values()
            if field.type == "html" and field._module == "order_management"
        ]
        self.assertIn("check_preview", [field.name for field in html_fields])
        for field in html_fields:
            self.assertTrue(field.sanitize, f"{field} is not sanitized")
        for model, name in FREE_TEXT_FIELDS:
            field = self.env[model]._fields[name]
            self.assertIn(field.type, ("text", "char"), f"{field}")

    def test_02_templates_never_print_raw_markup(self):
        """No t-raw nor |safe in the addon's QWeb: t-out and t-field escape."""
        for path in ADDON.rglob("*.xml"):
            content = path.read_text(encoding="utf-8")
            self.assertNotIn("t-raw", content, path.name)
            self.assertNotIn("|safe", content, path.name)

    def test_03_checks_as_you_type(self):
        """Names of products, customers and rules come back as text."""
        self.customer.name = PAYLOAD
        self.product.name = PAYLOAD
        self.env["order.legality.rule"].create(
            {
                "name": PAYLOAD,
                "rule_type": "blocked_customer",
                "partner_ids": [Command.link(self.customer.id)],
            }
        )
        # A price off the list: the accuracy check names the product.
        order = self._create_order(
            order_line=[
                Command.create(
                    {
                        "product_id": self.product.id,
                        "product_uom_qty": 2,
                        "price_unit": 99,
                    }
                )
            ]
        )
        self.assertEqual(order.review_state, "hold")

        preview = order.with_user(self.clerk).check_preview
        self.assertInert(preview, "check preview")
        self.assertGreaterEqual(str(preview).count("&lt;script&gt;"), 2)

    def test_04_rejection_reason(self):
        """The reviewer's reason: to-do, review round and history."""
        order = self._create_order()
        order.with_user(self.reviewer).action_reject(PAYLOAD)

        correction = order.activity_ids.filtered(
            lambda a: a.activity_type_id
            == self.env.ref("order_management.mail_activity_type_order_correction")
        )
        self.assertInert(correction.note, "correction to-do")
        self.assertEqual(order.order_review_ids.reason, PAYLOAD)
        self.assertEqual(order.audit_event_ids.sorted("id")[-1].note, PAYLOAD)

        # Through the wizard, as in the form.
        order.with_user(self.clerk).action_submit_for_review()
        wizard = (
            self.env["sale.order.reject.wizard"]
            .with_user(self.users["reviewer2"])
            .create(
                {
                    "order_ids": [Command.set(order.ids)],
                    "reason_id": self.env.ref(
                        "order_management.rejection_reason_price"
                    ).id,
                    "reason": PAYLOAD,
                }
            )
        )
        wizard.action_reject()
        self.assertEqual(order.review_reason, PAYLOAD)

    def test_05_messages_and_todos_naming_an_order(self):
        """An order's name is typed by its clerk: messages and to-dos show it."""
        order = self._create_order(name=PAYLOAD)
        order._accept_before_review(self.env._("signed"))
        todo = order.activity_ids.filtered(lambda a: "waits for review" in a.note)
        self.assertInert(todo.note, "acceptance to-do")

        review = order.order_review_ids
        with freeze_time(review.deadline + timedelta(minutes=1)):
            self.env["sale.order.review"]._cron_review_deadlines()
        escalations = order.activity_ids.filtered(
            lambda a: "passed its deadline" in a.note
        )
        self.assertTrue(escalations)
        for escalation in escalations:
            self.assertInert(escalation.note, "escalation to-do")

    def test_06_special_note_in_team_tasks(self):
        """The special note reaches the teams' to-dos as text."""
        order = self._confirmed_order(
            special_type_id=self.env.ref("order_management.special_type_rush").id,
            special_note=PAYLOAD,
        )
        tasks = order.activity_ids.filtered(lambda a: "Special order" in a.note)
        self.assertTrue(tasks)
        for task in tasks:
            self.assertInert(task.note, "team task")
        self.assertEqual(order.picking_ids.order_special_note, PAYLOAD)

    def test_07_incidents(self):
        """What happened, how it was handled and how it ended stay text."""
        order = self._confirmed_order()
        incident = self.env["order.incident"].create(
            {
                "order_id": order.id,
                "incident_type": "damage",
                "description": PAYLOAD,
                "handling": PAYLOAD,
                "result": PAYLOAD,
            }
        )
        incident.action_resolve()
        notes = order.audit_event_ids.filtered(
            lambda e: e.event in ("incident", "incident_closed")
        ).mapped("note")
        self.assertEqual(len(notes), 2)
        for note in notes:
            self.assertIn(PAYLOAD, note)

    def test_08_order_file_cells(self):
        """A file's cells, right or wrong, come back as text in the preview,
        the report and the orders' notes."""
        header = [
            "order_ref",
            "customer_ref",
            "customer_name",
            "delivery_street",
            "delivery_city",
            "delivery_zip",
            "delivery_country",
            "delivery_date",
            "product_code",
            "product_name",
            "quantity",
            "unit_price",
            "discount",
            "note",
        ]
        good = ["PO-X1", "XSS-1", PAYLOAD, PAYLOAD, "Ningbo", "315000", "CN"]
        good += ["2031-05-02", "OM-BRACKET", "", 4, 12.5, "", PAYLOAD]
        wrong = ["PO-X2", "XSS-1", PAYLOAD, PAYLOAD, "Ningbo", "315000", "CN"]
        wrong += ["2031-05-02", "OM-BRACKET", "", PAYLOAD, 12.5, "", ""]
        job = (
            self.env["order.import.job"]
            .with_user(self.clerk)
            .create(
                {
                    "name": "orders.xlsx",
                    "file": base64.b64encode(xlsx_file(header, good, wrong)),
                    "mode": "valid",
                }
            )
        )
        job.action_check()
        self.assertEqual(job.error_count, 1)
        self.assertInert(job.preview, "import preview")

        job.action_import()
        order = job.order_ids
        self.assertEqual(len(order), 1)
        self.assertInert(order.note, "imported note")
        self.assertEqual(order.partner_id.commercial_partner_id.name, PAYLOAD)

    def test_09_carrier_tracking_page_is_a_web_address(self):
        """A tracking link customers click cannot run a script."""
        for pattern in ("javascript:alert(1)//{ref}", " data:text/html,{ref}"):
            with self.assertRaises(ValidationError, msg=pattern):
                self.carrier.tracking_url_pattern = pattern
        self.carrier.tracking_url_pattern = "https://track.example/?no={ref}"


@tagged("post_install", "-at_install")
class TestXssPortal(InertMixin, HttpCase):
    """The customer's order page shows every typed text escaped."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = new_test_user(
            cls.env,
            login="om_xss_portal",
            password="om_xss_portal_pw",
            groups="base.group_portal",
            name=PAYLOAD,
        )
        cls.customer.partner_id.write(
            {
                "street": PAYLOAD,
                "city": "Xiamen",
                "country_id": cls.env.ref("base.cn").id,
            }
        )
        clerk, reviewer, logistics = (
            new_test_user(
                cls.env,
                login=f"om_xss_{role}",
                email=f"om_xss_{role}@example.com",
                groups=f"base.group_user,order_management.group_order_{role}",
            )
            for role in ("clerk", "reviewer", "logistics")
        )
        product = cls.env["product.product"].create(
            {"name": PAYLOAD, "type": "consu", "list_price": 20.0}
        )
        carrier = cls.env["delivery.carrier"].create(
            {
                "name": PAYLOAD,
                "delivery_type": "fixed",
                "product_id": cls.env["product.product"]
                .create({"name": "Express", "type": "service"})
                .id,
                "tracking_url_pattern": "https://track.example/?no={ref}",
            }
        )
        order = (
            cls.env["sale.order"]
            .with_user(clerk)
            .create(
                {
                    "partner_id": cls.customer.partner_id.id,
                    "client_order_ref": PAYLOAD,
                    "commitment_date": fields.Datetime.now() + timedelta(days=7),
                    "order_line": [Command.create({"product_id": product.id})],
                }
            )
        )
        order.with_user(reviewer).action_approve()
        order.with_user(clerk).action_confirm()
        picking = order.picking_ids.with_user(logistics)
        picking.write({"carrier_id": carrier.id, "carrier_tracking_ref": PAYLOAD})
        picking.move_ids.quantity = 1
        picking.button_validate()
        picking.write({"signed_by": PAYLOAD})
        picking.action_confirm_signature()
        handled = cls.env["order.incident"].create(
            {
                "order_id": order.id,
                "incident_type": "delay",
                "description": PAYLOAD,
                "result": PAYLOAD,
            }
        )
        handled.action_resolve()
        order.message_subscribe(partner_ids=cls.customer.partner_id.ids)
        cls.order = order

    def _page(self, url):
        response = self.url_open(url)
        self.assertEqual(response.status_code, 200, url)
        return response.text

    def assertPageInert(self, page, url):
        tree = lxml_html.document_fromstring(page)
        # Odoo's own scripts are there; none of them is the payload's.
        scripts = [script.text_content().strip() for script in tree.xpath("//script")]
        self.assertNotIn("alert(1)", scripts, url)
        # Odoo's asset scripts have an onerror of their own.
        self.assertFalse(tree.xpath("//*[contains(@onerror, 'alert')]"), url)
        self.assertFalse(tree.xpath("//img[@src='x']"), url)
        # Shown, escaped (the user menu cuts the customer's name short).
        self.assertIn("&lt;script&gt;alert(1)", page, url)

    def test_01_order_page(self):
        """Customer, reference, product, carrier, tracking number, signer,
        incidents: all text on the order page."""
        self.authenticate("om_xss_portal", "om_xss_portal_pw")
        url = f"/my/orders/{self.order.id}"
        page = self._page(url)
        self.assertPageInert(page, url)
        tree = lxml_html.document_fromstring(page)
        timeline = tree.get_element_by_id("order_timeline")
        self.assertIn(PAYLOAD, timeline.text_content())
        [link] = timeline.find_class("o_order_tracking_link")
        self.assertTrue(link.get("href").startswith("https://track.example/?no="))
        self.assertNotIn("<", link.get("href"))
        incidents = tree.find_class("o_order_incident")
        self.assertEqual(len(incidents), 1)
        self.assertGreaterEqual(incidents[0].text_content().count(PAYLOAD), 2)

    def test_02_reported_incident_and_orders_list(self):
        """What the customer writes in the form comes back as text."""
        self.authenticate("om_xss_portal", "om_xss_portal_pw")
        url = f"/my/orders/{self.order.id}"
        self._page(url)
        self.url_open(
            f"{url}/incident",
            data={
                "csrf_token": http.Request.csrf_token(self),
                "incident_type": "damage",
                "description": PAYLOAD,
            },
            files={"photo": (PAYLOAD, b"\x89PNG\r\n\x1a\nfake", "image/png")},
        )
        reported = self.order.incident_ids.filtered(
            lambda incident: incident.reported_via == "portal"
        )
        self.assertEqual(reported.description, PAYLOAD)
        self.assertPageInert(self._page(url), url)
        self.assertPageInert(self._page("/my/orders"), "/my/orders")
