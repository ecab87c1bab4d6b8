"""Which backups a retention policy keeps.

A policy keeps, for each kind of period, the newest backup of each of the N
most recent periods that have a backup: ``daily=7`` keeps the newest backup
of each of the last 7 days on which one was taken, ``weekly=4`` the newest of
each of the last 4 ISO weeks that have one, ``monthly=12`` the newest of
each of the last 12 calendar months that have one. The kinds add up: a backup
kept by any of them stays. Counting periods that have a backup, not calendar
periods, means that backups which stopped for a while are not all pruned by
the time they start again. The newest backup is always kept.
"""

from collections import namedtuple

Policy = namedtuple("Policy", "daily weekly monthly")

DEFAULT_POLICY = Policy(daily=7, weekly=4, monthly=12)

PERIODS = {
    "daily": lambda when: when.date(),
    "weekly": lambda when: when.isocalendar()[:2],
    "monthly": lambda when: (when.year, when.month),
}


def backups_to_keep(backups, policy=DEFAULT_POLICY):
    """Return the keys of the backups that ``policy`` keeps.

    :param backups: iterable of (key, datetime taken) of the backups that
        count (the good ones); keys are anything hashable
    :param Policy policy: how many periods of each kind to keep (0: none)
    :return: set of keys
    """
    newest_first = sorted(backups, key=lambda backup: backup[1], reverse=True)
    if not newest_first:
        return set()
    keep = {newest_first[0][0]}
    for kind, period_of in PERIODS.items():
        count = getattr(policy, kind)
        periods = set()
        for key, when in newest_first:
            if len(periods) >= count:
                break
            period = period_of(when)
            if period not in periods:
                periods.add(period)
                keep.add(key)
    return keep


def parse_policy(text):
    """Read a policy written as ``daily,weekly,monthly`` counts (``7,4,12``).

    :raise ValueError: when it is not three counts of zero or more
    """
    parts = [part.strip() for part in (text or "").split(",")]
    if len(parts) != 3 or not all(part.isdigit() for part in parts):
        raise ValueError(
            f"{text!r} is not a retention policy: give three counts, daily, "
            "weekly and monthly, such as 7,4,12"
        )
    return Policy(*(int(part) for part in parts))
