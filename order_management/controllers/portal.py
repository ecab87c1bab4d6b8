import logging

from odoo import http
from odoo.exceptions import AccessError, MissingError
from odoo.http import request

from odoo.addons.portal.controllers.portal import CustomerPortal

from ..models.order_incident import INCIDENT_TYPES

_logger = logging.getLogger(__name__)

# A photo larger than this is refused: the form is for a picture, not a video.
MAX_PHOTO_BYTES = 10 * 1024 * 1024


class OrderIncidentPortal(CustomerPortal):
    @http.route(
        "/my/orders/<int:order_id>/incident",
        type="http",
        auth="public",
        methods=["POST"],
        website=True,
    )
    def portal_order_report_incident(
        self, order_id, access_token=None, incident_type=None, description=None, **kw
    ):
        """A customer reports a problem with their order, with a photo."""
        try:
            order = self._document_check_access("sale.order", order_id, access_token)
        except (AccessError, MissingError):
            return request.redirect("/my")

        back = order.get_portal_url(anchor="incidents")
        description = (description or "").strip()
        if incident_type not in dict(INCIDENT_TYPES) or not description:
            return request.redirect(
                order.get_portal_url(
                    query_string="&incident=missing", anchor="incidents"
                )
            )
        photo = kw.get("photo")
        content = photo.read() if photo and getattr(photo, "filename", "") else b""
        if len(content) > MAX_PHOTO_BYTES:
            return request.redirect(
                order.get_portal_url(
                    query_string="&incident=too_large", anchor="incidents"
                )
            )

        incident = order._report_customer_incident(
            incident_type,
            description,
            photo=(photo.filename, content) if content else None,
        )
        _logger.info(
            "incident %s reported from the portal on %s", incident.name, order.name
        )
        return request.redirect(back)
