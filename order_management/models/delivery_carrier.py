import re
from urllib.parse import quote

from odoo import api, fields, models
from odoo.exceptions import ValidationError

SHIPPING_METHODS = [
    ("road", "Road"),
    ("rail", "Rail"),
    ("sea", "Sea"),
    ("air", "Air"),
    ("courier", "Courier / express"),
    ("pickup", "Picked up by the customer"),
]


class DeliveryCarrier(models.Model):
    """What the shipping record needs to know of a carrier."""

    _inherit = "delivery.carrier"

    shipping_method = fields.Selection(SHIPPING_METHODS, default="road")
    tracking_ref_pattern = fields.Char(
        string="Tracking Number Format",
        help="A regular expression the whole tracking number must match, e.g. "
        "1Z[0-9A-Z]{16} for UPS. Empty: any tracking number is accepted.",
    )
    tracking_ref_help = fields.Char(
        string="Format Shown to Users",
        translate=True,
        help="How to describe the format when a number does not match it, "
        "e.g. '1Z followed by 16 letters or digits'.",
    )
    tracking_url_pattern = fields.Char(
        string="Tracking Page",
        help="The carrier's tracking page, with {ref} where the tracking number "
        "goes, e.g. https://carrier.example/track?number={ref}",
    )

    @api.constrains("tracking_ref_pattern")
    def _check_tracking_ref_pattern(self):
        for carrier in self.filtered("tracking_ref_pattern"):
            try:
                re.compile(carrier.tracking_ref_pattern)
            except re.error as error:
                raise ValidationError(
                    self.env._(
                        "The tracking number format of %(carrier)s is not a valid "
                        "regular expression: %(error)s",
                        carrier=carrier.name,
                        error=error,
                    )
                ) from None

    @api.constrains("tracking_url_pattern")
    def _check_tracking_url_pattern(self):
        # The link is shown to customers: a javascript: or data: address would
        # run in their browser.
        for carrier in self.filtered("tracking_url_pattern"):
            if (
                not carrier.tracking_url_pattern.strip()
                .lower()
                .startswith(("https://", "http://"))
            ):
                raise ValidationError(
                    self.env._(
                        "The tracking page of %(carrier)s must be a web address "
                        "starting with https:// or http://.",
                        carrier=carrier.name,
                    )
                )

    def _tracking_ref_is_valid(self, ref):
        self.ensure_one()
        pattern = self.tracking_ref_pattern
        return not pattern or re.fullmatch(pattern, ref) is not None

    def get_tracking_link(self, picking):
        # Carriers without an integration of their own link to their page.
        link = super().get_tracking_link(picking)
        if link or not self.tracking_url_pattern:
            return link
        ref = (picking.carrier_tracking_ref or "").strip()
        return self.tracking_url_pattern.replace("{ref}", quote(ref)) if ref else False
