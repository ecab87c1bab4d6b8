"""Credit exposure of customers, from two indexed aggregates in one query."""

from odoo.tools import SQL


def credit_exposure(cr, partner_ids, company_id, today):
    """Return {commercial partner id: (open receivables, overdue, uninvoiced)}.

    Open receivables are the residual amounts of posted receivable lines;
    overdue is the part of them due before ``today``; uninvoiced is what
    confirmed orders still have to invoice, taxes included. Amounts are in
    the company currency (multi-currency orders are not converted).

    :param cr: a database cursor
    :param list partner_ids: commercial partner ids
    :param int company_id: the company whose books count
    :param date today: the day that decides what is overdue
    """
    if not partner_ids:
        return {}
    cr.execute(
        SQL(
            """
            WITH customers AS (
                SELECT id, commercial_partner_id
                  FROM res_partner
                 WHERE commercial_partner_id = ANY(%(ids)s)
            ), receivable AS (
                SELECT c.commercial_partner_id AS partner_id,
                       SUM(aml.amount_residual) AS open_amount,
                       SUM(aml.amount_residual)
                           FILTER (WHERE aml.date_maturity < %(today)s) AS overdue
                  FROM account_move_line aml
                  JOIN customers c ON c.id = aml.partner_id
                  JOIN account_account account ON account.id = aml.account_id
                 WHERE account.account_type = 'asset_receivable'
                   AND aml.parent_state = 'posted'
                   AND NOT aml.reconciled
                   AND aml.company_id = %(company)s
              GROUP BY c.commercial_partner_id
            ), uninvoiced AS (
                SELECT c.commercial_partner_id AS partner_id,
                       SUM(sol.price_total
                           * GREATEST(sol.product_uom_qty - sol.qty_invoiced, 0)
                           / NULLIF(sol.product_uom_qty, 0)) AS amount
                  FROM sale_order_line sol
                  JOIN sale_order so ON so.id = sol.order_id
                  JOIN customers c ON c.id = so.partner_id
                 WHERE so.state = 'sale'
                   AND so.company_id = %(company)s
              GROUP BY c.commercial_partner_id
            )
            SELECT p.id,
                   COALESCE(r.open_amount, 0),
                   COALESCE(r.overdue, 0),
                   COALESCE(u.amount, 0)
              FROM unnest(%(ids)s) AS p(id)
         LEFT JOIN receivable r ON r.partner_id = p.id
         LEFT JOIN uninvoiced u ON u.partner_id = p.id
            """,
            ids=list(partner_ids),
            today=today,
            company=company_id,
        )
    )
    return {row[0]: tuple(row[1:]) for row in cr.fetchall()}
