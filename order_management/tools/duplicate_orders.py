"""Exact duplicates of orders, found with two indexed lookups in one query."""

from odoo.tools import SQL


def duplicate_orders(cr, order_ids):
    """Return {order id: [(reason, other order name)]} for the given orders.

    Another order of the same customer (same commercial partner and company,
    not cancelled) is an exact duplicate when it carries the same customer
    reference, or the same lines (products and quantities) for the same
    delivery day.

    :param cr: a database cursor
    :param list order_ids: the orders to look for
    """
    if not order_ids:
        return {}
    cr.execute(
        SQL(
            """
            WITH subject AS (
                SELECT o.id, o.company_id, o.client_order_ref,
                       o.commitment_date::date AS delivery_day,
                       p.commercial_partner_id AS customer
                  FROM sale_order o
                  JOIN res_partner p ON p.id = o.partner_id
                 WHERE o.id = ANY(%(ids)s)
            ), family AS (
                SELECT s.id AS subject_id, other.id, other.name,
                       other.client_order_ref,
                       other.commitment_date::date AS delivery_day
                  FROM subject s
                  JOIN res_partner cp ON cp.commercial_partner_id = s.customer
                  JOIN sale_order other
                    ON other.partner_id = cp.id
                   AND other.id <> s.id
                   AND other.company_id = s.company_id
                   AND other.state <> 'cancel'
            ), lines AS (
                SELECT order_id,
                       string_agg(product_id || ':' || product_uom_qty, ','
                                  ORDER BY product_id, product_uom_qty) AS content
                  FROM sale_order_line
                 WHERE display_type IS NULL
                   AND order_id IN (
                       SELECT id FROM subject
                        UNION
                       -- only look-alikes due the same day: bounded work
                       SELECT f.id FROM family f
                         JOIN subject s ON s.id = f.subject_id
                        WHERE f.delivery_day = s.delivery_day
                   )
              GROUP BY order_id
            )
            SELECT s.id, 'reference', f.name
              FROM subject s
              JOIN family f ON f.subject_id = s.id
             WHERE s.client_order_ref IS NOT NULL
               AND f.client_order_ref = s.client_order_ref
             UNION ALL
            SELECT s.id, 'content', f.name
              FROM subject s
              JOIN family f ON f.subject_id = s.id
              JOIN lines mine ON mine.order_id = s.id
              JOIN lines theirs ON theirs.order_id = f.id
             WHERE f.delivery_day = s.delivery_day
               AND theirs.content = mine.content
             ORDER BY 1, 3
            """,
            ids=list(order_ids),
        )
    )
    found = {}
    for order_id, reason, other in cr.fetchall():
        found.setdefault(order_id, []).append((reason, other))
    return found
