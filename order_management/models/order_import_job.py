import base64
import io
import logging

from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Command

from ..tools.order_files import ENCODINGS, preview_order_file

_logger = logging.getLogger(__name__)

# Files with more orders than this are imported by the scheduler, not in the
# request: a web request would hit the HTTP timeout long before.
BACKGROUND_ORDERS = 200

# Rows shown in the preview.
PREVIEW_ROWS = 5

# Orders created between two progress reports of a background import.
PROGRESS_EVERY = 200

# Written by checking and importing only, never by a form or RPC.
PROTECTED_FIELDS = {
    "state",
    "preview",
    "order_count",
    "valid_order_count",
    "error_count",
    "done_count",
    "error_report",
    "error_report_name",
    "message",
    "order_ids",
    "started_at",
    "finished_at",
}


class OrderImportJob(models.Model):
    """One order file, from its upload to the orders it created.

    The file is checked first (preview, every wrong row in a downloadable
    report), then imported: all of it or nothing by default, or only its valid
    orders, the others going back to the clerk in the report. Large files are
    imported by a scheduled action, in one transaction, and their progress is
    written aside so that the user can follow it.
    """

    _name = "order.import.job"
    _inherit = ["order.protected.fields.mixin"]
    _description = "Order Import"
    _order = "id desc"
    _order_protected_fields = PROTECTED_FIELDS

    name = fields.Char(string="File Name", required=True)
    file = fields.Binary(attachment=True, required=True)
    encoding = fields.Selection(
        [("auto", "Detect")] + ENCODINGS,
        default="auto",
        required=True,
        help="For CSV files: how the text is encoded. Detect reads UTF-8, "
        "GB18030/GBK and Latin-1.",
    )
    mode = fields.Selection(
        [
            ("all", "All or nothing"),
            ("valid", "Import the valid orders, return the others"),
        ],
        default="all",
        required=True,
    )
    state = fields.Selection(
        [
            ("draft", "To Check"),
            ("checked", "Checked"),
            ("queued", "Waiting"),
            ("running", "Importing"),
            ("done", "Done"),
            ("failed", "Failed"),
        ],
        default="draft",
        required=True,
        readonly=True,
    )
    # Built escaped from the file's cells, sanitized again all the same.
    preview = fields.Html(readonly=True, sanitize=True)
    order_count = fields.Integer(string="Orders in File", readonly=True)
    valid_order_count = fields.Integer(string="Valid Orders", readonly=True)
    error_count = fields.Integer(string="Errors", readonly=True)
    done_count = fields.Integer(string="Orders Created", readonly=True)
    progress = fields.Float(compute="_compute_progress")
    error_report = fields.Binary(attachment=True, readonly=True)
    error_report_name = fields.Char(readonly=True)
    message = fields.Text(readonly=True)
    order_ids = fields.Many2many("sale.order", string="Orders", readonly=True)
    started_at = fields.Datetime(readonly=True)
    finished_at = fields.Datetime(readonly=True)

    @api.depends("done_count", "valid_order_count", "state")
    def _compute_progress(self):
        for job in self:
            if job.state == "done":
                job.progress = 100.0
            elif job.valid_order_count:
                job.progress = 100.0 * job.done_count / job.valid_order_count
            else:
                job.progress = 0.0

    # -------------------------------------------------------------- CRUD --

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_protected_fields(vals)
        return super(OrderImportJob, self._without_protected_defaults()).create(
            vals_list
        )

    def write(self, vals):
        self._check_protected_fields(vals)
        if not self.env.su and {"file", "name", "encoding", "mode"} & set(vals):
            self._check_can_change()
            # Another file or other options: what was checked no longer holds.
            vals = dict(vals, state="draft")
            return super(OrderImportJob, self.sudo()).write(vals)
        return super().write(vals)

    def _order_protected_fields_error(self, names):
        return self.env._(
            "The fields %(fields)s are set by checking and importing the "
            "file, not typed in.",
            fields=names,
        )

    # ------------------------------------------------------------- actions --

    def action_check(self):
        """Read the file: preview, counts and the report of every wrong row."""
        self.ensure_one()
        self._check_can_change()
        content = self._content()
        encoding = self._encoding()
        check = self._check(content)
        preview = preview_order_file(
            self.name, content, encoding=encoding, limit=PREVIEW_ROWS
        )
        self.sudo().write(
            {
                "state": "checked",
                "preview": self._preview_html(preview),
                "order_count": check.orders,
                "valid_order_count": check.valid_orders,
                "error_count": len(check.errors),
                "message": False,
                **self._error_report_vals(content, encoding, check),
            }
        )
        return self._reopen()

    def action_import(self):
        """Import the checked file, at once or in the background."""
        self.ensure_one()
        if self.state != "checked":
            self.action_check()
        if self.error_count and self.mode == "all":
            raise UserError(
                self.env._(
                    "%(file)s has %(count)s wrong value(s): nothing was imported. "
                    "Download the error report, correct the file and check it "
                    "again, or choose to import only the valid orders.",
                    file=self.name,
                    count=self.error_count,
                )
            )
        if not self.valid_order_count:
            raise UserError(
                self.env._("%(file)s holds no valid order.", file=self.name)
            )
        if self.valid_order_count > BACKGROUND_ORDERS:
            self.sudo().state = "queued"
            self.env.ref("order_management.ir_cron_order_import")._trigger()
            return self._reopen()
        self._run()
        return self.action_view_orders()

    def action_view_orders(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Imported Orders"),
            "res_model": "sale.order",
            "view_mode": "list,form",
            "views": [(False, "list"), (False, "form")],
            "domain": [("id", "in", self.order_ids.ids)],
            "context": {"create": False},
        }

    # ----------------------------------------------------------- scheduler --

    @api.model
    def _cron_import(self):
        """Import the oldest waiting file; the scheduler calls again at once
        while others wait, each file in a transaction of its own."""
        waiting = self.search([("state", "=", "queued")], order="id")
        if not waiting:
            return
        job = waiting[0]
        # Each file as its uploader: their rights decide what it may create.
        job.with_user(job.create_uid)._run(background=True)
        self.env["ir.cron"]._notify_progress(done=1, remaining=len(waiting) - 1)

    # ----------------------------------------------------------- internals --

    def _run(self, background=False):
        """Create the valid orders of the file, all in this transaction.

        :param bool background: report the progress as it goes; only for a
            job this transaction has not written yet (see _report_progress)
        """
        self.ensure_one()
        content = self._content()
        check = self._check(content)
        valid = self.env["order.importer"]._file_batches(
            self.name, content, encoding=self._encoding(), skip=check.refused
        )
        progress = None
        if background:
            self._report_progress(state="running", done=0)
            progress = self._report_progress
        try:
            with self.env.cr.savepoint():
                if self.mode == "all" or not check.readable:
                    # Checked clean, but what it refers to may have changed since.
                    self.env["order.importer"]._raise_errors(check.errors, self.name)
                created = self.env["order.importer"]._import_batches(
                    valid, self.name, progress=progress, progress_every=PROGRESS_EVERY
                )
        except UserError as error:
            # Refused by the importer (a product created meanwhile by someone
            # else, say): nothing stays. In a request the user reads why.
            if not background:
                raise
            self._finish("failed", message=str(error))
            return self.env["sale.order"]
        except Exception:
            if not background:
                raise
            # Its "running" state is already committed: a job left so would
            # wait for ever. Nothing of the file stays (the savepoint).
            _logger.exception("order import %s: failed", self.id)
            self._finish(
                "failed",
                message=self.env._(
                    "The import failed unexpectedly; nothing was imported. "
                    "The server log tells why."
                ),
            )
            return self.env["sale.order"]
        self._finish("done", orders=created)
        _logger.info(
            "order import %s: %s orders from %s", self.id, len(created), self.name
        )
        return created

    def _finish(self, state, orders=None, message=False):
        self.sudo().write(
            {
                "state": state,
                "done_count": len(orders or []),
                "order_ids": [Command.set(orders.ids)] if orders else [],
                "finished_at": fields.Datetime.now(),
                "message": message,
            }
        )
        user = self.create_uid
        if user and not user._is_superuser():
            user._bus_send(
                "simple_notification",
                {
                    "type": "success" if state == "done" else "danger",
                    "title": self.env._("Order import"),
                    "message": self.env._(
                        "%(file)s: %(count)s orders imported.",
                        file=self.name,
                        count=len(orders or []),
                    )
                    if state == "done"
                    else message,
                },
            )

    def _report_progress(self, done, state=None):
        """Write the progress aside, so that others see it before the end.

        The import itself runs in one transaction (all or nothing); its
        progress is committed by a cursor of its own, on the job row only,
        which the import transaction must not have written (it would hold the
        row's lock, and both would wait for each other).
        """
        values = {"done_count": done}
        if state:
            values.update(state=state, started_at=fields.Datetime.now())
        with self.env.registry.cursor() as cr:
            self.with_env(self.env(cr=cr)).sudo().write(values)

    def _content(self):
        if not self.file:
            raise UserError(self.env._("Choose a file to import."))
        return base64.b64decode(self.file)

    def _encoding(self):
        return None if self.encoding == "auto" else self.encoding

    def _check(self, content):
        """Check the file's rows and what they refer to: a ``FileCheck``."""
        return self.env["order.importer"]._check_file(
            self.name, content, encoding=self._encoding()
        )

    def _check_can_change(self):
        if self.state in ("queued", "running", "done"):
            raise UserError(
                self.env._("%(file)s is already imported or importing.", file=self.name)
            )

    def _reopen(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "views": [(False, "form")],
            "target": "new" if self.state in ("draft", "checked") else "current",
        }

    def _preview_html(self, preview):
        """A table of the file's first rows under the columns they map to."""
        header = Markup("").join(
            Markup("<th>%s<br/><small class='%s'>%s</small></th>")
            % (
                cell,
                "text-success" if column else "text-muted",
                column or self.env._("ignored"),
            )
            for cell, column in preview["columns"]
        )
        rows = Markup("").join(
            Markup("<tr>%s</tr>")
            % Markup("").join(Markup("<td>%s</td>") % value for value in row)
            for row in preview["rows"]
        )
        summary = self.env._(
            "Encoding %(encoding)s, separator %(separator)s.",
            encoding=preview["encoding"] or "-",
            separator=repr(preview["separator"]) if preview["separator"] else "-",
        )
        return Markup(
            "<p>%s</p><div class='table-responsive'>"
            "<table class='table table-sm table-bordered'>"
            "<thead><tr>%s</tr></thead><tbody>%s</tbody></table></div>"
        ) % (escape(summary), header, rows)

    def _error_report_vals(self, content, encoding, check):
        if not check.errors:
            return {"error_report": False, "error_report_name": False}
        # A file not read to its end gives back every row that could be read.
        raw = preview_order_file(
            self.name,
            content,
            encoding=encoding,
            limit=None,
            rows=check.refused_rows if check.readable else None,
        )
        report = _error_workbook(self.env, check.errors, raw)
        stem = self.name.rsplit(".", 1)[0]
        return {
            "error_report": base64.b64encode(report),
            "error_report_name": f"{stem}-errors.xlsx",
        }


def _error_workbook(env, errors, raw):
    """An XLSX file: every error, then the rows not imported, as text only.

    Every cell is written as a string, so that a value such as ``=1+1`` in the
    file stays text in the report instead of becoming a formula.
    """
    import xlsxwriter

    stream = io.BytesIO()
    book = xlsxwriter.Workbook(
        stream, {"in_memory": True, "strings_to_formulas": False}
    )
    bold = book.add_format({"bold": True})

    sheet = book.add_worksheet(env._("Errors"))
    for column, title in enumerate((env._("Row"), env._("Column"), env._("Reason"))):
        sheet.write_string(0, column, title, bold)
    for index, error in enumerate(errors, start=1):
        sheet.write_number(index, 0, error.row)
        sheet.write_string(index, 1, error.field)
        sheet.write_string(index, 2, error.reason)
    sheet.set_column(1, 1, 18)
    sheet.set_column(2, 2, 70)

    sheet = book.add_worksheet(env._("Rows not imported"))
    sheet.write_string(0, 0, env._("Row"), bold)
    for column, (cell, _name) in enumerate(raw["columns"], start=1):
        sheet.write_string(0, column, str(cell), bold)
    for index, (number, row) in enumerate(
        zip(raw["numbers"], raw["rows"], strict=True), start=1
    ):
        sheet.write_number(index, 0, number)
        for column, value in enumerate(row, start=1):
            sheet.write_string(index, column, str(value))
    book.close()
    return stream.getvalue()
