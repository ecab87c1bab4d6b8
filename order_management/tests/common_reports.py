from datetime import date, datetime

from freezegun import freeze_time

from .common import OrderManagementCommon

MARCH = date(2031, 3, 1)
APRIL = date(2031, 4, 1)
MAY = date(2031, 5, 1)


def at(text):
    """A UTC time of the fixed data set, e.g. ``at("03-04 13:00")`` in 2031."""
    return datetime.fromisoformat(f"2031-{text}")


class OrderReportCommon(OrderManagementCommon):
    """A small fixed set of orders whose every KPI is computed by hand.

    All times are UTC, in March 2031 unless said otherwise; the company's
    calendar is in Shanghai (UTC+8), where none of these times changes month.
    Each order costs 7.50 a bracket and sells at 12.50.

    ===== ====== =========================================================
    order clerk  what happened
    ===== ====== =========================================================
    o1    A      03-03 09:00 entered, deadline 17:00; approved by R1 11:00;
                 confirmed 12:00; shipped by L 03-05 10:00; signed 03-08
                 15:00 (promised 03-10 12:00); invoiced 03-09 10:00; paid
                 and completed 03-12 10:00. 4 brackets.
    o2    A      03-04 09:00 entered, deadline 17:00; R1 rejects 13:00
                 (PRICE); resubmitted 03-05 09:00, deadline 17:00; R2
                 rejects 03-06 10:00 (QTY, late); resubmitted 12:00,
                 deadline 17:00; R1 approves 14:00; confirmed 15:00;
                 shipped 03-10 09:00; delivered 03-13 12:00 (promised
                 03-12 12:00: a day late); signed 03-14 10:00. 2 brackets.
    o3    B      03-05 09:00 entered, deadline 17:00; R2 approves 03-07
                 09:00 (late); confirmed 10:00; shipped 03-10 09:00
                 (promised 03-09 12:00: late); incident 03-11 10:00.
                 6 brackets.
    o4    B      03-06 09:00 entered, deadline 17:00; R1 rejects 10:00
                 (PRICE); left so. 8 brackets.
    o5    B      03-07 09:00 entered; waiting for review. 10 brackets.
    o7    B      03-08 09:00 entered with a past delivery date: held by
                 the checks. 12 brackets.
    o6    A      04-02 09:00 entered, deadline 17:00; R2 approves 10:00.
                 14 brackets.
    ===== ====== =========================================================
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.env.company
        cls.company.resource_calendar_id.tz = "Asia/Shanghai"
        cls.company.security_lead = 0.0
        cls.product.with_company(cls.company).standard_price = 7.5
        cls.clerk_b = cls.users["clerk2"]
        cls.reviewer_b = cls.users["reviewer2"]
        cls.price = cls.env.ref("order_management.rejection_reason_price")
        cls.quantity = cls.env.ref("order_management.rejection_reason_quantity")

        cls.o1 = cls._enter(cls.clerk, "03-03 09:00", "03-10 12:00", 4)
        cls._approve(cls.o1, cls.reviewer, "03-03 11:00")
        cls._confirm(cls.o1, "03-03 12:00")
        with freeze_time(at("03-05 10:00")):
            cls._ship(cls.o1)
        with freeze_time(at("03-08 15:00")):
            cls._sign(cls.o1)
        with freeze_time(at("03-09 10:00")):
            invoice = cls._invoice(cls.o1)
        with freeze_time(at("03-12 10:00")):
            cls._pay(invoice)

        cls.o2 = cls._enter(cls.clerk, "03-04 09:00", "03-12 12:00", 2)
        cls._reject(cls.o2, cls.reviewer, "03-04 13:00", cls.price)
        cls._resubmit(cls.o2, "03-05 09:00", "03-05 17:00")
        cls._reject(cls.o2, cls.reviewer_b, "03-06 10:00", cls.quantity)
        cls._resubmit(cls.o2, "03-06 12:00", "03-06 17:00")
        cls._approve(cls.o2, cls.reviewer, "03-06 14:00")
        cls._confirm(cls.o2, "03-06 15:00")
        with freeze_time(at("03-10 09:00")):
            cls._ship(cls.o2)
        with freeze_time(at("03-13 12:00")):
            cls.o2.picking_ids.with_user(cls.logistics).action_mark_delivered()
        with freeze_time(at("03-14 10:00")):
            cls._sign(cls.o2)

        cls.o3 = cls._enter(cls.clerk_b, "03-05 09:00", "03-09 12:00", 6)
        cls._approve(cls.o3, cls.reviewer_b, "03-07 09:00")
        cls._confirm(cls.o3, "03-07 10:00")
        with freeze_time(at("03-10 09:00")):
            cls._ship(cls.o3)
        with freeze_time(at("03-11 10:00")):
            cls.env["order.incident"].with_user(cls.logistics).create(
                {
                    "order_id": cls.o3.id,
                    "incident_type": "damage",
                    "description": "Crushed box",
                }
            )

        cls.o4 = cls._enter(cls.clerk_b, "03-06 09:00", "03-16 12:00", 8)
        cls._reject(cls.o4, cls.reviewer, "03-06 10:00", cls.price)

        cls.o5 = cls._enter(cls.clerk_b, "03-07 09:00", "03-17 12:00", 10)
        cls.o7 = cls._enter(cls.clerk_b, "03-08 09:00", "03-01 12:00", 12)

        cls.o6 = cls._enter(cls.clerk, "04-02 09:00", "04-12 12:00", 14)
        cls._approve(cls.o6, cls.reviewer_b, "04-02 10:00")

        cls.orders = cls.o1 | cls.o2 | cls.o3 | cls.o4 | cls.o5 | cls.o6 | cls.o7
        cls.env["order.cycle.report"]._refresh()

    # --------------------------------------------------------- factories --

    @classmethod
    def _enter(cls, clerk, when, promised, quantity):
        """Enter an order at ``when``; its first round is due at 17:00 that day."""
        with freeze_time(at(when)):
            order = cls._create_order(
                user=clerk, quantity=quantity, commitment_date=at(promised)
            )
        # Creation dates come from the database clock, which freezegun does
        # not stop.
        cls.env.cr.execute(
            "UPDATE sale_order SET create_date = %s WHERE id = %s", [at(when), order.id]
        )
        order.invalidate_recordset(["create_date"])
        cls._set_deadline(order, f"{when[:5]} 17:00")
        return order

    @classmethod
    def _set_deadline(cls, order, deadline):
        pending = order.order_review_ids.filtered(lambda r: r.decision == "pending")
        pending.sudo().write({"deadline": at(deadline)})

    @classmethod
    def _approve(cls, order, reviewer, when):
        with freeze_time(at(when)):
            order.with_user(reviewer).action_approve()

    @classmethod
    def _reject(cls, order, reviewer, when, reason):
        with freeze_time(at(when)):
            order.with_user(reviewer).action_reject(f"See {reason.code}", reason.id)

    @classmethod
    def _resubmit(cls, order, when, deadline):
        with freeze_time(at(when)):
            order.with_user(order.create_uid).action_submit_for_review()
        cls._set_deadline(order, deadline)

    @classmethod
    def _confirm(cls, order, when):
        with freeze_time(at(when)):
            order.with_user(order.create_uid).action_confirm()

    def _cycle(self, order):
        return self.env["order.cycle.report"].browse(order.id)

    def _refresh(self):
        self.env["order.cycle.report"]._refresh()
