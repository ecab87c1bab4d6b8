from odoo import http
from odoo.http import request

from odoo.addons.web.controllers.session import Session


class AuditedSession(Session):
    """Record in the audit log who logged out, from where."""

    # Odoo serves these routes read-only: recording the logout writes.
    @http.route(readonly=False)
    def logout(self, redirect="/odoo"):
        self._audit_logout()
        return super().logout(redirect=redirect)

    @http.route(readonly=False)
    def destroy(self):
        self._audit_logout()
        return super().destroy()

    def _audit_logout(self):
        uid = request.session.uid
        if not uid or not request.db:
            return
        env = request.env(user=uid)
        env["order.audit.event"]._record_events(
            [
                {
                    "event": "logout",
                    "stage": "access",
                    "login": request.session.login or env.user.login,
                }
            ]
        )
