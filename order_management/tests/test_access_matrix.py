import base64

from odoo import fields
from odoo.exceptions import AccessError
from odoo.fields import Command
from odoo.tests import Form, HttpCase, new_test_user, tagged
from odoo.tests.common import JsonRpcException
from odoo.tools import mute_logger

from .common import OrderManagementCommon

MUTED = ("odoo.addons.base.models.ir_model", "odoo.addons.base.models.ir_rule")

OPERATIONS = (("r", "read"), ("w", "write"), ("c", "create"), ("u", "unlink"))

ROLES = (
    "clerk",
    "reviewer",
    "logistics",
    "finance",
    "manager",
    "auditor",
    "portal",
    "internal",
)

# The specification, written from the comments of the groups: what each role
# may do on each model, in the order of ROLES, as r(ead) w(rite) c(reate)
# u(nlink), "-" where refused. Rights on sale.order, its lines, deliveries,
# invoices and partners are Odoo's, from the groups each role implies: a
# clerk is a salesperson who creates customers, a reviewer a salesperson of
# all documents, logistics an inventory user (deliveries update their orders),
# finance an invoicing user, the manager a sales manager.
#
#                             clerk reviewer logistics finance manager auditor
#                                                                 portal internal
MODEL_ACCESS = {
    "sale.order": "rwc- rwc- rw-- rw-- rwcu r--- r--- ----",
    "sale.order.line": "rwcu rwcu rw-- rw-- rwcu r--- r--- ----",
    "stock.picking": "rwc- rwc- rwcu rwc- rwcu r--- r--- ----",
    "account.move": "r--- r--- ---- rwcu rwcu r--- r--- ----",
    "res.partner": "rwcu r--- r--- r--- rwcu r--- r--- r---",
    # Finance invoices from the order (Odoo's invoicing wizard) and reads its
    # tags; the other rights are Odoo's salespeople's.
    "sale.advance.payment.inv": "rwc- rwc- ---- rwc- rwc- ---- ---- ----",
    "crm.tag": "rwc- rwc- ---- r--- rwcu ---- ---- ----",
    # History, review rounds and check results change only through the
    # addon's services, for everyone.
    "order.audit.event": "r--- r--- r--- r--- r--- r--- ---- ----",
    "sale.order.review": "r--- r--- r--- r--- r--- r--- ---- ----",
    "order.check.result": "r--- r--- r--- r--- r--- r--- ---- ----",
    "order.incident": "rwc- rwc- rwc- r--- rwcu r--- ---- ----",
    "order.import.job": "rwc- rwc- ---- ---- rwcu r--- ---- ----",
    # Archives of old history and the chain heads they keep: written only by
    # the archiving service, read by those who read the whole history.
    "order.audit.archive": "---- ---- ---- ---- r--- r--- ---- ----",
    "order.audit.archive.head": "---- ---- ---- ---- r--- r--- ---- ----",
    # Backups and restore drills: run by administrators, followed by the
    # Order Manager, whom their failures alert.
    "order.backup": "---- ---- ---- ---- r--- r--- ---- ----",
    "order.restore.drill": "---- ---- ---- ---- r--- r--- ---- ----",
    # Order performance: analyses and scorecards for the Order Manager, who
    # takes the monthly snapshots; read by the auditor. The dashboard is the
    # manager's working screen.
    "order.cycle.report": "---- ---- ---- ---- r--- r--- ---- ----",
    "order.review.report": "---- ---- ---- ---- r--- r--- ---- ----",
    "order.scorecard.clerk": "---- ---- ---- ---- r--- r--- ---- ----",
    "order.scorecard.reviewer": "---- ---- ---- ---- r--- r--- ---- ----",
    "order.scorecard.logistics": "---- ---- ---- ---- r--- r--- ---- ----",
    "order.scorecard.snapshot": "---- ---- ---- ---- r-c- r--- ---- ----",
    "order.scorecard.snapshot.line": "---- ---- ---- ---- r--- r--- ---- ----",
    "order.kpi.dashboard": "---- ---- ---- ---- rwc- ---- ---- ----",
    "order.scorecard.mixin": "---- ---- ---- ---- ---- ---- ---- ----",
    "report.order_management.report_order_review_record": (
        "---- ---- ---- ---- ---- ---- ---- ----"
    ),
    # Who holds which role, for the periodic access review.
    "order.access.review": "---- ---- ---- ---- r--- r--- ---- ----",
    # Portal writes counted for the rate limit: the system's business.
    "order.portal.request": "---- ---- ---- ---- ---- ---- ---- ----",
    # Handing a leaver's work over is for the administrators of access rights.
    "res.users.handover": "---- ---- ---- ---- ---- ---- ---- ----",
    # Settings: read by the roles whose work runs the checks, kept by the
    # Order Manager; the task assignment runs as the system.
    "order.legality.rule": "r--- r--- r--- r--- rwcu r--- ---- ----",
    "order.review.policy": "r--- r--- r--- r--- rwcu r--- ---- ----",
    "order.rejection.reason": "r--- r--- r--- r--- rwcu r--- ---- ----",
    "order.special.type": "r--- r--- r--- r--- rwcu r--- ---- ----",
    "order.assignment.rule": "---- ---- ---- ---- rwcu r--- ---- ----",
    # Deciding on a review: reviewers, and Finance for credit reviews.
    "sale.order.reject.wizard": "---- rwc- ---- rwc- rwc- ---- ---- ----",
    # Services without records: no one has rights on them, their methods
    # work with the rights of the records they create or read.
    "order.importer": "---- ---- ---- ---- ---- ---- ---- ----",
    "order.review.checks": "---- ---- ---- ---- ---- ---- ---- ----",
    "order.audited.mixin": "---- ---- ---- ---- ---- ---- ---- ----",
    "order.protected.fields.mixin": "---- ---- ---- ---- ---- ---- ---- ----",
    "order.field.encryption": "---- ---- ---- ---- ---- ---- ---- ----",
}

# What each role may do on particular records, where record rules apply: of
# another clerk, of another company (the users work in the main company
# only), of another customer (portal). Same layout as MODEL_ACCESS.
#
#                             clerk reviewer logistics finance manager auditor
#                                                                 portal internal
RECORD_ACCESS = {
    # Entered by the clerk: theirs.
    "own order": "rwc- rwc- rw-- rw-- rwcu r--- ---- ----",
    "own order's event": "r--- r--- r--- r--- r--- r--- ---- ----",
    "own order's incident": "rwc- r--- rwc- r--- rwcu r--- ---- ----",
    "own import": "rwc- ---- ---- ---- rwcu r--- ---- ----",
    # Entered by another clerk.
    "other clerk's order": "---- rwc- rw-- rw-- rwcu r--- ---- ----",
    "other clerk's review round": "---- r--- r--- r--- r--- r--- ---- ----",
    "other clerk's check result": "---- r--- r--- r--- r--- r--- ---- ----",
    # The customer's credit exposure is not logistics' business.
    "other clerk's credit check": "---- r--- ---- r--- r--- r--- ---- ----",
    "other clerk's event": "---- r--- r--- r--- r--- r--- ---- ----",
    "other clerk's incident": "---- r--- rwc- r--- rwcu r--- ---- ----",
    "other clerk's import": "---- ---- ---- ---- rwcu r--- ---- ----",
    # Logins and other events of no order.
    "login event": "---- ---- ---- ---- r--- r--- ---- ----",
    "another reviewer's rejection": "---- ---- ---- ---- ---- ---- ---- ----",
    # Another company.
    "other company's order": "---- ---- ---- ---- ---- ---- ---- ----",
    "other company's review round": "---- ---- ---- ---- ---- ---- ---- ----",
    "other company's check result": "---- ---- ---- ---- ---- ---- ---- ----",
    "other company's event": "---- ---- ---- ---- ---- ---- ---- ----",
    "other company's incident": "---- ---- ---- ---- ---- ---- ---- ----",
    "other company's delivery": "---- ---- ---- ---- ---- ---- ---- ----",
    "other company's legality rule": "---- ---- ---- ---- ---- ---- ---- ----",
    "other company's review policy": "---- ---- ---- ---- ---- ---- ---- ----",
    "other company's assignment rule": "---- ---- ---- ---- ---- ---- ---- ----",
    # The portal customer's and another customer's documents; the photo
    # of the customer's incident is the incident's, never shown back.
    "customer's order": "rwc- rwc- rw-- rw-- rwcu r--- r--- ----",
    "customer's delivery": "rwc- rwc- rwcu rwc- rwcu r--- r--- ----",
    "customer's incident photo": "rwcu r--- rwcu r--- rwcu r--- ---- ----",
    "customer's signature proof": "---- ---- rwcu rwcu rwcu r--- ---- ----",
    "other customer's order": "rwc- rwc- rw-- rw-- rwcu r--- ---- ----",
    "other customer's delivery": "rwc- rwc- rwcu rwc- rwcu r--- ---- ----",
    # Of no salesperson: the clerk sees only their own customers' invoices.
    "other customer's invoice": "---- r--- ---- rwcu rwcu r--- ---- ----",
}


def rights(records):
    """Return the "rwcu" string of what ``records``' user may do on them."""
    if records._name == "ir.attachment" and records:
        return "".join(
            letter if _attachment_allows(records, operation) else "-"
            for letter, operation in OPERATIONS
        )
    return "".join(
        letter if records.has_access(operation) else "-"
        for letter, operation in OPERATIONS
    )


def _attachment_allows(attachment, operation):
    # An attachment is guarded by its document and its field, which
    # ir.attachment checks in check(), not in has_access().
    if not attachment.has_access(operation):
        return False
    values = None
    if operation == "create":
        document = attachment.sudo()
        values = {"res_model": document.res_model, "res_id": document.res_id}
    try:
        attachment.check(operation, values=values)
    except AccessError:
        return False
    return True


@tagged("post_install", "-at_install")
class TestAccessMatrix(OrderManagementCommon):
    """Every role on every model, and on the records rules decide."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.users["internal"] = new_test_user(
            cls.env,
            login="om_test_internal",
            email="om_test_internal@example.com",
            groups="base.group_user",
        )
        customers = []
        for login in ("om_test_portal", "om_test_portal2"):
            user = new_test_user(cls.env, login=login, groups="base.group_portal")
            user.partner_id.write(
                {
                    "street": "3 Dock Road",
                    "city": "Xiamen",
                    "country_id": cls.env.ref("base.cn").id,
                }
            )
            customers.append(user)
        cls.users["portal"] = customers[0]
        cls.records = cls._build_records(*(user.partner_id for user in customers))

    @classmethod
    def _build_records(cls, customer, other_customer):
        env = cls.env
        records = {}

        own = cls._create_order()
        records["own order"] = own
        records["own order's event"] = own.audit_event_ids[:1]
        records["own order's incident"] = cls._incident(own)
        records["own import"] = cls._import_job(cls.clerk)

        other = cls._create_order(user=cls.users["clerk2"])
        records["other clerk's order"] = other
        records["other clerk's review round"] = other.order_review_ids
        results = other.check_result_ids
        records["other clerk's check result"] = results.filtered(
            lambda r: r.check == "completeness"
        )[:1]
        records["other clerk's credit check"] = results.filtered(
            lambda r: r.check == "credit"
        )
        records["other clerk's event"] = other.audit_event_ids[:1]
        records["other clerk's incident"] = cls._incident(other)
        records["other clerk's import"] = cls._import_job(cls.users["clerk2"])
        records["login event"] = env["order.audit.event"]._record_events(
            [{"event": "login", "stage": "access", "login": "om_test_clerk"}]
        )
        records["another reviewer's rejection"] = (
            env["sale.order.reject.wizard"]
            .with_user(cls.users["reviewer2"])
            .create(
                {
                    "order_ids": [Command.set(other.ids)],
                    "reason_id": env["order.rejection.reason"].search([], limit=1).id,
                    "reason": "Wrong price.",
                }
            )
        )

        records.update(cls._other_company_records())

        order = cls._confirmed_order(partner_id=customer.id)
        order.message_subscribe(partner_ids=customer.ids)
        cls._ship(order)
        records["customer's order"] = order
        records["customer's delivery"] = order.picking_ids
        incident = order._report_customer_incident(
            "damage", "Torn wrap.", photo=("box.png", b"\x89PNG\r\n\x1a\nfake")
        )
        records["customer's incident photo"] = env["ir.attachment"].search(
            [("res_model", "=", "order.incident"), ("res_id", "=", incident.id)]
        )
        order.picking_ids.with_user(cls.logistics).write(
            {
                "signed_by": "Wei Zhang",
                "signature_proof": base64.b64encode(b"signed note"),
                "signature_proof_name": "note.pdf",
            }
        )
        records["customer's signature proof"] = env["ir.attachment"].search(
            [
                ("res_model", "=", "stock.picking"),
                ("res_id", "=", order.picking_ids.id),
                ("res_field", "=", "signature_proof"),
            ]
        )

        other_order = cls._confirmed_order(partner_id=other_customer.id)
        other_order.message_subscribe(partner_ids=other_customer.ids)
        records["other customer's order"] = other_order
        records["other customer's delivery"] = other_order.picking_ids
        invoice = env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": other_customer.id,
                "invoice_line_ids": [
                    Command.create({"product_id": cls.product.id, "price_unit": 10})
                ],
            }
        )
        invoice.action_post()
        invoice.message_subscribe(partner_ids=other_customer.ids)
        records["other customer's invoice"] = invoice

        for key, record in records.items():
            assert len(record) == 1, f"{key}: {len(record)} records"
        # Without the context they were made in (another company's, say).
        return {
            key: env[record._name].browse(record.id) for key, record in records.items()
        }

    @classmethod
    def _incident(cls, order):
        return cls.env["order.incident"].create(
            {"order_id": order.id, "incident_type": "delay", "description": "Late."}
        )

    @classmethod
    def _import_job(cls, user):
        return (
            cls.env["order.import.job"]
            .with_user(user)
            .create({"name": "orders.csv", "file": base64.b64encode(b"order_ref\n")})
        )

    @classmethod
    def _other_company_records(cls):
        env = cls.env
        company = env["res.company"].create({"name": "Other Trading Co"})
        order = (
            env["sale.order"]
            .with_company(company)
            .create(
                {
                    "company_id": company.id,
                    "partner_id": cls.customer.id,
                    "commitment_date": fields.Datetime.now(),
                    "order_line": [Command.create({"product_id": cls.product.id})],
                }
            )
        )
        warehouse = env["stock.warehouse"].search([("company_id", "=", company.id)])
        delivery = env["stock.picking"].create(
            {
                "company_id": company.id,
                "picking_type_id": warehouse.out_type_id.id,
                "partner_id": cls.customer.id,
            }
        )
        group = env.ref("order_management.group_order_logistics")
        activity_type = env.ref("mail.mail_activity_data_todo")
        return {
            "other company's order": order,
            "other company's review round": order.order_review_ids,
            "other company's check result": order.check_result_ids[:1],
            "other company's event": order.audit_event_ids[:1],
            "other company's incident": cls._incident(order),
            "other company's delivery": delivery,
            "other company's legality rule": env["order.legality.rule"].create(
                {
                    "name": "No bulk",
                    "company_id": company.id,
                    "rule_type": "max_quantity",
                    "max_quantity": 1000,
                }
            ),
            "other company's review policy": env["order.review.policy"].create(
                {"name": "Other company", "company_id": company.id}
            ),
            "other company's assignment rule": env["order.assignment.rule"].create(
                {
                    "name": "Other company's logistics",
                    "company_id": company.id,
                    "team": "logistics",
                    "group_id": group.id,
                    "activity_type_id": activity_type.id,
                }
            ),
        }

    # -------------------------------------------------------------- tests --

    def _differences(self, table, subject):
        """Compare ``table`` with what each role may do on ``subject(key)``."""
        differences = []
        for key, row in table.items():
            expected = dict(zip(ROLES, row.split(), strict=True))
            for role in ROLES:
                got = rights(subject(key).with_user(self.users[role]))
                if got != expected[role]:
                    differences.append(
                        f"{role} x {key}: expected {expected[role]}, got {got}"
                    )
        return differences

    @mute_logger(*MUTED)
    def test_01_model_rights_of_every_role(self):
        """Each role has on each model exactly the rights of the table."""
        differences = self._differences(MODEL_ACCESS, lambda model: self.env[model])
        self.assertFalse(differences, "\n" + "\n".join(differences))

    @mute_logger(*MUTED)
    def test_02_record_rules_of_every_role(self):
        """Each role has on each record exactly the rights of the table."""
        differences = self._differences(RECORD_ACCESS, self.records.get)
        self.assertFalse(differences, "\n" + "\n".join(differences))

    def test_03_the_table_covers_every_model_of_the_addon(self):
        """A model added to the addon without a line in the table fails here."""
        models = {
            name
            for name, model in self.env.registry.items()
            if model._original_module == "order_management"
        }
        self.assertTrue(models)
        self.assertFalse(models - set(MODEL_ACCESS), "models missing from the table")

    @mute_logger(*MUTED)
    def test_04_each_role_opens_the_forms_it_may_read(self):
        """The forms load with each role's rights, whatever they show."""
        keys = (
            "own order",
            "other clerk's order",
            "customer's order",
            "customer's delivery",
            "other clerk's incident",
            "own import",
            "other customer's invoice",
        )
        failures = []
        for key in keys:
            row = dict(zip(ROLES, RECORD_ACCESS[key].split(), strict=True))
            for role in ROLES[:6]:
                if "r" not in row[role]:
                    continue
                try:
                    Form(self.records[key].with_user(self.users[role]))
                except AccessError as error:
                    failures.append(f"{role} x {key}: {error}")
        self.assertFalse(failures, "\n" + "\n".join(failures))


@tagged("post_install", "-at_install")
class TestAuditor(OrderManagementCommon):
    """The auditor reads everything and writes nothing, chatter included."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.order = cls._confirmed_order()
        cls._ship(cls.order)
        cls._sign(cls.order)
        cls.invoice = cls._invoice(cls.order)
        cls.incident = cls.env["order.incident"].create(
            {"order_id": cls.order.id, "incident_type": "damage", "description": "Dent"}
        )

    def _documents(self):
        return [self.order, self.order.picking_ids, self.incident, self.invoice]

    def _state(self):
        self.env.invalidate_all()
        return [
            (
                document._name,
                document.id,
                document.write_date,
                len(document.message_ids),
            )
            for document in self._documents()
        ] + [self.env["order.audit.event"].search_count([])]

    def test_01_reads_everything(self):
        """Orders with history, deliveries with proof, invoices, incidents."""
        order = self.order.with_user(self.auditor)
        self.assertTrue(order.read(["name", "review_reason", "special_note"]))
        events = order.audit_event_ids
        self.assertIn("sign", events.mapped("event"))
        self.assertTrue(events.read(["hash", "previous_hash", "ip_address", "login"]))
        picking = order.picking_ids
        self.assertTrue(picking.read(["signed_by", "signature_proof"]))
        self.assertEqual(self.invoice.with_user(self.auditor).state, "posted")
        self.assertEqual(self.incident.with_user(self.auditor).description, "Dent")
        self.assertTrue(order.read(["check_preview"]))

    @mute_logger(*MUTED)
    def test_02_posts_nothing(self):
        """No message, note, attachment or activity, not even on an invoice.

        Odoo lets whoever reads an invoice post on it (Invoicing users still
        do); for the auditor, posting needs the right to change the document.
        """
        before = self._state()
        for document in self._documents():
            as_auditor = document.with_user(self.auditor)
            with self.assertRaises(AccessError, msg=document._name):
                as_auditor.message_post(body="Checked.", message_type="comment")
            with self.assertRaises(AccessError, msg=document._name):
                as_auditor.activity_schedule(
                    "mail.mail_activity_data_todo", user_id=self.auditor.id
                )
            with self.assertRaises(AccessError, msg=document._name):
                self.env["ir.attachment"].with_user(self.auditor).create(
                    {
                        "name": "finding.txt",
                        "raw": b"finding",
                        "res_model": document._name,
                        "res_id": document.id,
                    }
                )
        self.assertEqual(self._state(), before)

        # The web client asks the same of the document before posting.
        Move = self.env["account.move"]
        self.assertEqual(Move.with_user(self.auditor)._mail_post_access, "write")
        self.assertEqual(Move.with_user(self.finance)._mail_post_access, "read")
        self.assertTrue(self.invoice.with_user(self.finance).message_post(body="Ok"))

    @mute_logger(*MUTED)
    def test_03_takes_no_step_of_the_order(self):
        """Every action of the order's path is refused, and nothing changes."""
        waiting = self._create_order()
        before = self._state()
        steps = [
            lambda: waiting.with_user(self.auditor).action_approve(),
            lambda: waiting.with_user(self.auditor).action_reject("No."),
            lambda: waiting.with_user(self.auditor).action_submit_for_review(),
            lambda: waiting.with_user(self.auditor).action_cancel(),
            lambda: self.order.with_user(self.auditor).write({"note": "x"}),
            lambda: self.order.picking_ids.with_user(self.auditor).write(
                {"signed_by": "Someone else"}
            ),
            lambda: self.incident.with_user(self.auditor).action_cancel(),
            lambda: self.invoice.with_user(self.auditor).button_draft(),
            lambda: self.env["sale.order"]
            .with_user(self.auditor)
            .create({"partner_id": self.customer.id}),
            lambda: self.env["order.import.job"]
            .with_user(self.auditor)
            .create({"name": "a.csv", "file": base64.b64encode(b"order_ref\n")}),
        ]
        for index, step in enumerate(steps):
            with self.assertRaises(AccessError, msg=f"step {index}"):
                step()
        self.assertEqual(self._state(), before)
        self.assertEqual(waiting.review_state, "waiting")


@tagged("post_install", "-at_install")
class TestSensitiveFields(OrderManagementCommon):
    """Fields a role does not need are not given to it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.order = cls._confirmed_order()
        cls._ship(cls.order)
        cls.order.picking_ids.with_user(cls.logistics).write(
            {
                "signed_by": "Wei Zhang",
                "signature_proof": base64.b64encode(b"signed note"),
                "signature_proof_name": "note.pdf",
            }
        )

    @mute_logger(*MUTED)
    def test_01_login_origins(self):
        """Only Order Managers and auditors read logins, addresses, browsers."""
        events = self.order.audit_event_ids
        fields = ["login", "ip_address", "user_agent"]
        for user in (self.clerk, self.reviewer, self.logistics, self.finance):
            self.assertTrue(events.with_user(user).read(["event", "note"]))
            for field in fields:
                with self.assertRaises(AccessError, msg=f"{user.login} {field}"):
                    events.with_user(user).read([field])
            self.assertFalse(set(fields) & set(events.with_user(user).fields_get()))
        for user in (self.manager, self.auditor):
            self.assertTrue(events.with_user(user).read(fields))

    @mute_logger(*MUTED)
    def test_02_credit_is_not_logistics_business(self):
        """Logistics sees the order's checks but not the credit exposure."""
        draft = self._create_order()
        self.assertIn("credit", draft.check_result_ids.mapped("check"))
        # As a request would: what the superuser read is not in its cache.
        self.env.invalidate_all()
        [values] = draft.with_user(self.logistics).read(["check_result_ids"])
        checks = self.env["order.check.result"].browse(values["check_result_ids"])
        self.assertTrue(checks)
        self.assertNotIn("credit", checks.mapped("check"))
        as_logistics = draft.with_user(self.logistics)
        with self.assertRaises(AccessError):
            as_logistics.read(["check_preview"])
        with self.assertRaises(AccessError):
            self.customer.with_user(self.logistics).read(["order_credit_policy"])
        self.assertIn(
            "credit", draft.with_user(self.finance).check_result_ids.mapped("check")
        )
        self.customer.with_user(self.finance).read(["order_credit_policy"])

    @mute_logger(*MUTED)
    def test_03_signature_proof(self):
        """Who ships, invoices or audits reads the proof; salespeople do not."""
        picking = self.order.picking_ids
        for user in (self.clerk, self.reviewer):
            self.assertEqual(picking.with_user(user).signed_by, "Wei Zhang")
            with self.assertRaises(AccessError):
                picking.with_user(user).read(["signature_proof"])
        for user in (self.logistics, self.finance, self.auditor):
            [values] = picking.with_user(user).read(["signature_proof"])
            self.assertTrue(values["signature_proof"])


@tagged("post_install", "-at_install")
class TestPortalIsolation(OrderManagementCommon, HttpCase):
    """A customer reaches nothing of another one, by address or by RPC."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customers = []
        for login in ("om_iso_portal", "om_iso_other"):
            user = new_test_user(
                cls.env, login=login, password=f"{login}_pw", groups="base.group_portal"
            )
            user.partner_id.write(
                {
                    "street": "3 Dock Road",
                    "city": "Xiamen",
                    "country_id": cls.env.ref("base.cn").id,
                }
            )
            cls.customers.append(user)
        cls.own, cls.other = (
            cls._customer_order(user.partner_id) for user in cls.customers
        )

    @classmethod
    def _customer_order(cls, partner):
        order = cls._confirmed_order(partner_id=partner.id)
        order.message_subscribe(partner_ids=partner.ids)
        cls._ship(order)
        order.picking_ids.with_user(cls.logistics).write(
            {
                "signed_by": "Wei Zhang",
                "signature_proof": base64.b64encode(b"SIGNED-NOTE"),
                "signature_proof_name": "note.pdf",
            }
        )
        order._report_customer_incident(
            "damage", "Torn wrap.", photo=("box.png", b"PHOTO-OF-THE-BOX")
        )
        return order

    def _photo(self, order):
        return self.env["ir.attachment"].search(
            [
                ("res_model", "=", "order.incident"),
                ("res_id", "=", order.incident_ids.id),
            ]
        )

    def _call(self, model, method, *args, **kwargs):
        return self.make_jsonrpc_request(
            f"/web/dataset/call_kw/{model}/{method}",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        )

    def test_01_photos_and_signature_proofs_by_address(self):
        """Incident photos and signature proofs are not served to customers,
        another customer's or their own."""
        self.authenticate("om_iso_portal", "om_iso_portal_pw")
        urls = []
        for order in (self.own, self.other):
            photo = self._photo(order)
            picking = order.picking_ids
            self.assertEqual(len(photo), 1)
            urls += [
                f"/web/content/{photo.id}",
                f"/web/image/{photo.id}",
                f"/web/content/ir.attachment/{photo.id}/datas",
                f"/web/content/stock.picking/{picking.id}/signature_proof",
            ]
        for url in urls:
            response = self.url_open(url, allow_redirects=False)
            # /web/image answers a refusal with a placeholder picture.
            if not url.startswith("/web/image/"):
                self.assertNotEqual(response.status_code, 200, url)
            self.assertNotIn(b"PHOTO-OF-THE-BOX", response.content, url)
            self.assertNotIn(b"SIGNED-NOTE", response.content, url)

        # Logistics gets the proof it recorded.
        self.authenticate(self.logistics.login, self.logistics.login)
        picking = self.own.picking_ids
        response = self.url_open(
            f"/web/content/stock.picking/{picking.id}/signature_proof"
        )
        self.assertEqual(response.content, b"SIGNED-NOTE")

    @mute_logger(*MUTED, "odoo.http")
    def test_02_rpc_reaches_only_their_own_documents(self):
        """Their orders and deliveries only, without the internal fields; no
        model of the addon at all."""
        self.authenticate("om_iso_portal", "om_iso_portal_pw")

        orders = self._call("sale.order", "search_read", [], fields=["name"])
        self.assertEqual([order["id"] for order in orders], self.own.ids)
        pickings = self._call("stock.picking", "search_read", [], fields=["name"])
        self.assertEqual([p["id"] for p in pickings], self.own.picking_ids.ids)

        refused = [
            ("sale.order", "read", self.other.ids, ["name"]),
            ("stock.picking", "read", self.other.picking_ids.ids, ["name"]),
            ("sale.order", "read", self.own.ids, ["special_note"]),
            ("sale.order", "read", self.own.ids, ["review_reason"]),
            ("stock.picking", "read", self.own.picking_ids.ids, ["signature_proof"]),
            ("ir.attachment", "read", self._photo(self.own).ids, ["datas"]),
        ] + [
            (model, "search_read", [], ["id"])
            for model in (
                "order.incident",
                "order.audit.event",
                "sale.order.review",
                "order.check.result",
                "order.import.job",
                "order.legality.rule",
            )
        ]
        for model, method, ids, names in refused:
            with self.assertRaises(JsonRpcException, msg=f"{model} {method} {names}"):
                if method == "read":
                    self._call(model, method, ids, names)
                else:
                    self._call(model, method, [], fields=names)
