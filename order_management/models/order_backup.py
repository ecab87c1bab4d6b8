import json
import logging
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from odoo import api, fields, models, release
from odoo.exceptions import UserError
from odoo.tools import config

from ..tools import backup_offsite
from ..tools.backup_database import take_backup
from ..tools.backup_files import (
    BACKUP_SUFFIX,
    BackupError,
    checksum_path,
    file_sha256,
    load_key,
    sync_filestore,
    write_checksum_file,
)
from ..tools.backup_pitr import archiving_status
from ..tools.backup_retention import DEFAULT_POLICY, backups_to_keep, parse_policy

_logger = logging.getLogger(__name__)

# Each setting: the option of the Odoo configuration file, else the system
# parameter. Only paths: the key itself never goes into the database.
SETTINGS = {
    "dir": ("order_backup_dir", "order_management.backup_dir"),
    "key_file": ("order_backup_key_file", "order_management.backup_key_file"),
    "retention": ("order_backup_retention", "order_management.backup_retention"),
    "offsite": ("order_backup_offsite", "order_management.backup_offsite"),
    "sftp_key_file": (
        "order_backup_sftp_key_file",
        "order_management.backup_sftp_key_file",
    ),
    "sftp_known_hosts": (
        "order_backup_sftp_known_hosts",
        "order_management.backup_sftp_known_hosts",
    ),
    "interval": (
        "order_backup_interval_hours",
        "order_management.backup_interval_hours",
    ),
    "fallback_interval": (
        "order_backup_fallback_hours",
        "order_management.backup_fallback_hours",
    ),
}

# Hours between two full backups when the server archives its WAL (the
# archive covers the time between), and when it does not (only full backups
# protect the data, so more often).
DEFAULT_INTERVAL_HOURS = 24
DEFAULT_FALLBACK_HOURS = 6

ALERT_ACTIVITY = "order_management.mail_activity_type_backup_problem"


class OrderBackup(models.Model):
    """One full backup of the database and its filestore, encrypted.

    The file holds the ``pg_dump`` of the database, the filestore and a
    manifest (time, versions, row counts of the key tables, the audit chain's
    head, the checksum of every file); the record keeps what is needed to
    find, check and prune it. Files live outside the database and the
    repository, in the backup folder, one subfolder per database.
    """

    _name = "order.backup"
    _description = "Order Management Backup"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "started_at desc, id desc"

    # ------------------------------------------------------------ fields --

    name = fields.Char(required=True, readonly=True)
    database = fields.Char(required=True, readonly=True, index=True)
    state = fields.Selection(
        [
            ("done", "Done"),
            ("failed", "Failed"),
            ("removed", "Removed by Retention"),
        ],
        required=True,
        readonly=True,
        tracking=True,
    )
    started_at = fields.Datetime(required=True, readonly=True)
    finished_at = fields.Datetime(readonly=True)
    duration = fields.Float(string="Duration (s)", readonly=True, digits=(16, 1))
    file_path = fields.Char(string="File", readonly=True)
    file_size = fields.Float(string="Size (MB)", readonly=True, digits=(16, 2))
    checksum = fields.Char(string="SHA-256", readonly=True)
    manifest = fields.Text(readonly=True)
    odoo_version = fields.Char(readonly=True)
    addon_version = fields.Char(readonly=True)
    audit_events = fields.Integer(readonly=True)
    audit_head = fields.Char(string="Audit Chain Head", readonly=True)
    error = fields.Text(readonly=True)
    pitr_available = fields.Boolean(string="Point-in-time Recovery", readonly=True)
    pitr_note = fields.Char(string="Point-in-time Recovery Status", readonly=True)
    offsite_state = fields.Selection(
        [
            ("none", "Not Configured"),
            ("done", "Copied and Verified"),
            ("failed", "Failed"),
        ],
        string="Off-site Copy",
        default="none",
        readonly=True,
        tracking=True,
    )
    offsite_location = fields.Char(string="Off-site Copy At", readonly=True)
    offsite_checked_at = fields.Datetime(string="Off-site Checked", readonly=True)
    offsite_error = fields.Text(readonly=True)
    drill_ids = fields.One2many(
        "order.restore.drill", "backup_id", string="Restore Drills", readonly=True
    )
    last_drill_state = fields.Selection(
        [("passed", "Passed"), ("failed", "Failed")],
        string="Last Drill",
        compute="_compute_last_drill_state",
    )

    # ----------------------------------------------------------- compute --

    @api.depends("drill_ids.state")
    def _compute_last_drill_state(self):
        for backup in self:
            drills = backup.drill_ids.sorted("started_at", reverse=True)
            backup.last_drill_state = drills[:1].state

    # ----------------------------------------------------------- actions --

    @api.model
    def action_backup_now(self):
        """Take a full backup now (and its off-site copy), then prune."""
        self._check_system()
        backup = self._run_backup()
        self._apply_retention()
        return backup._get_form_action()

    def action_drill(self):
        """Restore this backup into a scratch database and check it."""
        self.ensure_one()
        self._check_system()
        drill = self.env["order.restore.drill"]._run_drill(self)
        return drill._get_form_action()

    def action_verify_offsite(self):
        """Read the off-site copies back and compare them with the backups."""
        self._check_system()
        self.filtered(lambda b: b.state == "done")._verify_offsite()
        return True

    def _get_form_action(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "current",
        }

    def _check_system(self):
        # Reading and writing server files and databases: administrators only,
        # whatever access rights the records have.
        if not self.env.is_system():
            raise UserError(self.env._("Only administrators run backups and drills."))

    # ---------------------------------------------------------- settings --

    @api.model
    def _get_setting(self, name, default=None):
        """Return a backup setting: the configuration file's option, else the
        system parameter, else ``default``."""
        option, param = SETTINGS[name]
        value = config.get(option)
        if not value:
            # The setting is the administrator's; users reading it need no
            # access to system parameters.
            value = self.env["ir.config_parameter"].sudo().get_param(param)
        return value or default

    @api.model
    def _get_backup_dir(self):
        """Return the folder of this database's backups (created if needed)."""
        root = self._get_setting("dir") or os.path.join(
            config["data_dir"], "order_backups"
        )
        folder = Path(root) / self.env.cr.dbname
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        return folder

    @api.model
    def _get_key(self):
        """Return the encryption key (environment variable or key file)."""
        return load_key(self._get_setting("key_file"))

    @api.model
    def _get_policy(self):
        text = self._get_setting("retention")
        return parse_policy(text) if text else DEFAULT_POLICY

    # ---------------------------------------------------------- business --

    @api.model
    def _run_backup(self):
        """Take a full backup of the current database; return its record.

        A failure gives a failed record and an alert to the Order Managers
        instead of an exception: a scheduled backup must leave a trace.
        """
        dbname = self.env.cr.dbname
        started = fields.Datetime.now()
        clock = time.monotonic()
        stamp = datetime.now(UTC).strftime("%Y%m%d_%H%M%S_%f")
        name = f"{dbname}_{stamp}{BACKUP_SUFFIX}"
        vals = {
            "name": name,
            "database": dbname,
            "started_at": started,
            **self._get_pitr_vals(),
        }
        try:
            key = self._get_key()
            folder = self._get_backup_dir()
            path = folder / name
            manifest = take_backup(
                dbname,
                path,
                key,
                {
                    "created": started.isoformat() + "Z",
                    "odoo_version": release.version,
                    "kind": "full",
                },
                work_dir=folder,
            )
            checksum = file_sha256(path)
            write_checksum_file(path, checksum)
            vals.update(
                state="done",
                file_path=str(path),
                file_size=path.stat().st_size / 1e6,
                checksum=checksum,
                manifest=json.dumps(
                    {k: v for k, v in manifest.items() if k != "files"},
                    indent=1,
                    sort_keys=True,
                ),
                odoo_version=manifest["odoo_version"],
                addon_version=manifest["addon_version"],
                audit_events=manifest["audit"]["events"],
                audit_head=manifest["audit"]["last_hash"],
            )
        except Exception as error:
            # Recorded and alerted below: a scheduled backup must leave a trace.
            _logger.exception("backup of %s failed", dbname)
            vals.update(state="failed", error=str(error))
        vals.update(
            finished_at=fields.Datetime.now(),
            duration=time.monotonic() - clock,
        )
        backup = self.create(vals)
        if backup.state == "failed":
            self._alert_managers(
                backup,
                self.env._("Backup failed"),
                self.env._(
                    "The backup of %(db)s failed: %(error)s",
                    db=dbname,
                    error=vals["error"],
                ),
            )
        else:
            _logger.info(
                "backup of %s written to %s (%.1f MB, %.1f s)",
                dbname,
                backup.file_path,
                backup.file_size,
                backup.duration,
            )
            backup._copy_offsite()
        return backup

    def _copy_offsite(self):
        """Copy each backup to the off-site target, if one is configured."""
        target = self._get_setting("offsite")
        for backup in self:
            if not target:
                backup.offsite_state = "none"
                continue
            try:
                location = backup_offsite.copy_backup(
                    backup.file_path,
                    backup.checksum,
                    target,
                    backup.database,
                    key_file=self._get_setting("sftp_key_file"),
                    known_hosts=self._get_setting("sftp_known_hosts"),
                )
            except BackupError as error:
                backup._offsite_failed(error)
            else:
                backup.write(
                    {
                        "offsite_state": "done",
                        "offsite_location": location,
                        "offsite_checked_at": fields.Datetime.now(),
                        "offsite_error": False,
                    }
                )

    def _verify_offsite(self):
        """Read back the off-site copy of each backup that has one."""
        target = self._get_setting("offsite")
        for backup in self.filtered(lambda b: b.offsite_state == "done"):
            try:
                backup_offsite.verify_copy(
                    backup.name,
                    backup.checksum,
                    target,
                    backup.database,
                    key_file=self._get_setting("sftp_key_file"),
                    known_hosts=self._get_setting("sftp_known_hosts"),
                )
            except BackupError as error:
                backup._offsite_failed(error)
            else:
                backup.offsite_checked_at = fields.Datetime.now()

    def _offsite_failed(self, error):
        self.ensure_one()
        _logger.error("off-site copy of %s failed: %s", self.name, error)
        self.write(
            {
                "offsite_state": "failed",
                "offsite_checked_at": fields.Datetime.now(),
                "offsite_error": str(error),
            }
        )
        self._alert_managers(
            self,
            self.env._("Off-site backup copy failed"),
            self.env._(
                "The off-site copy of backup %(name)s failed: %(error)s",
                name=self.name,
                error=str(error),
            ),
        )

    def _verify_file(self):
        """Raise BackupError unless the backup's file is there, whole."""
        self.ensure_one()
        path = Path(self.file_path or "")
        if self.state != "done" or not path.is_file():
            raise BackupError(
                self.env._("The file of backup %(name)s is missing.", name=self.name)
            )
        found = file_sha256(path)
        if found != self.checksum:
            raise BackupError(
                self.env._(
                    "The file %(path)s has checksum %(found)s, the backup was "
                    "written with %(expected)s: it is damaged.",
                    path=path,
                    found=found,
                    expected=self.checksum,
                )
            )

    @api.model
    def _apply_retention(self):
        """Remove the files of this database's backups the policy drops.

        :return: the backups removed
        """
        done = self.search(
            [("database", "=", self.env.cr.dbname), ("state", "=", "done")]
        )
        keep = backups_to_keep(
            [(backup.id, backup.started_at) for backup in done], self._get_policy()
        )
        removed = done.filtered(lambda b: b.id not in keep)
        target = self._get_setting("offsite")
        for backup in removed:
            path = Path(backup.file_path)
            for file in (path, checksum_path(path)):
                file.unlink(missing_ok=True)
            if target and backup.offsite_state == "done":
                try:
                    backup_offsite.remove_copy(
                        backup.name,
                        target,
                        backup.database,
                        key_file=self._get_setting("sftp_key_file"),
                        known_hosts=self._get_setting("sftp_known_hosts"),
                    )
                except BackupError as error:
                    # A copy left behind costs space, not safety: log only.
                    _logger.warning(
                        "off-site copy of %s not removed: %s", backup.name, error
                    )
        removed.write({"state": "removed"})
        if removed:
            _logger.info("backup retention removed %s backups", len(removed))
        return removed

    @api.model
    def _alert_managers(self, record, summary, note):
        """Tell the Order Managers about a problem with ``record`` (a backup
        or a drill): a message on it and an activity for each of them."""
        record.message_post(body=note)
        managers = self.env.ref("order_management.group_order_manager").users
        for user in managers.filtered(lambda u: u.active and not u.share):
            record.activity_schedule(
                ALERT_ACTIVITY, summary=summary, note=note, user_id=user.id
            )

    @api.model
    def _get_pitr_vals(self):
        """Say whether the database server archives its WAL, so that it can
        be recovered to any point in time, in words for the dashboard."""
        available, reason = archiving_status(self.env.cr)
        # Formatted outside the translated calls: the term extractor cannot
        # read f-strings among their arguments.
        hours = f"{self._get_interval_hours(available):g}"
        if available:
            note = self.env._(
                "Point-in-time recovery available: %(reason)s. Full backups "
                "every %(hours)s hours.",
                reason=reason,
                hours=hours,
            )
        else:
            note = self.env._(
                "No point-in-time recovery: the database server does not archive "
                "its WAL (%(reason)s). Full backups are taken every %(hours)s "
                "hours instead.",
                reason=reason,
                hours=hours,
            )
        return {"pitr_available": available, "pitr_note": note}

    @api.model
    def _get_interval_hours(self, archiving):
        """Hours between scheduled full backups."""
        if archiving:
            value = self._get_setting("interval", DEFAULT_INTERVAL_HOURS)
        else:
            value = self._get_setting("fallback_interval", DEFAULT_FALLBACK_HOURS)
        try:
            return max(float(value), 0.0)
        except ValueError:
            return DEFAULT_FALLBACK_HOURS

    @api.model
    def _is_backup_due(self):
        """Whether the scheduled action takes a full backup now: when the
        newest one is older than the interval, which is shorter when the
        server does not archive its WAL."""
        archiving, _reason = archiving_status(self.env.cr)
        newest = self.search(
            [("database", "=", self.env.cr.dbname), ("state", "!=", "failed")],
            order="started_at desc",
            limit=1,
        )
        if not newest:
            return True
        hours = self._get_interval_hours(archiving)
        # A few minutes of slack: the scheduler wakes up late now and then.
        due_at = newest.started_at + timedelta(hours=hours, minutes=-5)
        return fields.Datetime.now() >= due_at

    @api.model
    def _sync_filestore(self):
        """Copy the filestore files added since the last run, encrypted, to
        the backup folder: with the archived WAL, what a point-in-time
        recovery needs besides the database.

        :return: (files copied, files already there)
        """
        copied, kept = sync_filestore(
            config.filestore(self.env.cr.dbname),
            self._get_backup_dir() / "filestore",
            self._get_key(),
        )
        _logger.info("filestore copy: %s new files, %s already copied", copied, kept)
        return copied, kept

    @api.model
    def _cron_backup(self):
        """Scheduled (hourly): when the server archives its WAL, copy the new
        filestore files; a full backup when one is due, its off-site copy,
        then the retention."""
        if archiving_status(self.env.cr)[0]:
            try:
                self._sync_filestore()
            except Exception as error:
                # Alerted on the newest backup; the full backup still runs.
                _logger.exception("filestore copy failed")
                newest = self.search(
                    [("database", "=", self.env.cr.dbname)],
                    order="started_at desc",
                    limit=1,
                )
                if newest:
                    self._alert_managers(
                        newest,
                        self.env._("Filestore copy failed"),
                        self.env._(
                            "Copying the new filestore files failed: %(error)s",
                            error=str(error),
                        ),
                    )
        if not self._is_backup_due():
            return self.browse()
        backup = self._run_backup()
        self._apply_retention()
        return backup
