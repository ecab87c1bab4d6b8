"""Small database chores for ./om, run with Odoo's configuration.

usage: dbctl.py CONFIG exists DB   (exit 0 when DB exists, 1 otherwise)
       dbctl.py CONFIG drop DB     (drop DB and its filestore if it exists)
"""

import sys

import odoo.service.db
from odoo.tools import config


def main(argv):
    conf, action, dbname = argv
    config.parse_config(["-c", conf])
    # The served instance hides database management; this local tool needs it.
    config["list_db"] = True
    exists = odoo.service.db.exp_db_exist(dbname)
    if action == "exists":
        return 0 if exists else 1
    if action == "drop":
        if exists:
            odoo.service.db.exp_drop(dbname)
        return 0
    raise SystemExit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
