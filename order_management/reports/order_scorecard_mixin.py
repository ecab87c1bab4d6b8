from odoo import api, fields, models, tools
from odoo.tools import SQL


class OrderScorecardMixin(models.AbstractModel):
    """A scorecard: figures per person and month, as a view and for any period.

    Each scorecard writes its query once (``_scorecard_query``); the view
    groups it by month, and ``_get_scorecard_rows`` runs the same query over a
    period of whole months, per person or for everyone, so that the figures of
    the screens, the workbooks and the snapshots agree by construction.
    Medians and percentiles are not additive: a row's are those of its month,
    and a longer period is asked to the query, not summed from months.
    """

    _name = "order.scorecard.mixin"
    _description = "Order Scorecard"
    _order = "month desc, user_id"
    _rec_name = "user_id"

    month = fields.Date(readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    user_id = fields.Many2one("res.users", string="Person", readonly=True)

    def init(self):
        if self._abstract:
            return
        query = self._scorecard_query(
            period=self._month_column(), where=SQL("TRUE"), per_person=True
        )
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL(
                "CREATE VIEW %s AS (SELECT row_number() OVER "
                "(ORDER BY q.month, q.company_id, q.user_id) AS id, q.* FROM (%s) q)",
                SQL.identifier(self._table),
                query,
            )
        )

    # ----------------------------------------------------------- business --

    @api.model
    def _get_scorecard_rows(
        self, company, month_from, month_to, by_month=False, per_person=True
    ):
        """Return the scorecard of ``company`` for the months in [from, to).

        :param date month_from: first day of the first month
        :param date month_to: first day of the month after the period
        :param bool by_month: one row per month, else one for the period
            (dated ``month_from``)
        :param bool per_person: one row per person, else one for everyone
            (``user_id`` None)
        :return: list of dicts, one per row, keyed by the view's columns
        """
        month = self._month_column()
        query = self._scorecard_query(
            period=month if by_month else SQL("%s::date", month_from),
            where=SQL(
                "%s >= %s AND %s < %s AND %s = %s",
                month,
                month_from,
                month,
                month_to,
                self._company_column(),
                company.id,
            ),
            per_person=per_person,
        )
        self.env.flush_all()
        self.env.cr.execute(
            SQL("SELECT * FROM (%s) q ORDER BY q.month, q.user_id", query)
        )
        return self.env.cr.dictfetchall()

    # ------------------------------------------------------------ helpers --

    def _month_column(self):
        """Return the column of the base rows that dates them to a month."""
        raise NotImplementedError

    def _company_column(self):
        raise NotImplementedError

    def _scorecard_query(self, period, where, per_person):
        """Return the scorecard's query.

        :param SQL period: the ``month`` of a row: the base rows' month
            column, or one date for the whole period
        :param SQL where: which base rows count
        :param bool per_person: group by person (else ``user_id`` is NULL)
        """
        raise NotImplementedError


def reasons_summary(rows, period, person):
    """Return the subquery (month, company_id, user_id, reasons) of rejections.

    ``reasons`` reads like ``PRICE (2), QTY (1)``: each reason's code with
    its count, the most frequent first.

    :param SQL rows: rejected rounds with ``company_id`` and ``reason_id``
        and the columns ``period`` and ``person`` name
    """
    return SQL(
        """(
        SELECT month, company_id, user_id,
            string_agg(code || ' (' || n || ')', ', ' ORDER BY n DESC, code)
                AS reasons
        FROM (
            SELECT %(period)s AS month, x.company_id, %(person)s AS user_id,
                COALESCE(reason.code, '-') AS code, count(*) AS n
            FROM %(rows)s x
            LEFT JOIN order_rejection_reason reason ON reason.id = x.reason_id
            GROUP BY 1, 2, 3, 4
        ) counted
        GROUP BY month, company_id, user_id
        )""",
        period=period,
        person=person,
        rows=rows,
    )
