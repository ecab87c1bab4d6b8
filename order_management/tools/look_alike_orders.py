"""Orders that look like others of the same customer, found in SQL.

Two kinds of look-alike, each found with one query whatever the number of
orders checked, reading only the customer's orders of the same delivery day
or of the time window, through indexed columns:

- an exact duplicate carries the same customer reference, or the same lines
  (products and quantities) for the same delivery day;
- a similar order shares most of the products (more than half), each with a
  quantity within a tolerance, and was ordered within a number of days.
"""

from odoo.tools import SQL


def _family(order_ids, tz="UTC"):
    """Return the part common to both queries, as SQL with its parameters.

    ``subject`` holds the orders checked, ``family`` the other orders of the
    same customer (commercial partner) and company, not cancelled. Delivery
    days are those of time zone ``tz`` (delivery dates are stored in UTC).
    """
    return SQL(
        """
    subject AS (
        SELECT o.id, o.company_id, o.client_order_ref, o.date_order,
               (o.commitment_date AT TIME ZONE 'UTC' AT TIME ZONE %(tz)s)::date
                   AS delivery_day,
               p.commercial_partner_id AS customer
          FROM sale_order o
          JOIN res_partner p ON p.id = o.partner_id
         WHERE o.id = ANY(%(ids)s)
    ), family AS (
        SELECT s.id AS subject_id, other.id, other.name, other.client_order_ref,
               other.date_order,
               (other.commitment_date AT TIME ZONE 'UTC' AT TIME ZONE %(tz)s)::date
                   AS delivery_day
          FROM subject s
          JOIN res_partner cp ON cp.commercial_partner_id = s.customer
          JOIN sale_order other
            ON other.partner_id = cp.id
           AND other.id <> s.id
           AND other.company_id = s.company_id
           AND other.state <> 'cancel'
    )
        """,
        ids=list(order_ids),
        tz=tz,
    )


def exact_duplicates(cr, order_ids, tz="UTC"):
    """Return {order id: [(reason, other id, other name)]}.

    ``reason`` is ``"reference"`` or ``"content"``.

    :param cr: a database cursor
    :param list order_ids: the orders to look for
    :param str tz: the time zone whose days tell "the same delivery day", a
        name PostgreSQL knows (Odoo's time zones are)
    """
    if not order_ids:
        return {}
    cr.execute(
        SQL(
            """
            WITH %(family)s, lines AS (
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
            SELECT s.id, 'reference', f.id, f.name
              FROM subject s
              JOIN family f ON f.subject_id = s.id
             WHERE s.client_order_ref IS NOT NULL
               AND f.client_order_ref = s.client_order_ref
             UNION
            SELECT s.id, 'content', f.id, f.name
              FROM subject s
              JOIN family f ON f.subject_id = s.id
              JOIN lines mine ON mine.order_id = s.id
              JOIN lines theirs ON theirs.order_id = f.id
             WHERE f.delivery_day = s.delivery_day
               AND theirs.content = mine.content
             ORDER BY 1, 4
            """,
            family=_family(order_ids, tz),
        )
    )
    found = {}
    for order_id, reason, other_id, other_name in cr.fetchall():
        found.setdefault(order_id, []).append((reason, other_id, other_name))
    return found


def similar_orders(cr, order_ids, window_days, tolerance, limit=3):
    """Return {order id: [(other id, other name, products matched, products)]}.

    A similar order shares more than half of the products of the order checked,
    each with a total quantity differing by at most ``tolerance`` (a fraction
    of the larger quantity), and has an order date at most ``window_days``
    away. The closest ``limit`` look-alikes are returned, most products
    matched first.

    :param cr: a database cursor
    :param list order_ids: the orders to look for
    :param int window_days: how far apart the order dates may be
    :param float tolerance: e.g. 0.1 for quantities within 10%
    """
    if not order_ids:
        return {}
    cr.execute(
        SQL(
            """
            WITH %(family)s, near AS (
                SELECT f.subject_id, f.id, f.name
                  FROM family f
                  JOIN subject s ON s.id = f.subject_id
                 WHERE f.date_order
                       BETWEEN s.date_order - make_interval(days => %(window)s)
                           AND s.date_order + make_interval(days => %(window)s)
            ), products AS (
                SELECT order_id, product_id, sum(product_uom_qty) AS quantity
                  FROM sale_order_line
                 WHERE display_type IS NULL
                   AND product_id IS NOT NULL
                   AND order_id IN (SELECT id FROM subject UNION SELECT id FROM near)
              GROUP BY order_id, product_id
            ), sizes AS (
                SELECT order_id, count(*) AS products
                  FROM products
                 WHERE order_id = ANY(%(ids)s)
              GROUP BY order_id
            ), matches AS (
                SELECT n.subject_id, n.id, n.name, count(*) AS matched
                  FROM near n
                  JOIN products mine ON mine.order_id = n.subject_id
                  JOIN products theirs
                    ON theirs.order_id = n.id
                   AND theirs.product_id = mine.product_id
                 WHERE abs(theirs.quantity - mine.quantity)
                       <= %(tolerance)s * greatest(theirs.quantity, mine.quantity)
              GROUP BY n.subject_id, n.id, n.name
            ), ranked AS (
                SELECT m.subject_id, m.id, m.name, m.matched, z.products,
                       row_number() OVER (
                           PARTITION BY m.subject_id ORDER BY m.matched DESC, m.id DESC
                       ) AS rank
                  FROM matches m
                  JOIN sizes z ON z.order_id = m.subject_id
                 WHERE m.matched * 2 > z.products
            )
            SELECT subject_id, id, name, matched, products
              FROM ranked
             WHERE rank <= %(limit)s
          ORDER BY subject_id, rank
            """,
            family=_family(order_ids),
            ids=list(order_ids),
            window=int(window_days),
            tolerance=float(tolerance),
            limit=limit,
        )
    )
    found = {}
    for order_id, other_id, other_name, matched, products in cr.fetchall():
        found.setdefault(order_id, []).append((other_id, other_name, matched, products))
    return found
