"""SQL pieces the order reports share, so that each rule is written once."""

from odoo.tools import SQL

# The review rounds a reviewer decided; pending and superseded ones were
# decided by no one.
DECIDED = ("approved", "rejected")


def company_timezones():
    """Return a subquery of (company_id, tz): each company's time zone.

    It is the time zone of the company's working-hours calendar, in which
    review deadlines already count. Months are the company's months: an order
    entered on the 1st at 07:00 in Shanghai belongs to that month, though it
    is still the day before in UTC.
    """
    return SQL(
        "(SELECT co.id AS company_id, COALESCE(cal.tz, 'UTC') AS tz "
        "FROM res_company co "
        "LEFT JOIN resource_calendar cal ON cal.id = co.resource_calendar_id)"
    )


def local_month(timestamp, timezone):
    """Return the first day of the month of a UTC ``timestamp`` in ``timezone``."""
    return SQL(
        "date_trunc('month', timezone(%s, timezone('UTC', %s)))::date",
        timezone,
        timestamp,
    )


def hours_between(start, end):
    return SQL("(EXTRACT(EPOCH FROM (%s) - (%s)) / 3600.0)::float8", end, start)


def days_between(start, end):
    return SQL("(EXTRACT(EPOCH FROM (%s) - (%s)) / 86400.0)::float8", end, start)


def percent_when(condition, known):
    """100 when ``condition`` holds, 0 when not, NULL while ``known`` is false.

    Averaged, such a column gives the share of the rows that meet the
    condition among those where it can be told, in any grouping.
    """
    return SQL(
        "(CASE WHEN %s THEN CASE WHEN %s THEN 100.0 ELSE 0.0 END END)::float8",
        known,
        condition,
    )


def review_is_late(review):
    """Whether a decided round of ``review`` (alias) came after its deadline."""
    return SQL(
        "COALESCE(%s.decision_date > %s.deadline, FALSE)",
        SQL.identifier(review),
        SQL.identifier(review),
    )
