import logging
from collections import Counter
from datetime import datetime, time, timedelta

import pytz

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL, format_date, plaintext2html

_logger = logging.getLogger(__name__)

TEAMS = [
    ("logistics", "Logistics"),
    ("production", "Production"),
    ("customer_service", "Customer Service"),
]

# The round robin's turns of rule 7 come from the sequence ..._turn_7.
TURN_SEQUENCE_PREFIX = "order_assignment_rule_turn_"

METHODS = [
    ("round_robin", "Round robin"),
    ("least_load", "Least open tasks"),
]


class OrderAssignmentRule(models.Model):
    """Who of a team gets the team's to-do when an order is confirmed.

    One rule per team and company. Confirmation calls ``_assign_tasks``: each
    team that has something to do on the order gets one activity, assigned to
    one present member of the rule's group, in turn or to the least busy.
    """

    _name = "order.assignment.rule"
    _inherit = ["order.audited.mixin"]
    _description = "Order Task Assignment Rule"
    _order = "team, company_id, id"
    _order_audited_fields = (
        "name",
        "active",
        "team",
        "company_id",
        "group_id",
        "method",
        "activity_type_id",
        "deadline_days",
        "lead_user_id",
    )

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    team = fields.Selection(TEAMS, required=True)
    company_id = fields.Many2one(
        "res.company",
        default=lambda self: self.env.company,
        help="Orders of this company follow the rule; of every company when empty. "
        "A rule of the order's company wins over one without company.",
    )
    group_id = fields.Many2one(
        "res.groups",
        string="Team Members",
        required=True,
        help="The active internal users of this group take the team's tasks, "
        "except whoever is on leave today.",
    )
    method = fields.Selection(
        METHODS,
        required=True,
        default="least_load",
        help="Round robin: each member in turn. Least open tasks: the member "
        "with the fewest open activities of the rule's type.",
    )
    activity_type_id = fields.Many2one(
        "mail.activity.type",
        required=True,
        domain="['|', ('res_model', '=', False), ('res_model', '=', 'sale.order')]",
    )
    deadline_days = fields.Integer(
        string="Deadline (days)",
        default=1,
        help="The task is due this many days after the confirmation.",
    )
    lead_user_id = fields.Many2one(
        "res.users",
        string="Team Lead",
        domain="[('share', '=', False)]",
        help="Watches the team's overdue tasks, and takes the tasks when no "
        "member is present.",
    )
    overdue_count = fields.Integer(
        string="Overdue Tasks", compute="_compute_overdue_count"
    )

    def _compute_overdue_count(self):
        counts = dict(
            self.env["mail.activity"]._read_group(
                self._overdue_domain(), ["activity_type_id"], ["__count"]
            )
        )
        for rule in self:
            rule.overdue_count = counts.get(rule.activity_type_id, 0)

    # The round robin's turn is a PostgreSQL sequence per rule, not a field:
    # moved by every confirmation, a field would make any two confirmations at
    # once collide on the rule's row, and one of them fail after Odoo's retries.

    def init(self):
        # Rules of a database made before the turns were sequences.
        self.env.cr.execute("SELECT id FROM order_assignment_rule")
        self._create_turn_sequences([row[0] for row in self.env.cr.fetchall()])

    @api.model_create_multi
    def create(self, vals_list):
        rules = super().create(vals_list)
        self._create_turn_sequences(rules.ids)
        return rules

    def unlink(self):
        ids = self.ids
        result = super().unlink()
        for rule_id in ids:
            self.env.cr.execute(
                SQL(
                    "DROP SEQUENCE IF EXISTS %s",
                    SQL.identifier(f"{TURN_SEQUENCE_PREFIX}{rule_id}"),
                )
            )
        return result

    @api.model
    def _create_turn_sequences(self, rule_ids):
        for rule_id in rule_ids:
            self.env.cr.execute(
                SQL(
                    "CREATE SEQUENCE IF NOT EXISTS %s",
                    SQL.identifier(f"{TURN_SEQUENCE_PREFIX}{rule_id}"),
                )
            )

    def _take_turns(self, counts):
        """Reserve turns of the round robin: {rule: [turn, ...]}, one query.

        :param dict counts: {rule: how many turns it needs}
        """
        wanted = [(rule.id, count) for rule, count in counts.items() if count]
        if not wanted:
            return {}
        self.env.cr.execute(
            SQL(
                "SELECT rule_id, nextval((%s || rule_id)::regclass) "
                "FROM unnest(%s::int[], %s::int[]) AS wanted(rule_id, turns), "
                "generate_series(1, wanted.turns) "
                "ORDER BY rule_id",
                TURN_SEQUENCE_PREFIX,
                [rule_id for rule_id, _count in wanted],
                [count for _rule_id, count in wanted],
            )
        )
        turns = {rule: [] for rule in counts}
        by_id = {rule.id: rule for rule in counts}
        for rule_id, turn in self.env.cr.fetchall():
            turns[by_id[rule_id]].append(turn)
        for rule_turns in turns.values():
            rule_turns.sort()
        return turns

    @api.constrains("team", "company_id", "active")
    def _check_one_rule_per_team(self):
        for rule in self.filtered("active"):
            if self.search_count(
                [
                    ("id", "!=", rule.id),
                    ("team", "=", rule.team),
                    ("company_id", "=", rule.company_id.id),
                ]
            ):
                raise ValidationError(
                    self.env._(
                        "There is already an active rule for the team %(team)s.",
                        team=dict(
                            self._fields["team"]._description_selection(self.env)
                        )[rule.team],
                    )
                )

    # ----------------------------------------------------------- actions --

    def _overdue_domain(self):
        today = fields.Date.context_today(self)
        return [
            ("activity_type_id", "in", self.activity_type_id.ids),
            ("date_deadline", "<", today),
        ]

    def action_open_overdue_tasks(self):
        """Show the team lead the open tasks of these teams past their deadline."""
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Overdue Team Tasks"),
            "res_model": "mail.activity",
            "view_mode": "list,form",
            "views": [
                (self.env.ref("mail.mail_activity_view_tree").id, "list"),
                (self.env.ref("mail.mail_activity_view_form").id, "form"),
            ],
            "domain": self._overdue_domain(),
            "context": {"search_default_group_by_user_id": True, "create": False},
        }

    @api.model
    def _action_overdue_tasks_menu(self):
        """The menu's action: every active team's overdue tasks."""
        return self.search([]).action_open_overdue_tasks()

    # ---------------------------------------------------------- business --

    @api.model
    def _assign_tasks(self, orders):
        """Give confirmed ``orders`` their teams' tasks, for a whole batch at once.

        Whatever the number of orders, the members' loads are read with one
        query and the activities made with one create, without an e-mail per
        activity (as the review to-dos: a batch can confirm hundreds of orders).
        An order that already has an open task of a team gets no second one.

        :return: the activities created
        """
        orders = orders.filtered(lambda o: o.state == "sale")
        if not orders:
            return self.env["mail.activity"]
        rules = self.sudo().search(
            [("company_id", "in", orders.company_id.ids + [False])]
        )
        existing = rules._existing_tasks(orders)
        tasks = []
        for order in orders:
            for rule in rules._for_company(order.company_id):
                if (order.id, rule.activity_type_id.id) in existing:
                    continue
                note = rule._task_note(order)
                if note:
                    tasks.append((order, rule, note))
        pick = rules._user_picker([rule for _order, rule, _note in tasks])
        sale_order_model = self.env["ir.model"]._get_id("sale.order")
        today = fields.Date.context_today(self)
        vals_list = []
        for order, rule, note in tasks:
            user = pick(rule, order)
            if not user:
                continue
            vals_list.append(
                {
                    "res_model_id": sale_order_model,
                    "res_id": order.id,
                    "activity_type_id": rule.activity_type_id.id,
                    "summary": rule.activity_type_id.summary,
                    "date_deadline": today + timedelta(days=rule.deadline_days),
                    "user_id": user.id,
                    "note": plaintext2html(note),
                }
            )
        activities = (
            self.env["mail.activity"]
            .sudo()
            .with_context(mail_activity_quick_update=True)
            .create(vals_list)
        )
        _logger.info("%s order tasks assigned", len(activities))
        return activities

    def _for_company(self, company):
        """Return, of these rules, the one of each team that applies to ``company``."""
        chosen = {}
        for rule in self.sorted(lambda r: not r.company_id):
            if rule.company_id in (company, self.env["res.company"]):
                chosen.setdefault(rule.team, rule)
        return self.browse([rule.id for rule in chosen.values()])

    def _existing_tasks(self, orders):
        """Return {(order id, activity type id)} of the orders' open tasks."""
        activities = (
            self.env["mail.activity"]
            .sudo()
            .search_fetch(
                [
                    ("res_model", "=", "sale.order"),
                    ("res_id", "in", orders.ids),
                    ("activity_type_id", "in", self.activity_type_id.ids),
                ],
                ["res_id", "activity_type_id"],
            )
        )
        return {(a.res_id, a.activity_type_id.id) for a in activities}

    def _task_note(self, order):
        """Return what the team has to do on ``order``, or "" when nothing."""
        self.ensure_one()
        note = getattr(self, f"_{self.team}_note")(order)
        if note and order.special_type_id:
            # Special orders are told to the teams that execute them.
            note += "\n" + self.env._(
                "Special order: %(type)s. %(note)s",
                type=order.special_type_id.name,
                note=order.special_note or "",
            )
        return note

    def _logistics_note(self, order):
        goods = order.order_line.filtered(
            lambda line: line.product_id.type == "consu" and not line.display_type
        )
        if not goods:
            return ""
        promised = order.commitment_date or order.expected_date
        local = promised and fields.Datetime.context_timestamp(self, promised)
        return self.env._(
            "Prepare and ship %(order)s: %(count)s line(s), promised for %(date)s.",
            order=order.name,
            count=len(goods),
            date=format_date(self.env, local) if local else "-",
        )

    def _production_note(self, order):
        lines = order.order_line.filtered(self._is_made_to_order)
        return "\n".join(
            self.env._(
                "Produce %(qty)s %(uom)s of %(product)s for %(order)s.",
                qty=line.product_uom_qty,
                uom=line.product_uom.name,
                product=line.product_id.display_name,
                order=order.name,
            )
            for line in lines
        )

    def _customer_service_note(self, order):
        return self.env._(
            "Confirm %(order)s with the customer %(customer)s.",
            order=order.name,
            customer=order.partner_id.display_name,
        )

    def _is_made_to_order(self, line):
        """Whether ``line`` is made for the order: its product takes the MTO route.

        Without the Manufacturing app, Make To Order on the product (or on its
        category, or on the line itself) is what marks goods made for an order.
        Odoo applies the route only while it is active, and so does this.
        """
        # Cached lookup: ``env.ref`` would check the route exists, line by line.
        mto_id = self.env["ir.model.data"]._xmlid_to_res_id(
            "stock.route_warehouse0_mto", raise_if_not_found=False
        )
        if not mto_id or line.display_type:
            return False
        product = line.product_id
        routes = line.route_id | product.route_ids | product.categ_id.total_route_ids
        return mto_id in routes.ids

    # ---------------------------------------------------------- choosing --

    def _user_picker(self, picks):
        """Return a function (rule, order) -> the member to give the task.

        Members are read once for all the rules, absences with one search, the
        loads of the least-load rules with one query and the turns of the
        round-robin rules with another; the picker then counts what it
        assigns, so that a batch is spread as evenly as one by one.

        :param list picks: the rule of each task to assign, one by task
        """
        members = self._members()
        absent = self._absent_users(self.env["res.users"].union(*members.values()))
        loads = self._loads(self.filtered(lambda r: r.method == "least_load"))
        wanted = Counter(picks)
        turns = self._take_turns(
            {
                rule: wanted[rule]
                for rule in self.filtered(lambda r: r.method == "round_robin")
            }
        )

        def pick(rule, order):
            candidates = members[rule].filtered(
                lambda u: u not in absent and order.company_id in u.company_ids
            )
            if rule.method == "round_robin":
                # A turn is taken even when nobody is there, so that the
                # next member in turn stays the same for the orders after.
                turn = turns[rule].pop(0)
                if not candidates:
                    return rule._nobody_present(order)
                chosen = candidates[(turn - 1) % len(candidates)]
            elif not candidates:
                return rule._nobody_present(order)
            else:
                key = rule.activity_type_id
                chosen = min(candidates, key=lambda u: (loads.get((key, u), 0), u.id))
                loads[(key, chosen)] = loads.get((key, chosen), 0) + 1
            return chosen

        return pick

    def _members(self):
        """Return {rule: its group's active internal users, by id}."""
        return {
            rule: rule.group_id.users.filtered(
                lambda u: u.active and not u.share and not u._is_superuser()
            ).sorted("id")
            for rule in self
        }

    def _loads(self, rules):
        """Return {(activity type, user): open activities}, in one query."""
        if not rules:
            return {}
        groups = (
            self.env["mail.activity"]
            .sudo()
            ._read_group(
                [("activity_type_id", "in", rules.activity_type_id.ids)],
                ["activity_type_id", "user_id"],
                ["__count"],
            )
        )
        return {(kind, user): count for kind, user, count in groups}

    def _absent_users(self, users):
        """Return the ``users`` on leave today, each in their own time zone.

        Absences are the leaves of the user's resource (``resource.resource``
        linked to the user), as the Time Off app records them; users without a
        resource are never absent. Company holidays (leaves without resource)
        do not count: no one would be left to take the task.
        """
        if not users:
            return users
        now = fields.Datetime.now()
        leaves = (
            self.env["resource.calendar.leaves"]
            .sudo()
            .search(
                [
                    ("resource_id.user_id", "in", users.ids),
                    # A day either side covers every time zone's today.
                    ("date_from", "<", now + timedelta(days=1)),
                    ("date_to", ">", now - timedelta(days=1)),
                ]
            )
        )
        absent = self.env["res.users"]
        for leave in leaves:
            start, end = self._today_in(leave.resource_id.tz, now)
            if leave.date_from < end and leave.date_to > start:
                absent |= leave.resource_id.user_id
        return absent

    @api.model
    def _today_in(self, tz, now):
        """Return the UTC (start, end) of the day it is at ``now`` in ``tz``."""
        zone = pytz.timezone(tz or "UTC")
        local_day = pytz.utc.localize(now).astimezone(zone).date()

        def midnight(day):
            local = zone.localize(datetime.combine(day, time.min))
            return local.astimezone(pytz.utc).replace(tzinfo=None)

        return midnight(local_day), midnight(local_day + timedelta(days=1))

    def _nobody_present(self, order):
        """The lead takes the task when no member can; else no one is told."""
        self.ensure_one()
        lead = self.lead_user_id
        if lead.active and not lead.share:
            return lead
        _logger.warning(
            "No member of %s can take the %s task of %s",
            self.group_id.full_name,
            self.team,
            order.name,
        )
        return self.env["res.users"]
