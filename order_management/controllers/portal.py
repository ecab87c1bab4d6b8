import logging

from odoo import http
from odoo.exceptions import AccessError, MissingError
from odoo.http import request

from odoo.addons.sale.controllers.portal import CustomerPortal

from ..models.order_incident import INCIDENT_TYPES

_logger = logging.getLogger(__name__)

# A photo larger than this is refused: the form is for a picture, not a video.
MAX_PHOTO_BYTES = 10 * 1024 * 1024


class OrderPortal(CustomerPortal):
    """The addon's portal routes, and a rate limit on every portal write.

    Incident reports, signatures and declines count together per customer
    (``order.portal.request``); beyond the limit a page answers 429 Too Many
    Requests and the signature dialog shows the refusal (a JSON route
    answers in its own body).
    """

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
        refusal = request.env["order.portal.request"]._admit(order, "incident")
        if refusal:
            return self._rate_limited(refusal, back)
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

    @http.route()
    def portal_quote_accept(
        self, order_id, access_token=None, name=None, signature=None
    ):
        """Odoo's signature of a quotation, within the customer's rate limit."""
        token = access_token or request.httprequest.args.get("access_token")
        try:
            order = self._document_check_access("sale.order", order_id, token)
        except (AccessError, MissingError):
            order = None
        if order:
            refusal = request.env["order.portal.request"]._admit(order, "sign")
            if refusal:
                return {"error": refusal}
        return super().portal_quote_accept(
            order_id, access_token=access_token, name=name, signature=signature
        )

    @http.route()
    def portal_quote_decline(
        self, order_id, access_token=None, decline_message=None, **kwargs
    ):
        """Odoo's decline of a quotation, within the customer's rate limit."""
        try:
            order = self._document_check_access("sale.order", order_id, access_token)
        except (AccessError, MissingError):
            order = None
        if order:
            refusal = request.env["order.portal.request"]._admit(order, "decline")
            if refusal:
                return self._rate_limited(refusal, order.get_portal_url())
        return super().portal_quote_decline(
            order_id,
            access_token=access_token,
            decline_message=decline_message,
            **kwargs,
        )

    def _rate_limited(self, message, back):
        """Answer 429 Too Many Requests with ``message`` and a way back."""
        minutes = request.env["order.portal.request"]._rate_settings()[1]
        return request.render(
            "order_management.portal_rate_limited",
            {"message": message, "back": back},
            status=429,
            headers=[("Retry-After", str(max(minutes, 1) * 60))],
        )
