"""The hash chains that make the order history tamper-evident.

Each order's events form a chain: an event's hash covers its content and the
hash of the order's event before it (the first one follows "", or the head
an archive kept when older events were moved out), so changing, removing or
inserting an event breaks the links after it. One chain per order
rather than one for everything: appending locks only the orders concerned, and
a long import does not make every other user wait for its commit.
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
    "res_model",
    "res_id",
    "login",
    "ip_address",
    "user_agent",
    "changes",
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


def first_broken_link(rows, chain=None, last_hash="", heads=None):
    """Walk ``rows`` and return the id of the first event that does not hold.

    :param rows: iterable of (id, chain key, values dict, previous_hash, hash)
        sorted by chain key, then oldest first, as stored
    :param chain: the chain key the walk starts in (when resuming a walk)
    :param last_hash: the hash that chain ended on so far
    :param heads: chain key -> hash each chain starts from, for chains whose
        older events were archived (the others start from "")
    :return: (id of the first broken event or None, last chain key, last hash)
    """
    heads = heads or {}
    for event_id, key, values, previous_hash, stored_hash in rows:
        if key != chain:
            chain, last_hash = key, heads.get(key, "")
        if (previous_hash or "") != last_hash:
            return event_id, chain, last_hash
        if event_hash(values, previous_hash) != stored_hash:
            return event_id, chain, last_hash
        last_hash = stored_hash
    return None, chain, last_hash


def _canonical(value):
    if value in (None, False, ""):
        return ""
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if hasattr(value, "id"):  # a record
        return value.id
    return value
