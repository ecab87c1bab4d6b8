import pytz
from markupsafe import Markup

from odoo import api, fields, models
from odoo.tools import SQL, float_compare

from ..tools.credit_exposure import credit_exposure
from ..tools.look_alike_orders import exact_duplicates, similar_orders


class OrderReviewChecks(models.AbstractModel):
    """The automatic checks an order meets each time it is submitted.

    Each check yields results (passed, warning, failed); a failed blocking
    result holds the order instead of sending it to a reviewer.
    """

    _name = "order.review.checks"
    _description = "Order Review Checks"

    @api.model
    def _run(self, orders):
        """Check ``orders`` and store the results on them.

        :return: {order id: list of result values}
        """
        now = fields.Datetime.now()
        # Totals of new orders are still to compute: compute them for the whole
        # batch at once, not order by order inside the checks.
        orders.mapped("amount_total")
        # Same for what the price list check reads on every line.
        orders.order_line.mapped("pricelist_item_id")
        orders.order_line.mapped("product_no_variant_attribute_value_ids")
        exposure = self._credit_exposure(orders)
        duplicates = exact_duplicates(self.env.cr, orders.ids, self._day_zone())
        similar = self._similar_orders(orders)
        rules = self.env["order.legality.rule"].search(
            [("company_id", "in", orders.company_id.ids + [False])]
        )

        results = {}
        for order in orders:
            found = (
                self._completeness(order)
                + self._accuracy(order)
                + self._legality(order, rules)
                + self._credit(order, exposure)
                + self._duplicate(duplicates.get(order.id, []))
                + self._similar(similar.get(order.id, []), duplicates.get(order.id, []))
            )
            results[order.id] = [
                dict(values, order_id=order.id, sequence=index, checked_at=now)
                for index, values in enumerate(found)
            ]

        self._store(orders, [values for found in results.values() for values in found])
        return results

    def _store(self, orders, vals_list):
        """Replace the orders' results with ``vals_list``, in two statements.

        Results describe the latest submission only. Several per order at each
        submission of every imported order: written in SQL, not one ORM create
        per row; the model has no computed field nor constraint to honour.
        """
        columns = [
            "order_id",
            "sequence",
            "check",
            "result",
            "blocking",
            "needs_credit_review",
            "message",
            "related_order_id",
            "checked_at",
        ]
        cr, uid = self.env.cr, self.env.uid
        cr.execute(
            SQL("DELETE FROM order_check_result WHERE order_id = ANY(%s)", orders.ids)
        )
        if vals_list:
            rows = SQL(", ").join(
                SQL(
                    "(%s, %s, %s, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')",
                    SQL(", ").join(values.get(column) for column in columns),
                    uid,
                    uid,
                )
                for values in vals_list
            )
            cr.execute(
                SQL(
                    "INSERT INTO order_check_result (%s, create_uid, write_uid, "
                    "create_date, write_date) VALUES %s",
                    SQL(", ").join(SQL.identifier(column) for column in columns),
                    rows,
                )
            )
        orders.invalidate_recordset(["check_result_ids"])
        self.env["order.check.result"].invalidate_model()

    @api.model
    def _preview(self, order):
        """The results the checks would give ``order`` as it is now, even unsaved.

        Nothing is stored. Duplicates and similar orders are looked for in the
        database, where an unsaved order is not yet: they wait for the save.
        """
        rules = self.env["order.legality.rule"].search(
            [("company_id", "in", [order.company_id.id, False])]
        )
        return (
            self._completeness(order)
            + self._accuracy(order)
            + self._legality(order, rules)
            + self._credit(order, self._credit_exposure(order))
        )

    @api.model
    def _render(self, results):
        """A short HTML list of results, failures first, for the order form."""
        rank = {"failed": 0, "warning": 1, "passed": 2}
        labels = dict(
            self.env["order.check.result"]
            ._fields["result"]
            ._description_selection(self.env)
        )
        badges = {"failed": "danger", "warning": "warning", "passed": "success"}
        items = Markup("").join(
            Markup(
                "<li class='d-flex gap-2 align-items-baseline'>"
                "<span class='badge text-bg-%s'>%s</span><span>%s</span></li>"
            )
            % (badges[values["result"]], labels[values["result"]], values["message"])
            for values in sorted(results, key=lambda values: rank[values["result"]])
        )
        return Markup("<ul class='list-unstyled mb-0'>%s</ul>") % items

    # -------------------------------------------------------------- checks --

    @api.model
    def _result(self, check, ok, message, blocking=True, warn_only=False):
        if ok:
            result = "passed"
        else:
            result = "warning" if warn_only else "failed"
        return {
            "check": check,
            "result": result,
            "blocking": blocking and result == "failed",
            "message": message,
        }

    def _completeness(self, order):
        address = order.partner_shipping_id
        lines = order.order_line.filtered(lambda line: not line.display_type)
        missing = []
        if not order.partner_id:
            missing.append(self.env._("customer"))
        if not (address.street and address.country_id):
            missing.append(self.env._("delivery address (street and country)"))
        if not order.commitment_date:
            missing.append(self.env._("delivery date"))
        if not lines:
            missing.append(self.env._("order lines"))
        if lines.filtered(lambda line: line.product_uom_qty <= 0):
            missing.append(self.env._("a quantity on every line"))
        if lines.filtered(lambda line: line.price_unit <= 0):
            missing.append(self.env._("a price on every line"))
        if order.special_type_id and not (order.special_note or "").strip():
            missing.append(
                self.env._(
                    "a note saying what is special (%(type)s)",
                    type=order.special_type_id.name,
                )
            )
        return [
            self._result(
                "completeness",
                not missing,
                self.env._("Missing: %(what)s", what=", ".join(missing))
                if missing
                else self.env._("The order is complete."),
            ),
            self._result(
                "completeness",
                bool(address.city or address.zip),
                self.env._("The delivery address has a city or postcode.")
                if address.city or address.zip
                else self.env._("The delivery address has no city or postcode."),
                warn_only=True,
            ),
        ]

    def _accuracy(self, order):
        lines = order.order_line.filtered(lambda line: not line.display_type)
        tolerance = order.company_id.order_price_tolerance / 100.0
        today = fields.Date.context_today(self)

        off_price = []
        # A line just added on the form has no product yet: nothing to price.
        for line in lines.filtered("product_id"):
            expected = line._get_pricelist_price()
            if expected and abs(line.price_unit - expected) > tolerance * expected:
                off_price.append(line.product_id.display_name)
        # The day the delivery falls on where "today" is counted, not in UTC:
        # late in the UTC day, a delivery due now would read as yesterday's.
        delivery = order.commitment_date and (
            fields.Datetime.context_timestamp(self, order.commitment_date).date()
        )
        return [
            self._result(
                "accuracy",
                not off_price,
                self.env._(
                    "Prices differ from the price list: %(products)s",
                    products=", ".join(off_price),
                )
                if off_price
                else self.env._("Prices match the price list."),
                warn_only=True,
            ),
            self._result(
                "accuracy",
                not delivery or delivery >= today,
                self.env._("The delivery date %(date)s is past.", date=delivery)
                if delivery and delivery < today
                else self.env._("The delivery date is not past."),
            ),
        ]

    def _legality(self, order, rules):
        violations = rules._violations(order)
        if not violations:
            return [self._result("legality", True, self.env._("No rule is broken."))]
        return [
            self._result(
                "legality",
                False,
                self.env._("%(rule)s: %(what)s", rule=rule.name, what=what),
                blocking=rule.blocking,
                warn_only=not rule.blocking,
            )
            for rule, what in violations
        ]

    def _duplicate(self, found):
        if not found:
            return [self._result("duplicate", True, self.env._("No exact duplicate."))]
        results = []
        for reason, other_id, other_name in found:
            if reason == "reference":
                message = self.env._(
                    "Same customer reference as %(order)s.", order=other_name
                )
            else:
                message = self.env._(
                    "Same lines and delivery day as %(order)s.", order=other_name
                )
            results.append(
                dict(
                    self._result("duplicate", False, message),
                    related_order_id=other_id,
                )
            )
        return results

    def _similar(self, found, duplicates):
        # An exact duplicate already holds the order: no need to say it twice.
        exact = {other_id for _reason, other_id, _name in duplicates}
        found = [look_alike for look_alike in found if look_alike[0] not in exact]
        if not found:
            return [self._result("similar", True, self.env._("No similar order."))]
        return [
            dict(
                self._result(
                    "similar",
                    False,
                    self.env._(
                        "Looks like %(order)s: %(matched)s of %(products)s products "
                        "with about the same quantities.",
                        order=other_name,
                        matched=matched,
                        products=products,
                    ),
                    warn_only=True,
                ),
                related_order_id=other_id,
            )
            for other_id, other_name, matched, products in found
        ]

    def _day_zone(self):
        """The time zone whose days the checks compare, as the accuracy check
        reads them (``context_timestamp``); UTC for a name not in the tz
        database."""
        tz = self.env.context.get("tz") or self.env.user.tz
        return tz if tz in pytz.all_timezones_set else "UTC"

    def _similar_orders(self, orders):
        """Look-alikes per order, with each company's window and tolerance."""
        found = {}
        for company, company_orders in orders.grouped("company_id").items():
            found.update(
                similar_orders(
                    self.env.cr,
                    company_orders.ids,
                    company.order_similar_window_days,
                    company.order_similar_tolerance / 100.0,
                )
            )
        return found

    def _credit_exposure(self, orders):
        # The aggregate reads the tables directly: write pending changes first.
        self.env["account.move.line"].flush_model(
            [
                "partner_id",
                "account_id",
                "amount_residual",
                "date_maturity",
                "parent_state",
                "reconciled",
                "company_id",
            ]
        )
        self.env["sale.order.line"].flush_model(
            [
                "order_id",
                "price_total",
                "product_uom_qty",
                "qty_invoiced",
                "product_id",
                "display_type",
            ]
        )
        self.env["sale.order"].flush_model(
            [
                "state",
                "partner_id",
                "company_id",
                "client_order_ref",
                "commitment_date",
                "date_order",
            ]
        )
        self.env["res.partner"].flush_model(["commercial_partner_id"])
        exposure = {}
        today = fields.Date.context_today(self)
        for company in orders.company_id:
            partners = orders.filtered(
                lambda o, c=company: o.company_id == c
            ).partner_id
            exposure.update(
                credit_exposure(
                    self.env.cr, partners.commercial_partner_id.ids, company.id, today
                )
            )
        return exposure

    def _credit(self, order, exposure):
        customer = order.partner_id.commercial_partner_id.with_company(order.company_id)
        currency = order.company_id.currency_id
        open_amount, overdue, uninvoiced = exposure.get(customer.id, (0.0, 0.0, 0.0))
        total = open_amount + uninvoiced + order.amount_total
        # Credit settings are Finance's fields; every submission reads them.
        limit = (
            customer.sudo().credit_limit
            if order.company_id.account_use_credit_limit
            else 0.0
        )
        policy = (
            customer.sudo().order_credit_policy or order.company_id.order_credit_policy
        )

        problems = []
        if (
            limit > 0
            and float_compare(total, limit, precision_rounding=currency.rounding) > 0
        ):
            problems.append(
                self.env._(
                    "Exposure %(total)s (open %(open)s, to invoice %(todo)s, this "
                    "order %(order)s) passes the limit %(limit)s.",
                    total=currency.format(total),
                    open=currency.format(open_amount),
                    todo=currency.format(uninvoiced),
                    order=currency.format(order.amount_total),
                    limit=currency.format(limit),
                )
            )
        if order.company_id.order_block_overdue and overdue > 0:
            problems.append(
                self.env._(
                    "%(amount)s of invoices are overdue.",
                    amount=currency.format(overdue),
                )
            )
        if not problems:
            return [
                self._result(
                    "credit",
                    True,
                    self.env._(
                        "Exposure %(total)s is within the credit policy.",
                        total=currency.format(total),
                    ),
                )
            ]
        # "review": the order goes on, with Finance added as a review level.
        return [
            dict(
                self._result(
                    "credit",
                    False,
                    message,
                    blocking=policy == "block",
                    warn_only=policy == "review",
                ),
                needs_credit_review=policy == "review",
            )
            for message in problems
        ]
