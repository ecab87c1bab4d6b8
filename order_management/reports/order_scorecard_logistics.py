from odoo import fields, models
from odoo.tools import SQL


class OrderScorecardLogistics(models.Model):
    """The orders each logistics user shipped in a month: on time, and since.

    An order counts for whoever validated its first delivery, in the month of
    that shipment; its delivery and incidents, when they come, count there too.
    """

    _name = "order.scorecard.logistics"
    _inherit = "order.scorecard.mixin"
    _description = "Logistics Scorecard"
    _auto = False

    shipped_count = fields.Integer(string="Orders Shipped", readonly=True)
    shipped_on_time_count = fields.Integer(string="Shipped On Time", readonly=True)
    shipped_on_time_pct = fields.Float(
        string="On-Time Shipping (%)", readonly=True, aggregator=None
    )
    delivered_count = fields.Integer(string="Delivered", readonly=True)
    delivered_on_time_count = fields.Integer(string="Delivered On Time", readonly=True)
    delivered_on_time_pct = fields.Float(
        string="On-Time Delivery (%)", readonly=True, aggregator=None
    )
    incident_count = fields.Integer(string="Incidents", readonly=True)
    incident_order_count = fields.Integer(string="Orders with Incidents", readonly=True)

    def _month_column(self):
        return SQL("c.ship_month")

    def _company_column(self):
        return SQL("c.company_id")

    def _scorecard_query(self, period, where, per_person):
        person = SQL("c.shipper_id") if per_person else SQL("NULL::integer")
        return SQL(
            """
            SELECT %(period)s AS month, c.company_id, %(person)s AS user_id,
                count(*) AS shipped_count,
                count(*) FILTER (WHERE c.shipped_on_time_pct = 100)
                    AS shipped_on_time_count,
                avg(c.shipped_on_time_pct) AS shipped_on_time_pct,
                count(c.on_time_pct) AS delivered_count,
                count(*) FILTER (WHERE c.on_time_pct = 100)
                    AS delivered_on_time_count,
                avg(c.on_time_pct) AS delivered_on_time_pct,
                sum(c.incident_count)::integer AS incident_count,
                count(*) FILTER (WHERE c.incident_count > 0) AS incident_order_count
            FROM order_cycle_report c
            WHERE c.shipped_date IS NOT NULL AND %(where)s
            GROUP BY 1, 2, 3
            """,
            period=period,
            person=person,
            where=where,
        )
