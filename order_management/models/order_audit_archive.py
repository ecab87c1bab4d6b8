import base64
import gzip
import hashlib
import io
import json
import logging
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Command
from odoo.tools import SQL

from ..tools.audit_chain import CHAINED_FIELDS, first_broken_link

_logger = logging.getLogger(__name__)

# Archivers take this transaction-level lock: two at once would pick the same
# events.
ARCHIVE_LOCK = 421_186_511

# How many days events stay in the table; 0 keeps them there forever.
RETENTION_PARAM = "order_management.audit_retention_days"
DEFAULT_RETENTION_DAYS = 730

# What a line of an archive file holds: the event as the chain sees it.
ARCHIVED_FIELDS = ("id", *CHAINED_FIELDS, "previous_hash", "hash")

# Events read from the table at a time while writing a file.
ARCHIVE_BATCH = 5000


def make_append_only(cr, table):
    """Have the database refuse to change, remove or empty ``table``'s rows."""
    cr.execute(
        """
        CREATE OR REPLACE FUNCTION order_audit_archive_refuse_change()
        RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'order audit archives are append-only: % refused',
                TG_OP USING ERRCODE = 'insufficient_privilege';
        END $$;
        """
    )
    cr.execute(
        SQL(
            """
            DROP TRIGGER IF EXISTS %(row)s ON %(table)s;
            CREATE TRIGGER %(row)s BEFORE UPDATE OR DELETE ON %(table)s
                FOR EACH ROW EXECUTE FUNCTION order_audit_archive_refuse_change();
            DROP TRIGGER IF EXISTS %(truncate)s ON %(table)s;
            CREATE TRIGGER %(truncate)s BEFORE TRUNCATE ON %(table)s
                FOR EACH STATEMENT
                EXECUTE FUNCTION order_audit_archive_refuse_change();
            """,
            table=SQL.identifier(table),
            row=SQL.identifier(f"{table}_append_only"),
            truncate=SQL.identifier(f"{table}_no_truncate"),
        )
    )


class OrderAuditArchive(models.Model):
    """Events moved out of the order history into a compressed file.

    Retention: events older than the retention period leave the table for a
    gzip-compressed JSON-lines file (one event per line, as the chain sees it),
    kept as the attachment of an archive record. The record keeps the period,
    the number of events, the file's SHA-256 and, for each chain, its head:
    the last archived event and its hash. Only a prefix of each chain moves
    (the events before its first one that is too young to go), so what stays
    in the table is the tail of every chain, and its first event links to
    the head. The verification starts each chain from its latest head, and
    new events of a chain whose events all left chain to it as well.

    Deleting archived events: the event table's trigger refuses any DELETE,
    except of a row that ``order_audit_archive_covers`` vouches for. That is
    the case only when the transaction-local setting ``order_audit.archiving``
    names an archive that was created in the current transaction (a trigger
    stamps each archive with the id of the transaction that inserts it), whose
    cutoff is later than the event, and whose head for the event's chain is
    that event or a later one. The archiver sets the setting for its one
    DELETE, then clears it; ``_archive_events`` is the only code that does.
    An archive from an earlier transaction opens nothing: the events it covers
    are gone, and later events have higher ids than its heads.

    Someone with the database's rights can still get round this (set the
    setting, insert a made-up archive, or switch the triggers off). The chain
    still shows it: events removed without an archive leave the first
    remaining one of their chain pointing to a hash that neither the table nor
    any head holds, and an archive whose file does not hold exactly what was
    removed, chained from the previous head up to the recorded one, fails
    ``_verify_archive``. Rewriting the history undetected would mean forging
    every later hash of the chain, the live events' included.

    Archives and their heads are append-only like the events: the ORM refuses
    to change or delete them and database triggers refuse UPDATE, DELETE and
    TRUNCATE.
    """

    _name = "order.audit.archive"
    _description = "Order Audit Archive"
    _order = "id desc"
    # Append-only rows: write dates would be UPDATEs the triggers refuse.
    _log_access = False

    # ------------------------------------------------------------ fields --

    name = fields.Char(required=True, readonly=True)
    cutoff = fields.Datetime(string="Events Before", required=True, readonly=True)
    date_from = fields.Datetime(string="First Event", readonly=True)
    date_to = fields.Datetime(string="Last Event", readonly=True)
    event_count = fields.Integer(string="Events", readonly=True)
    chain_count = fields.Integer(string="Chains", readonly=True)
    head_ids = fields.One2many(
        "order.audit.archive.head", "archive_id", string="Chain Heads", readonly=True
    )
    file = fields.Binary(attachment=True, readonly=True)
    file_name = fields.Char(readonly=True)
    checksum = fields.Char(string="SHA-256", readonly=True)
    user_id = fields.Many2one(
        "res.users", string="Archived By", readonly=True, ondelete="restrict"
    )
    archived_on = fields.Datetime(readonly=True)

    def init(self):
        cr = self.env.cr
        # Filled by the database, not by whoever inserts: the DELETE gate
        # trusts it. Not a field: Odoo has no 64-bit integers.
        cr.execute(
            """
            ALTER TABLE order_audit_archive
                ADD COLUMN IF NOT EXISTS transaction_id bigint;
            CREATE OR REPLACE FUNCTION order_audit_archive_stamp()
            RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                NEW.transaction_id := txid_current();
                RETURN NEW;
            END $$;
            DROP TRIGGER IF EXISTS order_audit_archive_stamp
                ON order_audit_archive;
            CREATE TRIGGER order_audit_archive_stamp
                BEFORE INSERT ON order_audit_archive
                FOR EACH ROW EXECUTE FUNCTION order_audit_archive_stamp();
            CREATE OR REPLACE FUNCTION order_audit_archive_covers(
                event_id integer, chain_key integer, event_time timestamp
            ) RETURNS boolean LANGUAGE plpgsql STABLE AS $$
            BEGIN
                RETURN EXISTS (
                    SELECT FROM order_audit_archive archive
                    JOIN order_audit_archive_head head
                        ON head.archive_id = archive.id
                    WHERE archive.id = NULLIF(
                            current_setting('order_audit.archiving', true), ''
                        )::integer
                        AND archive.transaction_id = txid_current()
                        AND archive.cutoff > event_time
                        AND head.chain_key = order_audit_archive_covers.chain_key
                        AND head.event_id >= order_audit_archive_covers.event_id
                );
            END $$;
            """
        )
        make_append_only(cr, self._table)

    # -------------------------------------------------------------- CRUD --

    def write(self, vals):
        raise UserError(self.env._("Order history archives cannot be changed."))

    @api.ondelete(at_uninstall=False)
    def _unlink_except_always(self):
        raise UserError(self.env._("Order history archives cannot be deleted."))

    # ----------------------------------------------------------- actions --

    def action_download(self):
        """Download the archive's file (gzip-compressed JSON lines)."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self._name}/{self.id}/file/{self.file_name}"
            "?download=true",
            "target": "self",
        }

    @api.model
    def action_verify_archives(self):
        """Verify every archive now and say what was found."""
        problems = self._verify_all()
        message = (
            "\n".join(problem for _archive, problem in problems)
            if problems
            else self.env._("Every order history archive is intact.")
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Order history archives"),
                "message": message,
                "type": "danger" if problems else "success",
                "sticky": bool(problems),
            },
        }

    # --------------------------------------------------------- retention --

    @api.model
    def _get_retention_days(self):
        """Return how many days events stay in the table (0: forever)."""
        value = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param(RETENTION_PARAM, DEFAULT_RETENTION_DAYS)
        )
        try:
            return max(int(value), 0)
        except ValueError:
            # Misconfigured: keep everything rather than guess.
            _logger.warning(
                "%s is not a number of days (%r): no event is archived",
                RETENTION_PARAM,
                value,
            )
            return 0

    @api.model
    def _set_retention_days(self, days):
        # Stored even when 0, which would otherwise fall back to the default.
        self.env["ir.config_parameter"].sudo().set_param(RETENTION_PARAM, str(days))

    @api.model
    def _cron_archive_events(self):
        """Check the archives made so far, then archive what is due."""
        for _archive, problem in self._verify_all():
            _logger.error("order audit archive broken: %s", problem)
        return self._archive_due(self._get_retention_days())

    @api.model
    def _archive_due(self, days):
        """Archive the events older than ``days`` days; 0 archives nothing."""
        if not days:
            return self.browse()
        return self._archive_events(fields.Datetime.now() - timedelta(days=days))

    @api.model
    def _archive_events(self, cutoff):
        """Move the events older than ``cutoff`` into a new archive.

        Of each chain, the events before its first one at or after ``cutoff``
        move: when a chain holds an old event after a younger one (a time
        given when it was recorded), that old event stays until the younger
        one is due too.

        :param datetime cutoff: events before this moment are archived
        :return: the new archive, or an empty recordset when nothing is due
        """
        cr = self.env.cr
        self.env.flush_all()
        cr.execute(SQL("SELECT pg_advisory_xact_lock(%s)", ARCHIVE_LOCK))

        # 1) The events due, as each chain's prefix older than the cutoff.
        cr.execute(
            SQL(
                """
                CREATE TEMP TABLE order_audit_archiving ON COMMIT DROP AS
                SELECT event.id, COALESCE(event.order_id, 0) AS chain_key
                FROM order_audit_event event
                JOIN (
                    SELECT COALESCE(order_id, 0) AS chain_key,
                        MIN(id) FILTER (WHERE timestamp >= %(cutoff)s) AS kept
                    FROM order_audit_event
                    GROUP BY 1
                    HAVING MIN(timestamp) < %(cutoff)s
                ) chain ON chain.chain_key = COALESCE(event.order_id, 0)
                WHERE chain.kept IS NULL OR event.id < chain.kept;
                CREATE INDEX ON order_audit_archiving (chain_key, id);
                SELECT count(*) FROM order_audit_archiving;
                """,
                cutoff=cutoff,
            )
        )
        count = cr.fetchone()[0]
        if not count:
            cr.execute("DROP TABLE order_audit_archiving")
            return self.browse()

        # 2) The file, and where each chain stops.
        content, summary = self._write_archiving_file()
        heads = summary["heads"]
        missing = [key for key, (_id, hash_) in heads.items() if hash_ is None]
        if missing:
            # Chains that archive only unhashed events keep the head they had.
            before = self.env["order.audit.archive.head"]._get_latest_hashes(missing)
            for key in missing:
                heads[key] = (heads[key][0], before.get(key, ""))

        # 3) The archive record; the superuser's, since nobody may create one.
        stamp = fields.Datetime.now()
        archive = self.sudo().create(
            {
                "name": self.env._(
                    "Order history before %(cutoff)s",
                    cutoff=fields.Datetime.to_string(cutoff),
                ),
                "cutoff": cutoff,
                "date_from": summary["date_from"],
                "date_to": summary["date_to"],
                "event_count": summary["count"],
                "chain_count": len(heads),
                "head_ids": [
                    Command.create(
                        {"chain_key": key, "event_id": event_id, "hash": hash_}
                    )
                    for key, (event_id, hash_) in sorted(heads.items())
                ],
                "file": base64.b64encode(content),
                "file_name": f"order-history-{stamp:%Y%m%d-%H%M%S}.jsonl.gz",
                "checksum": hashlib.sha256(content).hexdigest(),
                "user_id": self.env.uid,
                "archived_on": stamp,
            }
        )
        self.env.flush_all()

        # 4) Out of the table, through the gate this archive opens.
        cr.execute(
            SQL("SELECT set_config('order_audit.archiving', %s, true)", str(archive.id))
        )
        cr.execute(
            "DELETE FROM order_audit_event "
            "WHERE id IN (SELECT id FROM order_audit_archiving)"
        )
        deleted = cr.rowcount
        cr.execute(
            "SELECT set_config('order_audit.archiving', '', true);"
            "DROP TABLE order_audit_archiving"
        )
        if deleted != count or summary["count"] != count:
            raise UserError(
                self.env._(
                    "Archiving stopped: %(count)s events were due, %(written)s "
                    "written to the file and %(deleted)s removed.",
                    count=count,
                    written=summary["count"],
                    deleted=deleted,
                )
            )
        self.env.invalidate_all()
        _logger.info(
            "order audit: %s events of %s chains before %s archived in archive %s",
            count,
            len(heads),
            cutoff,
            archive.id,
        )
        return archive

    def _write_archiving_file(self):
        """Write the events picked for archiving into a gzip'd JSON-lines file.

        :return: (file content, summary) where the summary holds ``count``,
            ``date_from``, ``date_to`` and ``heads``: chain key -> (last event
            id, last hash, None when none of its events has a hash)
        """
        cr = self.env.cr
        columns = SQL(", ").join(
            SQL("event.%s", SQL.identifier(name)) for name in ARCHIVED_FIELDS
        )
        summary = {"count": 0, "date_from": None, "date_to": None, "heads": {}}
        heads = summary["heads"]
        buffer = io.BytesIO()
        chain, last_id = -1, 0
        # mtime 0: the same events always give the same file.
        with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as stream:
            while True:
                cr.execute(
                    SQL(
                        "SELECT archiving.chain_key, %s "
                        "FROM order_audit_archiving archiving "
                        "JOIN order_audit_event event ON event.id = archiving.id "
                        "WHERE (archiving.chain_key, archiving.id) > (%s, %s) "
                        "ORDER BY archiving.chain_key, archiving.id LIMIT %s",
                        columns,
                        chain,
                        last_id,
                        ARCHIVE_BATCH,
                    )
                )
                rows = cr.fetchall()
                if not rows:
                    break
                for chain, *values in rows:
                    event = dict(zip(ARCHIVED_FIELDS, values, strict=True))
                    when = event["timestamp"]
                    event["timestamp"] = fields.Datetime.to_string(when)
                    stream.write(_dump_line(event))
                    summary["count"] += 1
                    if not summary["date_from"] or when < summary["date_from"]:
                        summary["date_from"] = when
                    if not summary["date_to"] or when > summary["date_to"]:
                        summary["date_to"] = when
                    previous = heads.get(chain, (0, None))[1]
                    heads[chain] = (event["id"], event["hash"] or previous)
                last_id = rows[-1][1]
        return buffer.getvalue(), summary

    # ------------------------------------------------------ verification --

    @api.model
    def _verify_all(self):
        return self.search([], order="id")._verify_archive()

    def _verify_archive(self):
        """Re-read each archive's file; return what does not hold in them.

        An archive holds when its file has the SHA-256 that was recorded, each
        of its chains links from the head the archives before it kept (or from
        nothing) and every hash in it holds, and it has as many events, and
        ends each chain on the event and hash, that the archive recorded.

        :return: list of (archive, message), at most one per archive
        """
        problems = []
        for archive in self.sorted("id"):
            problem = archive._get_archive_problem()
            if problem:
                problems.append((archive, problem))
        return problems

    def _get_archive_problem(self):
        """Return what is wrong with this archive's file, or False."""
        self.ensure_one()
        # Attachments of a binary field are searched for by that field only.
        attachment = (
            self.env["ir.attachment"]
            .sudo()
            .search(
                [
                    ("res_model", "=", self._name),
                    ("res_id", "=", self.id),
                    ("res_field", "=", "file"),
                ],
                limit=1,
            )
        )
        content = attachment.raw if attachment else None
        if not content:
            return self.env._(
                "Archive %(archive)s: its file is missing.", archive=self.name
            )
        checksum = hashlib.sha256(content).hexdigest()
        if checksum != self.checksum:
            return self.env._(
                "Archive %(archive)s: its file was changed (SHA-256 %(found)s, "
                "%(recorded)s recorded).",
                archive=self.name,
                found=checksum,
                recorded=self.checksum,
            )

        recorded = {head.chain_key: head for head in self.head_ids}
        before = self.env["order.audit.archive.head"]._get_latest_hashes(
            recorded, before_archive=self.id
        )
        seen = {}
        try:
            broken, chain, _hash = first_broken_link(
                _read_chains(content, seen), heads=before
            )
        except (OSError, EOFError, ValueError, KeyError, TypeError) as error:
            return self.env._(
                "Archive %(archive)s: its file cannot be read (%(error)s).",
                archive=self.name,
                error=error,
            )
        if broken:
            return self.env._(
                "Archive %(archive)s: the chain of %(chain)s breaks at event "
                "%(event)s.",
                archive=self.name,
                chain=self._get_chain_label(chain),
                event=broken,
            )

        count = sum(found["count"] for found in seen.values())
        if count != self.event_count:
            return self.env._(
                "Archive %(archive)s: its file holds %(found)s events, "
                "%(recorded)s recorded.",
                archive=self.name,
                found=count,
                recorded=self.event_count,
            )
        for key in sorted(set(seen) | set(recorded)):
            found = seen.get(key, {"id": None, "hash": None})
            head = recorded.get(key)
            if (
                not head
                or found["id"] != head.event_id
                or (found["hash"] or before.get(key, "")) != (head.hash or "")
            ):
                return self.env._(
                    "Archive %(archive)s: the chain of %(chain)s does not end "
                    "on the head recorded for it.",
                    archive=self.name,
                    chain=self._get_chain_label(key),
                )
        return False

    @api.model
    def _get_chain_label(self, key):
        if not key:
            return self.env._("events beside orders")
        order = self.env["sale.order"].sudo().browse(key).exists()
        return order.display_name or self.env._("order %(id)s", id=key)


def _dump_line(event):
    line = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    return (line + "\n").encode("utf-8")


def _read_chains(content, seen):
    """Yield an archive file's hashed events as the chain walk takes them.

    Fills ``seen`` as it goes: chain key -> {count, id, hash} of the events
    read so far, unhashed ones included in the count.
    """
    with gzip.GzipFile(fileobj=io.BytesIO(content)) as stream:
        for line in stream:
            event = json.loads(line)
            key = event["order_id"] or 0
            found = seen.setdefault(key, {"count": 0, "id": None, "hash": None})
            found["count"] += 1
            found["id"] = event["id"]
            if not event["hash"]:
                continue
            found["hash"] = event["hash"]
            values = {name: event.get(name) for name in CHAINED_FIELDS}
            yield event["id"], key, values, event["previous_hash"], event["hash"]
