"""Import TPC-H orders into a demo database and move them along their path.

usage: load_demo.py CONFIG DATABASE TPCH_DIRECTORY LIMIT
"""

import logging
import sys

import odoo
from odoo.tools import config


def main(argv):
    conf, dbname, directory, limit = argv
    config.parse_config(["-c", conf, "--log-level=info"])
    odoo.netsvc.init_logger()

    from odoo.addons.order_management.tools.demo_lifecycle import load_demo_orders

    registry = odoo.modules.registry.Registry(dbname)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        orders = load_demo_orders(env, directory, limit=int(limit))
        logging.getLogger(__name__).info("demo: %s orders ready", len(orders))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
