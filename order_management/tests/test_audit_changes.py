import json
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.fields import Command
from odoo.tests import new_test_user, tagged

from .common import ROLE_GROUPS, OrderManagementCommon

# Queries of a write of a rule's audited fields, on warm caches, whatever the
# number of rules and fields: one read of the rules (the old values, and what
# the write needs), the company and its currency (the amount is rounded to
# it), the update, and for the history the chain's lock, the hash it ends on
# and one insert of all the events.
AUDITED_WRITE_QUERIES = 7


@tagged("post_install", "-at_install")
class TestAuditChanges(OrderManagementCommon):
    """Changes of orders, lines, deliveries, invoices, credit settings, rules
    and group membership are kept, chained, with their old and new values."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Who manages users and groups: the Settings' Access Rights role.
        cls.user_admin = new_test_user(
            cls.env,
            login="om_test_user_admin",
            email="om_test_user_admin@example.com",
            groups="base.group_user,base.group_erp_manager",
        )
        cls.immediate = cls.env.ref("account.account_payment_term_immediate")

    # ----------------------------------------------------------- helpers --

    def _data_events(self, records, event="change"):
        """Return the ``event`` events about ``records``, oldest first."""
        return self.env["order.audit.event"].search(
            [
                ("res_model", "=", records._name),
                ("res_id", "in", records.ids),
                ("event", "=", event),
            ],
            order="id",
        )

    def _only_change(self, record, event="change"):
        """Return (event, changes) of the single ``event`` about ``record``."""
        events = self._data_events(record, event)
        self.assertEqual(len(events), 1, f"one {event} event for {record}")
        return events, json.loads(events.changes)

    def _assert_chained(self, event, order=None):
        """The event ends its chain, linked to the event before it."""
        Event = self.env["order.audit.event"]
        chain = Event.search(
            [("order_id", "=", order.id if order else False), ("id", "<", event.id)],
            order="id desc",
            limit=1,
        )
        self.assertEqual(event.order_id, order or self.env["sale.order"])
        self.assertEqual(event.previous_hash, chain.hash or "")
        self.assertFalse(Event._verify_chain())

    # ------------------------------------------------------------ orders --

    def test_01_order_change_lands_in_the_order_chain(self):
        """The clerk's change of an order is kept with both values, by the
        clerk, between the submission and the reopened review it causes."""
        order = self._create_order()
        old_date = order.commitment_date
        new_date = old_date + timedelta(days=3)

        order.with_user(self.clerk).write(
            {"client_order_ref": "PO-4711", "commitment_date": new_date}
        )

        event, changes = self._only_change(order)
        self.assertEqual(
            changes,
            {
                "client_order_ref": [False, "PO-4711"],
                "commitment_date": [
                    fields.Datetime.to_string(old_date),
                    fields.Datetime.to_string(new_date),
                ],
            },
        )
        self.assertEqual(event.user_id, self.clerk)
        self.assertEqual((event.event, event.stage), ("change", "data"))
        self.assertEqual(
            order.audit_event_ids.sorted("id").mapped("event"),
            ["submit", "change", "reopen"],
        )
        self._assert_chained(event, order)

    def test_02_line_change_create_and_delete(self):
        """Line changes, added and removed lines of a submitted order are kept
        in its chain; the lines it was entered with are not 'created'."""
        order = self._create_order(quantity=4)
        line = order.order_line
        self.assertFalse(self._data_events(line, "create"))

        line.with_user(self.clerk).write({"product_uom_qty": 6, "discount": 10})
        event, changes = self._only_change(line)
        self.assertEqual(
            changes, {"product_uom_qty": [4.0, 6.0], "discount": [0.0, 10.0]}
        )
        self.assertEqual(event.user_id, self.clerk)
        self._assert_chained(event, order)

        order.with_user(self.clerk).write(
            {
                "order_line": [
                    Command.create(
                        {"product_id": self.other_product.id, "product_uom_qty": 2}
                    )
                ]
            }
        )
        added = order.order_line - line
        event, changes = self._only_change(added, "create")
        self.assertEqual(changes["product_id"], [False, self.other_product.id])
        self.assertEqual(changes["product_uom_qty"], [False, 2.0])
        self.assertEqual(changes["price_unit"], [False, 3.0])
        self._assert_chained(event, order)

        line.with_user(self.clerk).unlink()
        event, changes = self._only_change(line, "delete")
        self.assertEqual(changes["product_id"], [self.product.id, False])
        self.assertEqual(changes["product_uom_qty"], [6.0, False])
        self.assertEqual(event.user_id, self.clerk)
        self._assert_chained(event, order)

    def test_03_delivery_change_lands_in_its_order_chain(self):
        """Logistics' carrier and tracking number are kept on the order."""
        order = self._confirmed_order()
        delivery = order.picking_ids

        delivery.with_user(self.logistics).write(
            {"carrier_id": self.carrier.id, "carrier_tracking_ref": "SF1234567890"}
        )

        event, changes = self._only_change(delivery)
        self.assertEqual(
            changes,
            {
                "carrier_id": [False, self.carrier.id],
                "carrier_tracking_ref": [False, "SF1234567890"],
            },
        )
        self.assertEqual(event.user_id, self.logistics)
        self._assert_chained(event, order)

    def test_04_invoice_change_lands_in_its_order_chain(self):
        """Finance's changes to the invoice of one order join that order's
        chain; other journal entries are not followed."""
        order = self._confirmed_order()
        self._ship(order)
        invoice = order.with_user(self.finance)._create_invoices()
        due = fields.Date.today() + timedelta(days=45)

        invoice.with_user(self.finance).write(
            {"ref": "Harbour PO-4711", "invoice_date_due": due}
        )

        event, changes = self._only_change(invoice)
        self.assertEqual(changes["ref"], [False, "Harbour PO-4711"])
        self.assertEqual(changes["invoice_date_due"][1], fields.Date.to_string(due))
        self.assertEqual(event.user_id, self.finance)
        self._assert_chained(event, order)

        journal = self.env["account.journal"].search(
            [("type", "=", "general"), ("company_id", "=", invoice.company_id.id)],
            limit=1,
        )
        entry = self.env["account.move"].create(
            {"move_type": "entry", "journal_id": journal.id}
        )
        entry.write({"ref": "Not an invoice"})
        self.assertFalse(self._data_events(entry))

    # ------------------------------------------------- settings, rights --

    def test_05_customer_credit_settings_only(self):
        """A customer's credit settings are kept, outside any order's chain;
        their other fields are not."""
        manager = self.manager
        contact = self.env["res.partner"].create(
            {"name": "Wei Zhang", "parent_id": self.customer.id}
        )
        self.customer.with_user(manager).write(
            {
                "credit_limit": 5000.0,
                "order_credit_policy": "review",
                "property_payment_term_id": self.immediate.id,
                "phone": "+86 574 8888 0000",
            }
        )

        event, changes = self._only_change(self.customer)
        self.assertEqual(
            changes,
            {
                "credit_limit": [0.0, 5000.0],
                "order_credit_policy": [False, "review"],
                "property_payment_term_id": [False, self.immediate.id],
            },
        )
        self.assertEqual(event.user_id, manager)
        self._assert_chained(event)
        # Odoo copies the settings to the customer's contacts: not a change.
        self.assertEqual(contact.credit_limit, 5000.0)
        self.assertFalse(self._data_events(contact))

        # The form shows labels and names, not field names and ids.
        self.assertIn(self.immediate.name, event.changes_html)
        self.assertIn("Send to Finance for a credit review", event.changes_html)
        self.assertIn("Credit Limit: 0.0 \u2192 5000.0", event.changes_summary)
        self.assertEqual(event.res_name, self.customer.display_name)
        self.assertEqual(event.display_name, "Data changed · Harbour Trading Ltd")

    def test_06_rules_changes_creation_and_deletion(self):
        """Rule and policy changes are kept; so are new and deleted rules."""
        manager = self.manager
        policy = self.env.ref("order_management.review_policy_standard")
        assignment = self.env.ref("order_management.assignment_rule_logistics")
        special = self.env["order.special.type"].search([], limit=1)
        old = {
            "sla": policy.sla_hours,
            "method": assignment.method,
            "name": special.name,
        }
        new_method = "round_robin" if old["method"] != "round_robin" else "least_load"

        policy.with_user(manager).write({"sla_hours": old["sla"] + 4})
        assignment.with_user(manager).write({"method": new_method})
        special.with_user(manager).write({"name": "Rush (48 h)"})

        for record, expected in (
            (policy, {"sla_hours": [old["sla"], old["sla"] + 4]}),
            (assignment, {"method": [old["method"], new_method]}),
            (special, {"name": [old["name"], "Rush (48 h)"]}),
        ):
            with self.subTest(model=record._name):
                event, changes = self._only_change(record)
                self.assertEqual(changes, expected)
                self.assertEqual(event.user_id, manager)
                self._assert_chained(event)

        Rule = self.env["order.legality.rule"].with_user(manager)
        rule = Rule.create(
            {
                "name": "At most 500 per line",
                "rule_type": "max_quantity",
                "max_quantity": 500,
            }
        )
        event, changes = self._only_change(rule, "create")
        self.assertEqual(changes["max_quantity"], [False, 500.0])
        self.assertEqual(changes["rule_type"], [False, "max_quantity"])
        self.assertEqual(changes["blocking"], [False, True])
        # A new record had nothing before, not "No".
        self.assertIn(("Blocking", "", "Yes"), event._readable_rows({}))

        rule.write(
            {"max_quantity": 300, "product_ids": [Command.set(self.product.ids)]}
        )
        event, changes = self._only_change(rule)
        self.assertEqual(
            changes,
            {"max_quantity": [500.0, 300.0], "product_ids": [[], self.product.ids]},
        )

        rule.unlink()
        event, changes = self._only_change(rule, "delete")
        self.assertEqual(changes["max_quantity"], [300.0, False])
        self.assertEqual(changes["product_ids"], [self.product.ids, False])
        self.assertIn(("Max Quantity", "300.0", ""), event._readable_rows({}))
        self.assertEqual(event.user_id, manager)
        self._assert_chained(event)

    def test_07_group_membership_from_either_side(self):
        """Groups given to a user, users taken out of a group, and the user
        form's per-application fields all keep the members before and after."""
        clerk = self.users["clerk2"]
        reviewer_group = self.env.ref("order_management.group_order_reviewer")
        before = sorted(clerk.groups_id.ids)

        clerk.with_user(self.user_admin).write(
            {"groups_id": [Command.link(reviewer_group.id)]}
        )
        event, changes = self._only_change(clerk)
        self.assertEqual(changes["groups_id"][0], before)
        self.assertEqual(changes["groups_id"][1], sorted(clerk.groups_id.ids))
        # Implied groups come along, as the user now holds them.
        self.assertIn(reviewer_group.id, changes["groups_id"][1])
        self.assertIn(
            self.env.ref("sales_team.group_sale_salesman_all_leads").id,
            changes["groups_id"][1],
        )
        self.assertEqual(event.user_id, self.user_admin)
        self._assert_chained(event)

        members = sorted(reviewer_group.users.ids)
        reviewer_group.with_user(self.user_admin).write(
            {"users": [Command.unlink(clerk.id)]}
        )
        event, changes = self._only_change(reviewer_group)
        self.assertEqual(
            changes, {"users": [members, sorted(set(members) - {clerk.id})]}
        )
        self.assertEqual(event.user_id, self.user_admin)
        self._assert_chained(event)

        # The user form writes one field per group or application.
        finance = self.env.ref("order_management.group_order_finance")
        self.users["clerk2"].with_user(self.user_admin).write(
            {f"in_group_{finance.id}": True}
        )
        events = self._data_events(clerk)
        self.assertEqual(len(events), 2)
        changes = json.loads(events[-1].changes)
        self.assertNotIn(finance.id, changes["groups_id"][0])
        self.assertIn(finance.id, changes["groups_id"][1])

    def test_08_writes_that_change_nothing_log_nothing(self):
        """The same values written again, or fields not audited, add no event."""
        order = self._create_order(client_order_ref="PO-1")
        Event = self.env["order.audit.event"]
        count = Event.search_count([])

        order.with_user(self.clerk).write(
            {"client_order_ref": "PO-1", "commitment_date": order.commitment_date}
        )
        order.order_line.with_user(self.clerk).write(
            {"product_uom_qty": order.order_line.product_uom_qty}
        )
        self.customer.with_user(self.manager).write(
            {"credit_limit": 0.0, "phone": "+86 574 8888 0001", "comment": "VIP"}
        )
        self.clerk.with_user(self.user_admin).write(
            {"groups_id": [Command.link(self.clerk.groups_id[0].id)]}
        )
        policy = self.env.ref("order_management.review_policy_standard")
        policy.with_user(self.manager).write(
            {"name": policy.name, "sequence": policy.sequence}
        )

        self.assertEqual(Event.search_count([]), count)

    # ------------------------------------------------------------- costs --

    def test_09_cost_does_not_grow_with_fields_or_records(self):
        """Writing 1 or 5 audited fields on 1 or 20 records costs the same
        queries: nothing is read or written per field or per record."""
        Rule = self.env["order.legality.rule"].with_user(self.manager)
        rules = Rule.create(
            [
                {
                    "name": f"Quantity limit {index}",
                    "rule_type": "max_quantity",
                    "max_quantity": 100,
                    "blocking": False,
                }
                for index in range(21)
            ]
        )
        one, twenty = rules[0], rules[1:]
        rounds = iter(range(1, 100))

        def vals(field_count):
            step = next(rounds)
            return dict(
                list(
                    {
                        "max_amount": 1000 + step,
                        "max_quantity": 100 + step,
                        "sequence": 10 + step,
                        "blocking": bool(step % 2),
                        "name": f"Limit {step}",
                    }.items()
                )[:field_count]
            )

        def write(records, field_count):
            records.write(vals(field_count))
            self.env.flush_all()

        # Warm the caches: the first read of these rules as the manager
        # computes and caches the manager's record rules.
        self.env.invalidate_all()
        write(rules, 5)
        for records, field_count in ((one, 1), (one, 5), (twenty, 1), (twenty, 5)):
            with self.subTest(records=len(records), fields=field_count):
                self.env.invalidate_all()
                with self.assertQueryCount(AUDITED_WRITE_QUERIES):
                    write(records, field_count)
        # Each write gave each record its event: the warm-up and two more.
        self.assertEqual(len(self._data_events(one)), 3)
        self.assertEqual(len(self._data_events(twenty)), 3 * 20)

    def test_10_orders_pay_the_same_three_queries_for_any_write(self):
        """Orders' writes do work of their own; the history adds to any write
        of audited fields the same three queries (the chain's lock, the hash
        it ends on, the insert): the old values come with the read the write
        makes anyway."""
        orders = self.env["sale.order"]
        for _index in range(21):
            orders |= self._create_order()
        one, twenty = orders[0], orders[1:]
        clerk_orders = orders.with_user(self.clerk)
        carriers = self.carrier + self.carrier.copy({"name": "Sea Freight"})
        steps = iter(range(1, 100))

        def write(records, field_count):
            step = next(steps)
            values = {
                "client_order_ref": f"PO-{step}",
                "origin": f"Phone call {step}",
                "validity_date": fields.Date.today() + timedelta(days=30 + step),
                "note": f"<p>Call before delivery ({step})</p>",
                "carrier_id": carriers[step % 2].id,
            }
            clerk_orders.browse(records.ids).write(
                dict(list(values.items())[:field_count])
            )
            self.env.flush_all()

        def cost(records, field_count):
            self.env.invalidate_all()
            before = self.cr.sql_log_count
            write(records, field_count)
            return self.cr.sql_log_count - before

        self.env.invalidate_all()
        write(orders, 5)  # warm the caches
        not_audited = patch.object(
            type(self.env["sale.order"]), "_order_audited_fields", ()
        )
        for records, field_count in ((one, 1), (one, 5), (twenty, 1), (twenty, 5)):
            with self.subTest(records=len(records), fields=field_count):
                with not_audited:
                    plain = cost(records, field_count)
                self.assertEqual(cost(records, field_count) - plain, 3)
        self.assertEqual(len(self._data_events(twenty)), 3 * 20)

    # ------------------------------------------------------------- views --

    def test_11_views_load_and_export(self):
        """The audit list, form and search views load for an Order Manager,
        with the export of the list left on."""
        Event = self.env["order.audit.event"].with_user(self.manager)
        views = Event.get_views([(False, "list"), (False, "form"), (False, "search")])
        list_arch = views["views"]["list"]["arch"]
        for name in ("res_model", "res_name", "login", "ip_address", "changes_summary"):
            self.assertIn(f'name="{name}"', list_arch)
        self.assertNotIn("export_xlsx", list_arch)
        self.assertIn('name="changes_html"', views["views"]["form"]["arch"])
        search_arch = views["views"]["search"]["arch"]
        for name in (
            "order_transitions",
            "access",
            "data_changes",
            "today",
            "this_week",
            "this_month",
            "filter_timestamp",
            "group_user",
            "group_order",
            "group_model",
        ):
            self.assertIn(f'name="{name}"', search_arch)

        self.customer.with_user(self.manager).write({"credit_limit": 750.0})
        event = self._data_events(self.customer)
        exporter = new_test_user(
            self.env,
            login="om_test_exporting_manager",
            email="om_test_exporting_manager@example.com",
            groups=ROLE_GROUPS["manager"] + ",base.group_allow_export",
        )
        exported = event.with_user(exporter).export_data(
            ["timestamp", "user_id", "res_model", "res_id", "changes_summary"]
        )["datas"]
        self.assertEqual(exported[0][1], self.manager.name)
        self.assertEqual(exported[0][2:4], ["res.partner", self.customer.id])
        self.assertIn("750.0", exported[0][4])

    def test_12_user_form_shows_the_user_events(self):
        """Managers open a user's audit events from the user form."""
        self._create_order()
        user = self.clerk.with_user(self.manager)
        count = self.env["order.audit.event"].search_count(
            [("user_id", "=", self.clerk.id)]
        )
        self.assertTrue(count)
        self.assertEqual(user.order_audit_event_count, count)
        action = user.action_open_order_audit_events()
        self.assertEqual(action["res_model"], "order.audit.event")
        self.assertEqual(
            self.env["order.audit.event"].search_count(action["domain"]), count
        )
        form = self.env.ref("base.view_users_form")
        arch = (
            self.env["res.users"]
            .with_user(self.manager)
            .get_views([(form.id, "form")])["views"]["form"]["arch"]
        )
        self.assertIn("action_open_order_audit_events", arch)
