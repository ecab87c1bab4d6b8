"""Fingerprint of the parts of an order that a reviewer approves.

An approval is bound to exactly what the reviewer saw: the customer, the
addresses, the prices and the lines. Any later difference gives another
fingerprint, and the confirmation gate then refuses the stale approval.
"""

import hashlib
import json


def order_fingerprint(header, lines):
    """Return a SHA-256 hex digest of an order's reviewed content.

    :param dict header: order-level values (ids, dates as strings, amounts)
    :param list lines: one sequence of values per order line, in line order
    :return: 64 hexadecimal characters
    :rtype: str
    """
    payload = json.dumps(
        {"header": header, "lines": [list(line) for line in lines]},
        sort_keys=True,
        separators=(",", ":"),
        default=str,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
