import logging
from datetime import timedelta

from odoo import api, fields, models, tools
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

# Days an Order Manager has to review the access once reminded.
REVIEW_DAYS = 14


class OrderAccessReview(models.Model):
    """Who holds which order-management role: one row per active user and role.

    Read from the users' groups as they are now, with each user's last login
    from the audit events, for the periodic review of access rights.
    """

    _name = "order.access.review"
    _description = "Order Management Access Review"
    _auto = False
    _order = "login, group_id"
    _rec_name = "login"

    # ------------------------------------------------------------ fields --

    user_id = fields.Many2one("res.users", readonly=True)
    login = fields.Char(readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    group_id = fields.Many2one("res.groups", string="Role", readonly=True)
    implied = fields.Boolean(
        string="Through Another Role",
        readonly=True,
        help="The user holds the role because another role they hold includes "
        "it (the Order Manager holds every role).",
    )
    two_factor = fields.Boolean(string="Two-Factor Authentication", readonly=True)
    last_login = fields.Datetime(readonly=True, help="As recorded in the audit log.")

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        # The roles are the groups of the module's category; a user holds a
        # role through another when a group they hold implies it (users hold
        # every implied group, so one level is enough).
        self.env.cr.execute(
            SQL(
                """
                CREATE VIEW %(view)s AS (
                    SELECT row_number() OVER (ORDER BY users.id, role.id) AS id,
                           users.id AS user_id,
                           users.login,
                           users.company_id,
                           role.id AS group_id,
                           EXISTS (
                               SELECT 1
                                 FROM res_groups_implied_rel implied
                                 JOIN res_groups_users_rel other
                                   ON other.gid = implied.gid
                                  AND other.uid = users.id
                                WHERE implied.hid = role.id
                           ) AS implied,
                           users.totp_secret IS NOT NULL AS two_factor,
                           (
                               SELECT max(event.timestamp)
                                 FROM order_audit_event event
                                WHERE event.login = users.login
                                  AND event.event = 'login'
                                  AND event.user_id = users.id
                           ) AS last_login
                      FROM res_users users
                      JOIN res_groups_users_rel held ON held.uid = users.id
                      JOIN res_groups role ON role.id = held.gid
                      JOIN ir_model_data category
                        ON category.res_id = role.category_id
                       AND category.model = 'ir.module.category'
                       AND category.module = 'order_management'
                       AND category.name = 'module_category_order_management'
                     WHERE users.active
                )
                """,
                view=SQL.identifier(self._table),
            )
        )

    # ---------------------------------------------------------- business --

    @api.model
    def _cron_remind_review(self):
        """Ask each Order Manager to review who holds which role.

        One to-do per manager, on their company, unless they still have one.

        :return: the activities created
        """
        activity_type = self.env.ref(
            "order_management.mail_activity_type_access_review"
        )
        managers = self.env.ref("order_management.group_order_manager").users.filtered(
            lambda u: u.active and not u.share and not u._is_superuser()
        )
        reminded = (
            self.env["mail.activity"]
            .sudo()
            .search(
                [
                    ("activity_type_id", "=", activity_type.id),
                    ("user_id", "in", managers.ids),
                ]
            )
            .user_id
        )
        partner_model = self.env["ir.model"]._get_id("res.partner")
        deadline = fields.Date.context_today(self) + timedelta(days=REVIEW_DAYS)
        activities = (
            self.env["mail.activity"]
            .sudo()
            .create(
                [
                    {
                        "res_model_id": partner_model,
                        "res_id": manager.company_id.partner_id.id,
                        "activity_type_id": activity_type.id,
                        "summary": activity_type.summary,
                        "note": self.env._(
                            "Open Sales ▸ Reporting ▸ Access Review: does everyone "
                            "listed still need their role? Remove the roles no "
                            "longer needed, handing the work over first."
                        ),
                        "date_deadline": deadline,
                        "user_id": manager.id,
                    }
                    for manager in managers - reminded
                ]
            )
        )
        _logger.info("%s access review reminders", len(activities))
        return activities
