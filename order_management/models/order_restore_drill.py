import logging
import time
from datetime import UTC, datetime

from odoo import api, fields, models

from ..tools.backup_database import (
    database_exists,
    drop_database,
    restore_backup,
    run_check,
)

_logger = logging.getLogger(__name__)

# PostgreSQL cuts names at 63 bytes: leave room for "_drill_" and the time.
SCRATCH_PREFIX_SIZE = 63 - len("_drill_20250101_000000_000000")


class OrderRestoreDrill(models.Model):
    """One rehearsal of a recovery: a backup restored, checked, thrown away.

    The newest backup (or a chosen one) is restored into a scratch database
    named ``<database>_drill_<time>``; the drill checks the file's checksum,
    the manifest's row counts and audit chain head against the restored
    database, then loads the addon on it and verifies the audit chain and
    its archives. The scratch database is dropped whatever happened.
    """

    _name = "order.restore.drill"
    _description = "Order Management Restore Drill"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "started_at desc, id desc"

    # ------------------------------------------------------------ fields --

    backup_id = fields.Many2one(
        "order.backup", readonly=True, ondelete="set null", index=True
    )
    database = fields.Char(string="Scratch Database", readonly=True)
    state = fields.Selection(
        [("passed", "Passed"), ("failed", "Failed")],
        required=True,
        readonly=True,
        tracking=True,
    )
    started_at = fields.Datetime(required=True, readonly=True)
    finished_at = fields.Datetime(readonly=True)
    duration = fields.Float(string="Duration (s)", readonly=True, digits=(16, 1))
    details = fields.Text(readonly=True)

    # ----------------------------------------------------------- actions --

    @api.model
    def action_drill_now(self):
        """Run a restore drill of the newest backup now."""
        self.env["order.backup"]._check_system()
        return self._run_drill(self._get_newest_backup())._get_form_action()

    def _get_form_action(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "current",
        }

    # ---------------------------------------------------------- business --

    @api.model
    def _get_newest_backup(self):
        return self.env["order.backup"].search(
            [("database", "=", self.env.cr.dbname), ("state", "=", "done")],
            order="started_at desc, id desc",
            limit=1,
        )

    @api.model
    def _get_scratch_name(self):
        stamp = datetime.now(UTC).strftime("%Y%m%d_%H%M%S_%f")
        return f"{self.env.cr.dbname[:SCRATCH_PREFIX_SIZE]}_drill_{stamp}"

    @api.model
    def _run_drill(self, backup):
        """Restore ``backup`` into a scratch database, check it, drop it.

        :return: the drill record, passed or failed (failures are alerted)
        """
        Backup = self.env["order.backup"]
        started = fields.Datetime.now()
        clock = time.monotonic()
        scratch = self._get_scratch_name()
        details = []
        state = "failed"
        # Dropped at the end only when this drill made it.
        owned = False
        try:
            if not backup:
                raise ValueError(
                    self.env._(
                        "There is no backup of %(db)s to restore.",
                        db=self.env.cr.dbname,
                    )
                )
            details.append(self.env._("Backup: %(file)s", file=backup.file_path))
            backup._verify_file()
            details.append(self.env._("File checksum: matches."))
            if database_exists(scratch):
                raise ValueError(
                    self.env._("Database %(db)s already exists.", db=scratch)
                )
            owned = True
            manifest = restore_backup(
                backup.file_path,
                Backup._get_key(),
                scratch,
                work_dir=Backup._get_backup_dir(),
            )
            details.append(
                self.env._(
                    "Restored into %(db)s; row counts of %(tables)s tables and "
                    "the audit chain head (%(events)s events) match the manifest.",
                    db=scratch,
                    tables=len(manifest["row_counts"]),
                    events=manifest["audit"]["events"],
                )
            )
            report = run_check(scratch)
            details.append(
                self.env._(
                    "Addon loaded: %(state)s, version %(version)s; audit chain: "
                    "%(chain)s; archives: %(archives)s.",
                    state=report.get("module_state"),
                    version=report.get("module_version"),
                    chain=report.get("chain"),
                    archives=report.get("archives"),
                )
            )
            if report.get("ok"):
                state = "passed"
        except Exception as error:
            # Recorded on the drill and alerted below.
            _logger.exception(
                "restore drill of %s failed", backup.name or "the newest backup"
            )
            details.append(self.env._("Failed: %(error)s", error=str(error)))
        finally:
            try:
                if owned:
                    drop_database(scratch)
            except Exception as error:
                _logger.exception("dropping the drill database %s failed", scratch)
                state = "failed"
                details.append(
                    self.env._(
                        "Dropping %(db)s failed: %(error)s",
                        db=scratch,
                        error=str(error),
                    )
                )
        drill = self.create(
            {
                "backup_id": backup.id,
                "database": scratch,
                "state": state,
                "started_at": started,
                "finished_at": fields.Datetime.now(),
                "duration": time.monotonic() - clock,
                "details": "\n".join(details),
            }
        )
        if state == "failed":
            Backup._alert_managers(
                drill,
                self.env._("Restore drill failed"),
                self.env._(
                    "The restore drill of %(backup)s failed:\n%(details)s",
                    backup=backup.name or "-",
                    details=drill.details,
                ),
            )
        else:
            _logger.info(
                "restore drill of %s passed in %.1f s", backup.name, drill.duration
            )
        return drill

    @api.model
    def _check_restored(self):
        """Check the database this environment runs on, as restored.

        Run by ``order-backup check`` in the process that loaded the addon on
        the restored database: it loaded, and the audit chain and archives
        hold.

        :return: report dict; ``ok`` is true when everything holds
        """
        module = self.env["ir.module.module"].search(
            [("name", "=", "order_management")]
        )
        broken = self.env["order.audit.event"]._verify_chain()
        problems = self.env["order.audit.archive"]._verify_all()
        events, chains = self.env["order.audit.event"]._get_chain_size()
        return {
            "ok": module.state == "installed" and not broken and not problems,
            "module_state": module.state,
            "module_version": module.latest_version,
            "chain": (
                f"broken at event {broken.id}"
                if broken
                else f"intact, {events} events in {chains} chains"
            ),
            "archives": (
                "; ".join(problem for _archive, problem in problems)
                if problems
                else "intact"
            ),
        }

    @api.model
    def _cron_drill(self):
        """Scheduled: a restore drill of the newest backup."""
        return self._run_drill(self._get_newest_backup())
