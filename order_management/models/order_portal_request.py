import logging
import math
from datetime import timedelta

from odoo import api, fields, models
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

# Writes a customer makes through the portal, counted together.
PORTAL_ACTIONS = [
    ("incident", "Incident report"),
    ("sign", "Signature"),
    ("decline", "Decline"),
]

# Unless the system parameters say otherwise: this many portal writes per
# customer within this many minutes; the next ones are refused.
PORTAL_RATE_LIMIT = 20
PORTAL_RATE_MINUTES = 10

# Counting a customer's requests takes a transaction-level lock on (this,
# customer id): two requests at once cannot both take the last place.
RATE_LOCK = 421_186_511

# Requests are kept this long at least, for the counts of any window shorter.
KEEP_DAYS = 1


class OrderPortalRequest(models.Model):
    """A write a customer made through the portal, kept to rate-limit them."""

    _name = "order.portal.request"
    _description = "Portal Write Request"
    _order = "id desc"
    _log_access = False

    # ------------------------------------------------------------ fields --

    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        readonly=True,
        index=True,
        ondelete="cascade",
    )
    action = fields.Selection(PORTAL_ACTIONS, required=True, readonly=True)
    timestamp = fields.Datetime(
        required=True, readonly=True, default=fields.Datetime.now, index=True
    )

    # ---------------------------------------------------------- business --

    @api.model
    def _admit(self, order, action):
        """Count a portal write on ``order`` for its customer, or refuse it.

        The customer is the order's commercial partner: the people of one
        company share its allowance. A refusal is recorded in the audit log
        (``portal_rate_limited``) with the order, the customer and where the
        request came from.

        :param order: the sale.order written to (sudo)
        :param str action: one of PORTAL_ACTIONS
        :return: the translated refusal, or None when the request may go on
        """
        limit, minutes = self._rate_settings()
        if limit <= 0 or minutes <= 0:
            return None
        customer = order.partner_id.commercial_partner_id
        window = timedelta(minutes=minutes)
        now = fields.Datetime.now()
        self.env.cr.execute(
            SQL("SELECT pg_advisory_xact_lock(%s, %s)", RATE_LOCK, customer.id)
        )
        self.env.cr.execute(
            SQL(
                "SELECT count(*), min(timestamp) FROM order_portal_request "
                "WHERE partner_id = %s AND timestamp > %s",
                customer.id,
                now - window,
            )
        )
        count, oldest = self.env.cr.fetchone()
        if count < limit:
            self.sudo().create({"partner_id": customer.id, "action": action})
            return None

        wait = (oldest + window - now).total_seconds()
        message = self.env._(
            "Too many requests from your account: please try again in "
            "%(minutes)s minute(s).",
            minutes=max(math.ceil(wait / 60), 1),
        )
        self._record_refusal(order, customer, action, count, minutes)
        _logger.warning(
            "portal %s on %s refused: customer %s made %s writes in %s minutes",
            action,
            order.name,
            customer.id,
            count,
            minutes,
        )
        return message

    @api.model
    def _record_refusal(self, order, customer, action, count, minutes):
        user = self.env.user
        labels = dict(self._fields["action"]._description_selection(self.env))
        self.env["order.audit.event"]._record_events(
            [
                {
                    "event": "portal_rate_limited",
                    "stage": "access",
                    "order_id": order.id,
                    "res_model": "res.partner",
                    "res_id": customer.id,
                    "login": False if user._is_public() else user.login,
                    "note": self.env._(
                        "%(action)s refused: %(customer)s made %(count)s "
                        "portal requests within %(minutes)s minutes.",
                        action=labels[action],
                        customer=customer.display_name,
                        count=count,
                        minutes=minutes,
                    ),
                }
            ]
        )

    @api.model
    def _rate_settings(self):
        """Return (portal writes allowed per customer, minutes they count)."""
        return self.env["res.users"]._int_settings(
            ("order_management.portal_rate_limit", PORTAL_RATE_LIMIT),
            ("order_management.portal_rate_minutes", PORTAL_RATE_MINUTES),
        )

    @api.autovacuum
    def _gc_old_requests(self):
        """Forget the requests older than any window counts."""
        minutes = max(self._rate_settings()[1], KEEP_DAYS * 24 * 60)
        since = fields.Datetime.now() - timedelta(minutes=minutes)
        old = self.sudo().search([("timestamp", "<", since)])
        old.unlink()
        _logger.info("%s old portal requests forgotten", len(old))
