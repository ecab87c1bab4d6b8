import logging
import time

from psycopg2.errors import ReadOnlySqlTransaction

from odoo import SUPERUSER_ID, api, models
from odoo.http import request, root

from .order_audit_event import cursor_apart

_logger = logging.getLogger(__name__)

# Minutes without a request after which a session is logged out, unless the
# system parameter says otherwise; 0 keeps sessions until Odoo's own expiry.
SESSION_IDLE_MINUTES = 30

# Where the session keeps the time of its last request (seconds since epoch).
LAST_ACTIVITY_KEY = "order_management_last_activity"

# The last activity is written at most this often: each write saves the
# session file again.
ACTIVITY_RESOLUTION = 60

# Requests a browser makes by itself, which are not the user's activity: the
# bus connection stays open in an idle tab.
BACKGROUND_PATHS = ("/websocket", "/longpolling/")


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    @classmethod
    def _authenticate_explicit(cls, auth):
        if request.session.uid is not None:
            cls._expire_idle_session()
        return super()._authenticate_explicit(auth)

    @classmethod
    def _expire_idle_session(cls):
        """Log out a session idle for too long, else note its activity.

        A session idle longer than the system parameter
        ``order_management.session_idle_minutes`` is logged out before
        Odoo authenticates the request: a page then redirects to the login,
        a JSON call answers that the session expired, a public page is
        served to the public. The session is saved logged out at once (the
        request ends in an error that would not save it) and the expiry is
        recorded in the audit log. A session without a last activity, such
        as one just opened, starts counting now.
        """
        session = request.session
        now = time.time()
        last = session.get(LAST_ACTIVITY_KEY)
        idle = cls._session_idle_seconds()
        if idle and last and now - last > idle:
            if request.env.cr.readonly:
                # Recording the expiry writes: Odoo serves the request again
                # in a read/write transaction, as for any write.
                raise ReadOnlySqlTransaction(
                    "idle session expired, recorded in a read/write transaction"
                )
            cls._record_session_expiry(session, now - last)
            session.logout(keep_db=True)
            root.session_store.rotate(session, request.env)
            request.env = api.Environment(request.env.cr, None, session.context)
            return

        background = request.httprequest.path.startswith(BACKGROUND_PATHS)
        if not last or (not background and now - last >= ACTIVITY_RESOLUTION):
            session[LAST_ACTIVITY_KEY] = now

    @classmethod
    def _session_idle_seconds(cls):
        env = request.env(user=SUPERUSER_ID)
        minutes = env["res.users"]._int_settings(
            ("order_management.session_idle_minutes", SESSION_IDLE_MINUTES)
        )[0]
        return max(minutes, 0) * 60

    @classmethod
    def _record_session_expiry(cls, session, idle_seconds):
        """Record the expiry in a transaction of its own.

        The request's transaction is rolled back when it ends in the session
        expired error, and it may be read-only.
        """
        with cursor_apart(request.env.registry) as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"lang": request.env.lang})
            env["order.audit.event"]._record_events(
                [
                    {
                        "event": "session_expired",
                        "stage": "access",
                        "user_id": session.uid,
                        "login": session.login,
                        "note": env._(
                            "Logged out after %(minutes)s minutes without a "
                            "request.",
                            minutes=int(idle_seconds // 60),
                        ),
                    }
                ]
            )
        _logger.info(
            "session of user %s logged out after %s s idle", session.uid, idle_seconds
        )
