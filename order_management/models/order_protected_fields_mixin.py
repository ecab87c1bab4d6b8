from odoo import api, models
from odoo.exceptions import AccessError


class OrderProtectedFieldsMixin(models.AbstractModel):
    """Fields that only the addon's own steps write, never a form or RPC.

    A model lists them in ``_order_protected_fields``, says in
    ``_order_protected_fields_error`` which steps write them, and calls
    ``_check_protected_fields`` from ``create`` and ``write`` and
    ``_without_protected_defaults`` before creating. The steps write them as
    superuser.
    """

    _name = "order.protected.fields.mixin"
    _description = "Fields Written Only by the Order Steps"

    # The protected fields, set by each model.
    _order_protected_fields = frozenset()

    def _order_protected_fields_error(self, names):
        """The message refusing to write the fields ``names`` (text)."""
        return self.env._(
            "The fields %(fields)s are set by the application, not typed in.",
            fields=names,
        )

    def _check_protected_fields(self, vals):
        """Refuse ``vals`` naming a protected field, outside superuser mode."""
        protected = self._order_protected_fields.intersection(vals)
        if protected and not self.env.su:
            raise AccessError(
                self._order_protected_fields_error(", ".join(sorted(protected)))
            )

    @api.model
    def _without_protected_defaults(self, also=()):
        """Drop ``default_<field>`` keys that would set a protected field.

        :param also: other fields whose defaults are dropped as well
        """
        if self.env.su:
            return self
        guarded = self._order_protected_fields.union(also)
        context = {
            key: value
            for key, value in self.env.context.items()
            if not (key.startswith("default_") and key[8:] in guarded)
        }
        if len(context) == len(self.env.context):
            return self

        # A whole new context, as merging keys can only add them, never drop them.
        return self.with_context(context)  # pylint: disable=context-overridden
