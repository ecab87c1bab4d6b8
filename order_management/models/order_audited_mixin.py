from odoo import api, models


class OrderAuditedMixin(models.AbstractModel):
    """Settings of the addon whose every change goes to the audit trail.

    Rules and policies decide how orders are checked, reviewed and assigned:
    creating, changing or deleting one is recorded, with the values of the
    fields the model lists in ``_order_audited_fields``.
    """

    _name = "order.audited.mixin"
    _description = "Audited Order Settings"

    # The fields whose changes are recorded, set by each model.
    _order_audited_fields = ()

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        self.env["order.audit.event"]._log_created(records)
        return records

    def write(self, vals):
        with self.env["order.audit.event"]._changes_logged(self, vals):
            return super().write(vals)

    def unlink(self):
        with self.env["order.audit.event"]._deletion_logged(self):
            return super().unlink()
