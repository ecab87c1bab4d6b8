from collections import Counter
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.fields import Command
from odoo.tests import new_test_user, tagged

from .common import OrderManagementCommon

# Queries of one _assign_tasks call, on warm caches, whatever the number of
# orders: the rules, the orders' open tasks, the members and their companies,
# the absences, one load count, the orders' lines and products, one create of
# the activities (with the assignees subscribed to the orders, one per
# assignee) and the round robin's turns, taken from its sequence.
ASSIGN_QUERIES = 34


@tagged("post_install", "-at_install")
class TestTaskAssignment(OrderManagementCommon):
    """Confirmed orders give each team one task, for one present member."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ship_rule = cls.env.ref("order_management.assignment_rule_logistics")
        cls.produce_rule = cls.env.ref("order_management.assignment_rule_production")
        cls.service_rule = cls.env.ref(
            "order_management.assignment_rule_customer_service"
        )
        # Teams of their own, so that the admin and the other tests' users,
        # who hold the roles too, take no task here.
        cls.ship_team, cls.shippers = cls._team(
            "shipping", "order_management.group_order_logistics", 4
        )
        cls.make_team, cls.makers = cls._team("making", "stock.group_stock_user", 2)
        cls.service_team, cls.agents = cls._team(
            "service", "order_management.group_order_clerk", 2
        )
        cls.ship_rule.group_id = cls.ship_team
        cls.produce_rule.group_id = cls.make_team
        cls.service_rule.group_id = cls.service_team

        cls.ship_type = cls.ship_rule.activity_type_id
        cls.produce_type = cls.produce_rule.activity_type_id
        cls.service_type = cls.service_rule.activity_type_id

        # Odoo ships the route archived; a company making to order activates it.
        mto = cls.env.ref("stock.route_warehouse0_mto")
        mto.active = True
        cls.mto_product = cls.env["product.product"].create(
            {
                "name": "Custom gate",
                "default_code": "OM-GATE",
                "type": "consu",
                "is_storable": True,
                "list_price": 40.0,
                "invoice_policy": "delivery",
                "taxes_id": [Command.clear()],
                "route_ids": [Command.link(mto.id)],
            }
        )

    @classmethod
    def _team(cls, name, role, size):
        """A group implying ``role``, and ``size`` users holding only it."""
        team = cls.env["res.groups"].create(
            {
                "name": f"Test {name} team",
                "implied_ids": [Command.link(cls.env.ref(role).id)],
            }
        )
        internal = cls.env.ref("base.group_user")
        users = cls.env["res.users"]
        for index in range(size):
            users |= new_test_user(
                cls.env,
                login=f"om_test_{name}_{index}",
                email=f"om_test_{name}_{index}@example.com",
                groups_id=[internal.id, team.id],
            )
        return team, users

    def _approved_orders(self, count, **values):
        orders = self.env["sale.order"]
        for _index in range(count):
            orders |= self._approved_order(**values)
        return orders

    def _tasks(self, orders, activity_type):
        return self.env["mail.activity"].search(
            [
                ("res_model", "=", "sale.order"),
                ("res_id", "in", orders.ids),
                ("activity_type_id", "=", activity_type.id),
            ],
            order="res_id, id",
        )

    def test_01_least_load_spreads_a_batch_and_skips_archived(self):
        """6 orders confirmed at once: 2 each for the 3 active shippers."""
        archived = self.shippers[0]  # the first in line, were it active
        archived.active = False
        orders = self._approved_orders(6)

        orders.with_user(self.clerk).action_confirm()

        tasks = self._tasks(orders, self.ship_type)
        self.assertEqual(len(tasks), 6)
        self.assertEqual(tasks.mapped("res_id"), orders.ids)
        self.assertEqual(
            Counter(task.user_id for task in tasks),
            Counter(dict.fromkeys(self.shippers - archived, 2)),
        )
        self.assertEqual(tasks[0].summary, "Prepare and ship the order")
        self.assertIn(orders[0].name, tasks[0].note)
        # The shipper sees the task and the order it is about.
        shipper = tasks[0].user_id
        self.assertTrue(tasks[0].with_user(shipper).read(["summary"]))
        self.assertTrue(orders[0].with_user(shipper).read(["name"]))

        # A task done frees its shipper, who is then the least busy (the
        # last shipper: on equal loads the first would be chosen).
        freed = self.shippers[-1]
        tasks.filtered(lambda t: t.user_id == freed)[:1].action_done()
        order = self._confirmed_order()
        self.assertEqual(self._tasks(order, self.ship_type).user_id, freed)

    def test_02_round_robin_cycles_across_batches(self):
        """Each member in turn, going on from where the last batch stopped."""
        self.ship_rule.method = "round_robin"
        first = self._approved_orders(3)
        first.with_user(self.clerk).action_confirm()
        later = self._confirmed_order() | self._confirmed_order()

        tasks = self._tasks(first | later, self.ship_type)
        # The turn lives in a sequence that earlier tests moved: the first
        # task may fall to anyone, the others follow in turn.
        shippers = list(self.shippers)
        start = shippers.index(tasks[0].user_id)
        expected = [shippers[(start + step) % len(shippers)] for step in range(5)]
        self.assertEqual([task.user_id for task in tasks], expected)

    def test_02b_confirmations_do_not_write_the_rule(self):
        """Two people confirming at once must not collide on the rule's row."""
        self.ship_rule.method = "round_robin"
        self.env.flush_all()
        orders = self._approved_orders(2)
        with patch.object(type(self.ship_rule), "write") as write:
            orders.with_user(self.clerk).action_confirm()
        self.assertFalse(write.called)
        self.assertEqual(len(self._tasks(orders, self.ship_type)), 2)

    def test_03_member_on_leave_today_is_skipped(self):
        """A leave today skips its user; yesterday's and company holidays do not."""
        s0, s1, s2, s3 = self.shippers
        now = fields.Datetime.now()
        Resource = self.env["resource.resource"]
        Leave = self.env["resource.calendar.leaves"]
        away = Resource.create(
            {"name": s1.name, "user_id": s1.id, "tz": "Asia/Shanghai"}
        )
        back = Resource.create({"name": s2.name, "user_id": s2.id, "tz": "UTC"})
        Leave.create(
            {
                "name": "Annual leave",
                "resource_id": away.id,
                "date_from": now - timedelta(hours=2),
                "date_to": now + timedelta(hours=2),
            }
        )
        Leave.create(
            {
                "name": "Sick leave",
                "resource_id": back.id,
                "date_from": now - timedelta(days=3),
                "date_to": now - timedelta(days=2),
            }
        )
        Leave.create(
            {
                "name": "Company holiday",
                "calendar_id": self.env.company.resource_calendar_id.id,
                "date_from": now - timedelta(hours=2),
                "date_to": now + timedelta(hours=2),
            }
        )
        orders = self._approved_orders(6)
        orders.with_user(self.clerk).action_confirm()

        users = self._tasks(orders, self.ship_type).mapped("user_id")
        self.assertNotIn(s1, users)
        self.assertEqual(users, s0 | s2 | s3)

    def test_04_lead_takes_the_task_when_no_member_is_present(self):
        self.ship_rule.lead_user_id = self.manager
        self.shippers.active = False
        order = self._confirmed_order()
        self.assertEqual(self._tasks(order, self.ship_type).user_id, self.manager)

    def test_05_production_only_for_made_to_order_lines(self):
        """Only the order with an MTO product gets a production task."""
        stock_only = self._approved_order()
        made = self._approved_order(
            order_line=[
                Command.create(
                    {"product_id": self.mto_product.id, "product_uom_qty": 3}
                ),
                Command.create({"product_id": self.product.id, "product_uom_qty": 1}),
            ]
        )
        (stock_only | made).with_user(self.clerk).action_confirm()

        produce = self._tasks(stock_only | made, self.produce_type)
        self.assertEqual(produce.mapped("res_id"), made.ids)
        self.assertIn(produce.user_id, self.makers)
        self.assertIn("Custom gate", produce.note)
        self.assertNotIn("Steel bracket", produce.note)
        # Both have goods to ship.
        self.assertEqual(len(self._tasks(stock_only | made, self.ship_type)), 2)

    def test_06_customer_service_is_told_of_special_orders(self):
        """Every confirmed order is confirmed with the customer; special ones say so."""
        rush = self.env.ref("order_management.special_type_rush")
        special = self._confirmed_order(
            special_type_id=rush.id, special_note="Line stop at the customer."
        )
        standard = self._confirmed_order()

        special_task = self._tasks(special, self.service_type)
        self.assertEqual(len(special_task), 1)
        self.assertIn(special_task.user_id, self.agents)
        self.assertEqual(special_task.summary, "Confirm the order with the customer")
        self.assertIn("Special order: Rush", special_task.note)
        self.assertIn("Line stop at the customer.", special_task.note)

        standard_task = self._tasks(standard, self.service_type)
        self.assertEqual(len(standard_task), 1)
        self.assertNotIn("Special order", standard_task.note)
        # Round robin: the two orders went to the two agents in turn.
        self.assertEqual(special_task.user_id | standard_task.user_id, self.agents)

    def test_07_confirming_again_creates_no_second_task(self):
        order = self._confirmed_order()
        tasks = order.activity_ids
        self.assertEqual(
            set(tasks.activity_type_id.ids),
            {self.ship_type.id, self.service_type.id},
        )

        order.sudo().write({"state": "sale"})
        self.env["order.assignment.rule"]._assign_tasks(order)

        self.assertEqual(order.activity_ids, tasks)

    def test_08_overdue_tasks_for_the_lead(self):
        """The team's tasks past their deadline, from the rule and the menu."""
        late, on_time = self._confirmed_order(), self._confirmed_order()
        late_task = self._tasks(late, self.ship_type)
        late_task.date_deadline = fields.Date.today() - timedelta(days=1)

        self.assertEqual(self.ship_rule.with_user(self.manager).overdue_count, 1)
        action = self.ship_rule.with_user(self.manager).action_open_overdue_tasks()
        listed = self.env["mail.activity"].search(action["domain"])
        self.assertEqual(listed, late_task)
        self.assertNotIn(on_time.id, listed.mapped("res_id"))

        menu_action = self.env.ref(
            "order_management.order_assignment_rule_action_overdue"
        )
        action = menu_action.with_user(self.manager).run()
        self.assertEqual(action["res_model"], "mail.activity")
        self.assertEqual(self.env["mail.activity"].search(action["domain"]), late_task)

    def test_09_query_count_does_not_grow_with_orders(self):
        """Assigning 10 orders costs the queries of assigning one."""
        # One member per team: Odoo subscribes each assignee to the orders
        # once per batch, which grows with the members given tasks, not with
        # the orders.
        self.ship_rule.group_id.users = self.shippers[:1]
        self.service_rule.group_id.users = self.agents[:1]
        orders = self._approved_orders(12)
        orders.with_user(self.clerk).action_confirm()
        orders.activity_ids.unlink()
        Rule = self.env["order.assignment.rule"]

        def assign(batch):
            self.env.invalidate_all()
            return Rule._assign_tasks(self.env["sale.order"].browse(batch.ids))

        assign(orders[0])  # warm-up
        with self.assertQueryCount(ASSIGN_QUERIES):
            one = assign(orders[1])
        with self.assertQueryCount(ASSIGN_QUERIES):
            ten = assign(orders[2:])
        self.assertEqual(len(one), 2)
        self.assertEqual(len(ten), 20)
