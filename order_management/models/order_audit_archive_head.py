from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from .order_audit_archive import make_append_only


class OrderAuditArchiveHead(models.Model):
    """Where one chain stood when an archive took its older events."""

    _name = "order.audit.archive.head"
    _description = "Order Audit Archive Head"
    _order = "archive_id, chain_key"
    _log_access = False

    archive_id = fields.Many2one(
        "order.audit.archive", required=True, readonly=True, ondelete="restrict"
    )
    chain_key = fields.Integer(
        string="Chain",
        required=True,
        readonly=True,
        help="The order's id, or 0 for the events beside orders.",
    )
    event_id = fields.Integer(string="Last Archived Event", readonly=True)
    hash = fields.Char(readonly=True)

    def init(self):
        # The latest head of a chain, and an archive's head of a chain.
        self.env.cr.execute(
            """
            CREATE INDEX IF NOT EXISTS order_audit_archive_head_chain_index
                ON order_audit_archive_head (chain_key, archive_id DESC);
            CREATE UNIQUE INDEX IF NOT EXISTS order_audit_archive_head_archive_index
                ON order_audit_archive_head (archive_id, chain_key);
            """
        )
        make_append_only(self.env.cr, self._table)

    # -------------------------------------------------------------- CRUD --

    def write(self, vals):
        raise UserError(self.env._("Order history archives cannot be changed."))

    @api.ondelete(at_uninstall=False)
    def _unlink_except_always(self):
        raise UserError(self.env._("Order history archives cannot be deleted."))

    # ---------------------------------------------------------- business --

    @api.model
    def _get_latest_hashes(self, keys, before_archive=None):
        """Return chain key -> hash its latest archive kept, for ``keys``.

        :param keys: chain keys (order ids, 0 for the events beside orders)
        :param int before_archive: only look at archives older than this id
        """
        keys = list(keys)
        if not keys:
            return {}
        self.flush_model()
        self.env.cr.execute(
            SQL(
                "SELECT DISTINCT ON (chain_key) chain_key, hash "
                "FROM order_audit_archive_head "
                "WHERE chain_key = ANY(%s) AND archive_id < %s "
                "ORDER BY chain_key, archive_id DESC",
                keys,
                before_archive or 2**31 - 1,
            )
        )
        return {key: hash_ or "" for key, hash_ in self.env.cr.fetchall()}
