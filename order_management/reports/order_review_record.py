from odoo import api, models

from ..models.sale_order import REVIEWER_GROUPS


class OrderReviewRecord(models.AbstractModel):
    """The review record of orders, printed for filing.

    What was checked at the last submission, every review decision with its
    lead time against its deadline and its reason, and the order's history.
    """

    _name = "report.order_management.report_order_review_record"
    _description = "Order Review Record"

    @api.model
    def _get_report_values(self, docids, data=None):
        self.env["sale.order"]._check_role(*REVIEWER_GROUPS)
        orders = self.env["sale.order"].browse(docids)
        orders.check_access("read")
        # Lead times and lateness as the reports count them, round by round;
        # the reports are the Order Manager's, the rounds are the reader's.
        decided = (
            self.env["order.review.report"]
            .sudo()
            .search_fetch([("order_id", "in", orders.ids)], ["lead_hours", "is_late"])
        )
        return {
            "doc_ids": orders.ids,
            "doc_model": "sale.order",
            "docs": orders,
            "rounds": {
                order.id: order.order_review_ids.sorted(lambda r: (r.round, r.level))
                for order in orders
            },
            # The order's steps; its data changes have their own report.
            "events": {
                order.id: order.audit_event_ids.filtered(
                    lambda e: e.stage != "data"
                ).sorted(lambda e: (e.timestamp, e.id))
                for order in orders
            },
            "decided": {row.id: row for row in decided},
        }
