"""18.0.1.1.0: who reported an incident, and how.

Before this release an incident had a boolean ``reported_by_customer``,
set only when the customer reported it in the portal; a customer who phoned
or wrote to staff was recorded like a problem staff noticed themselves. It
becomes the selection ``reported_via``: ``staff``, ``customer`` (told to
staff) or ``portal``.

Before the module's update, this script adds the new column and fills it
from the old one: true becomes ``portal``, false ``staff`` (the old field
could not tell a customer's call from staff's own finding, so none becomes
``customer``). The update then drops the old column with its field;
``post-migrate.py`` rewrites saved filters that named it.
"""

import logging

_logger = logging.getLogger(__name__)


def migrate(cr, version):
    if not version:
        return

    cr.execute(
        "SELECT 1 FROM information_schema.columns "
        "WHERE table_name = 'order_incident' AND column_name = 'reported_by_customer'"
    )
    if not cr.fetchone():
        _logger.info("order_incident.reported_by_customer is gone: nothing to move")
        return

    cr.execute(
        "ALTER TABLE order_incident ADD COLUMN IF NOT EXISTS reported_via varchar"
    )
    cr.execute(
        "UPDATE order_incident SET reported_via = CASE "
        "WHEN reported_by_customer THEN 'portal' ELSE 'staff' END "
        "WHERE reported_via IS NULL"
    )
    _logger.info(
        "order_incident.reported_via filled from reported_by_customer: %s incidents",
        cr.rowcount,
    )
