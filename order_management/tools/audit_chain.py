"""The hash chain that makes the order history tamper-evident.

Each event's hash covers its content and the hash of the event before it, so
changing, removing or inserting an event anywhere breaks every link after it.
Plain functions: the model feeds them values, the tests feed them dicts.
"""

import hashlib
import json

# The values of an event that its hash covers, in this order.
CHAINED_FIELDS = (
    "timestamp",
    "user_id",
    "order_id",
    "event",
    "stage",
    "from_state",
    "to_state",
    "note",
)


def event_hash(values, previous_hash):
    """Return the SHA-256 hex digest of an event chained to ``previous_hash``.

    Empty values (None, False, "") all count as "", ids as integers and dates
    as ``YYYY-MM-DD HH:MM:SS``, so that what was written and what is read back
    from the database give the same hash.
    """
    content = [_canonical(values.get(name)) for name in CHAINED_FIELDS]
    payload = json.dumps([previous_hash or "", content], separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def first_broken_link(rows):
    """Walk ``rows`` in chain order and return the id of the first bad one.

    :param rows: iterable of (id, values dict, previous_hash, hash), oldest
        first, as stored
    :return: the id of the first event whose link or hash does not hold, or
        None when the whole chain holds
    """
    expected_previous = None
    for event_id, values, previous_hash, stored_hash in rows:
        if expected_previous is not None and previous_hash != expected_previous:
            return event_id
        if event_hash(values, previous_hash) != stored_hash:
            return event_id
        expected_previous = stored_hash
    return None


def _canonical(value):
    if value in (None, False, ""):
        return ""
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if hasattr(value, "id"):  # a record
        return value.id
    return value
