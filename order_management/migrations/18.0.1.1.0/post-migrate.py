"""18.0.1.1.0: saved filters follow ``reported_by_customer``'s replacement.

A favourite filter on incidents saved with the old boolean would fail to
load once the field is gone: its domain is rewritten to the new selection
(see ``pre-migrate.py`` for the data itself).
"""

import logging

_logger = logging.getLogger(__name__)

OLD_DOMAINS = (
    "('reported_by_customer', '=', True)",
    "['reported_by_customer', '=', True]",
    '("reported_by_customer", "=", True)',
    '["reported_by_customer", "=", True]',
)
NEW_DOMAIN = "('reported_via', '=', 'portal')"


def migrate(cr, version):
    if not version:
        return

    changed = 0
    for old in OLD_DOMAINS:
        cr.execute(
            "UPDATE ir_filters SET domain = replace(domain, %s, %s) "
            "WHERE model_id = 'order.incident' AND domain LIKE %s",
            [old, NEW_DOMAIN, f"%{old}%"],
        )
        changed += cr.rowcount
    if changed:
        _logger.info("%s saved incident filters moved to reported_via", changed)

    cr.execute(
        "SELECT count(*) FROM ir_filters "
        "WHERE model_id = 'order.incident' AND domain LIKE %s",
        ["%reported_by_customer%"],
    )
    left = cr.fetchone()[0]
    if left:
        _logger.warning(
            "%s saved incident filters still name reported_by_customer: edit them",
            left,
        )
