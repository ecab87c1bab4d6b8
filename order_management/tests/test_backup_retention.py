from datetime import datetime, timedelta
from unittest import TestCase

from odoo.addons.order_management.tools.backup_retention import (
    DEFAULT_POLICY,
    Policy,
    backups_to_keep,
    parse_policy,
)


def daily(start, days, hour=2):
    """One backup a day at ``hour`` for ``days`` days, newest last; keys are
    the dates as text."""
    return [
        (f"{start + timedelta(days=i):%Y-%m-%d}", start + timedelta(days=i, hours=hour))
        for i in range(days)
    ]


class TestBackupRetention(TestCase):
    """Which backups a policy keeps, as exact sets."""

    def test_a_year_of_daily_backups(self):
        """7 daily, 4 weekly, 12 monthly out of 400 days of backups."""
        # 2025-01-01 is a Wednesday; the last backup is on 2026-02-04, a
        # Wednesday.
        backups = daily(datetime(2025, 1, 1), 400)
        self.assertEqual(backups[-1][0], "2026-02-04")
        keep = backups_to_keep(backups, DEFAULT_POLICY)
        expected_daily = {
            "2026-02-04",
            "2026-02-03",
            "2026-02-02",
            "2026-02-01",
            "2026-01-31",
            "2026-01-30",
            "2026-01-29",
        }
        # The newest of each ISO week: this week's (Wednesday), then Sundays.
        expected_weekly = {"2026-02-04", "2026-02-01", "2026-01-25", "2026-01-18"}
        # The newest of each month: this month's, then last days of months.
        expected_monthly = {
            "2026-02-04",
            "2026-01-31",
            "2025-12-31",
            "2025-11-30",
            "2025-10-31",
            "2025-09-30",
            "2025-08-31",
            "2025-07-31",
            "2025-06-30",
            "2025-05-31",
            "2025-04-30",
            "2025-03-31",
        }
        self.assertEqual(keep, expected_daily | expected_weekly | expected_monthly)
        self.assertEqual(len(keep), 7 + 2 + 10)

    def test_several_backups_a_day_keep_the_newest(self):
        """Of a day's backups only the newest counts for that day."""
        day = datetime(2025, 3, 10)
        backups = [
            ("morning", day.replace(hour=6)),
            ("noon", day.replace(hour=12)),
            ("evening", day.replace(hour=18)),
            ("yesterday", day - timedelta(hours=2)),
        ]
        self.assertEqual(
            backups_to_keep(backups, Policy(daily=2, weekly=0, monthly=0)),
            {"evening", "yesterday"},
        )
        self.assertEqual(
            backups_to_keep(backups, Policy(daily=1, weekly=0, monthly=0)),
            {"evening"},
        )

    def test_gaps_do_not_prune_everything(self):
        """Periods are those that have a backup: after a pause, older ones
        still fill the counts."""
        old = daily(datetime(2025, 1, 1), 5)
        new = [("2025-06-01", datetime(2025, 6, 1, 2))]
        keep = backups_to_keep(old + new, Policy(daily=3, weekly=0, monthly=0))
        self.assertEqual(keep, {"2025-06-01", "2025-01-05", "2025-01-04"})

    def test_zero_keeps_only_the_newest_and_order_does_not_matter(self):
        """An all-zero policy still keeps the newest backup; input order is
        irrelevant; nothing in, nothing kept."""
        backups = daily(datetime(2025, 1, 1), 10)
        self.assertEqual(
            backups_to_keep(list(reversed(backups)), Policy(0, 0, 0)), {"2025-01-10"}
        )
        self.assertEqual(backups_to_keep([], DEFAULT_POLICY), set())

    def test_policy_text(self):
        """The setting is three counts; anything else is refused."""
        self.assertEqual(parse_policy("7,4,12"), DEFAULT_POLICY)
        self.assertEqual(parse_policy(" 1, 0 ,2 "), Policy(1, 0, 2))
        for bad in ("", "7,4", "7,4,12,1", "7,-1,3", "a,b,c"):
            with self.subTest(bad=bad), self.assertRaises(ValueError):
                parse_policy(bad)
