"""``odoo-bin order-audit``: verify the order history, archive its old events.

Odoo looks for commands in the addons that have a ``cli`` folder on the
addons path it knows before reading any configuration file, so give the path
first: ``odoo-bin --addons-path=PATHS order-audit -c odoo.conf -d DB verify``.
The command only parses, opens the database and calls the models; what it
writes on the standard output is its interface, its exit status says whether
the history holds.
"""

import argparse
import sys
from pathlib import Path

from odoo import SUPERUSER_ID, api
from odoo.cli import Command
from odoo.modules.registry import Registry
from odoo.tools import config

from .arguments import split_arguments

ACTIONS = ("verify", "archive")

# Exit statuses: 2 is argparse's for a wrong command line.
INTACT = 0
BROKEN = 1


class OrderAudit(Command):
    """Verify the order history and its archives, or archive its old events"""

    name = "order-audit"

    def run(self, args):
        options, odoo_args = parse_args(args)
        config.parse_config(odoo_args, setup_logging=True)
        dbname = config["db_name"]
        if not dbname or "," in dbname:
            sys.exit("order-audit works on one database: give it with -d")
        with Registry(dbname).cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            status = run_action(env, sys.stdout, options)
        sys.exit(status)


def parse_args(args):
    """Split a command line into this command's options and Odoo's.

    :param list args: the arguments after ``order-audit``
    :return: (namespace with ``action`` and its options, Odoo's arguments)
    :raise SystemExit: on ``--help`` or a wrong command line
    """
    return split_arguments(_get_parser(), ACTIONS, args)


def run_action(env, out, options):
    """Run the parsed action on ``env``; return the exit status."""
    if options.action == "verify":
        return verify(env, out)
    return archive(env, out, options.days)


def verify(env, out):
    """Walk every live chain and every archive; write what was found.

    :param out: text stream the report is written to
    :return: 0 when everything holds, 1 when something is broken
    """
    Event = env["order.audit.event"]
    Archive = env["order.audit.archive"]
    status = INTACT
    broken = Event._verify_chain()
    if broken:
        status = BROKEN
        out.write(
            env._(
                "broken: event %(event)s (%(chain)s, %(when)s)\n",
                event=broken.id,
                chain=Archive._get_chain_label(broken.order_id.id),
                when=broken.timestamp,
            )
        )
    for _archive, problem in Archive._verify_all():
        status = BROKEN
        out.write(env._("broken: %(problem)s\n", problem=problem))
    if status == INTACT:
        events, chains = Event._get_chain_size()
        out.write(
            env._(
                "intact: %(events)s events in %(chains)s chains, "
                "%(archives)s archives\n",
                events=events,
                chains=chains,
                archives=Archive.search_count([]),
            )
        )
    return status


def archive(env, out, days=None):
    """Archive the events older than ``days`` (the retention setting if None).

    :return: 0 (a failure raises, and nothing is archived)
    """
    Archive = env["order.audit.archive"]
    if days is None:
        days = Archive._get_retention_days()
    if not days:
        out.write(env._("nothing archived: the history is kept forever\n"))
        return INTACT
    new = Archive._archive_due(days)
    if new:
        out.write(
            env._(
                "archived: %(events)s events of %(chains)s chains before "
                "%(cutoff)s in archive %(archive)s (%(file)s)\n",
                events=new.event_count,
                chains=new.chain_count,
                cutoff=new.cutoff,
                archive=new.id,
                file=new.file_name,
            )
        )
    else:
        out.write(
            env._("nothing archived: no event is older than %(days)s days\n", days=days)
        )
    return INTACT


def _get_parser():
    parser = argparse.ArgumentParser(
        prog=f"{Path(sys.argv[0]).name} order-audit",
        description="Verify the order history and its archives, or move its "
        "old events to an archive. Odoo's options (-c, -d...) go before or "
        "after the action.",
        allow_abbrev=False,
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser(
        "verify",
        help="walk every chain and archive; exit with 1 when one is broken",
        allow_abbrev=False,
    )
    archive_parser = actions.add_parser(
        "archive",
        help="move the events older than the retention period to an archive",
        allow_abbrev=False,
    )
    archive_parser.add_argument(
        "--days",
        type=_days,
        metavar="N",
        help="archive the events older than N days instead of the retention "
        "setting (0: none)",
    )
    return parser


def _days(value):
    days = int(value)
    if days < 0:
        raise argparse.ArgumentTypeError(f"{value} is not a number of days")
    return days
