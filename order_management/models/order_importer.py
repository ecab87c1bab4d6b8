import logging

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Command

from ..tools.order_files import RowError, read_order_file, read_tpch

_logger = logging.getLogger(__name__)

# Orders created per ORM call: large enough to amortise, small enough to keep
# memory flat on big files.
BATCH_SIZE = 200

# Errors listed in full in one message; the rest are counted.
MAX_LISTED_ERRORS = 50


class OrderImporter(models.AbstractModel):
    """Turn order files into draft orders, all of a file or nothing."""

    _name = "order.importer"
    _description = "Order Importer"

    # ---------------------------------------------------------- public API --

    @api.model
    def import_file(self, filename, content):
        """Import a CSV or XLSX file with one row per order line.

        :param str filename: its name; the extension tells the format
        :param bytes content: the file itself
        :return: the created ``sale.order`` records
        :raise UserError: naming every wrong row; then nothing is written
        """
        orders, errors = read_order_file(filename, content)
        return self._import_orders(orders, errors, filename)

    @api.model
    def import_tpch(self, directory, limit=None, rebase_to=None):
        """Import the TPC-H orders of a ``tpchgen-cli`` output directory.

        :param str directory: holds the orders, lineitem, customer, part and
            nation tables as ``.tbl`` files
        :param int limit: import only the first orders, by key
        :param date rebase_to: move every date so the newest order is on it
        :return: the created ``sale.order`` records
        """
        orders, errors = read_tpch(directory, limit=limit, rebase_to=rebase_to)
        return self._import_orders(orders, errors, directory)

    @api.model
    def import_tpch_master_data(self, directory, limit=None):
        """Create the customers and products that TPC-H orders need, no order.

        Lets a product manager prepare master data that clerks, who may not
        create products, then import orders against.
        """
        orders, errors = read_tpch(directory, limit=limit)
        self._raise_errors(errors, directory)
        with self.env.cr.savepoint():
            partners = self._match_partners(orders)
            products = self._match_products(orders, directory)
        return partners, products

    # ------------------------------------------------------------- helpers --

    def _import_orders(self, parsed, errors, source):
        self._raise_errors(errors, source)
        if not parsed:
            raise UserError(self.env._("%(origin)s holds no order.", origin=source))

        # One savepoint for the whole file: a failure leaves nothing behind.
        with self.env.cr.savepoint():
            partners = self._match_partners(parsed)
            products = self._match_products(parsed, source)
            vals_list = [
                self._prepare_order_vals(order, partners, products) for order in parsed
            ]
            orders = self.env["sale.order"]
            for start in range(0, len(vals_list), BATCH_SIZE):
                orders |= orders.create(vals_list[start : start + BATCH_SIZE])

        _logger.info(
            "imported %s orders with %s lines from %s",
            len(orders),
            sum(len(order["lines"]) for order in parsed),
            source,
        )
        return orders

    def _raise_errors(self, errors, source):
        if not errors:
            return
        listed = [
            self.env._(
                "%(file)s, row %(row)s, %(field)s: %(reason)s",
                file=error.filename,
                row=error.row,
                field=error.field,
                reason=error.reason,
            )
            for error in errors[:MAX_LISTED_ERRORS]
        ]
        if len(errors) > MAX_LISTED_ERRORS:
            listed.append(
                self.env._(
                    "... and %(count)s more.", count=len(errors) - MAX_LISTED_ERRORS
                )
            )
        raise UserError(
            self.env._(
                "Nothing was imported from %(origin)s: %(count)s wrong value(s).",
                origin=source,
                count=len(errors),
            )
            + "\n"
            + "\n".join(listed)
        )

    def _match_partners(self, parsed):
        """Return {customer ref: partner}, creating the missing customers."""
        Partner = self.env["res.partner"]
        wanted = {order["customer"]["ref"]: order["customer"] for order in parsed}
        found = Partner.search([("ref", "in", list(wanted)), ("parent_id", "=", False)])
        partners = {partner.ref: partner for partner in found}

        countries = self._countries(
            {customer["country_code"] for customer in wanted.values()}
        )
        missing = [ref for ref in wanted if ref not in partners]
        created = Partner.create(
            [
                {
                    "name": wanted[ref]["name"],
                    "ref": ref,
                    "street": wanted[ref]["street"] or False,
                    "city": wanted[ref]["city"] or False,
                    "zip": wanted[ref]["zip"] or False,
                    "phone": wanted[ref]["phone"] or False,
                    "country_id": countries.get(wanted[ref]["country_code"], False),
                    "is_company": True,
                    "customer_rank": 1,
                }
                for ref in missing
            ]
        )
        partners.update({partner.ref: partner for partner in created})
        return partners

    def _match_products(self, parsed, source):
        """Return {product code: product}, creating the missing products."""
        Product = self.env["product.product"]
        wanted = {}
        for order in parsed:
            for line in order["lines"]:
                wanted.setdefault(line["product"]["code"], (line, order))
        found = Product.with_context(active_test=False).search(
            [("default_code", "in", list(wanted))]
        )
        products = {product.default_code: product for product in found}

        missing = [code for code in wanted if code not in products]
        errors = []
        may_create = Product.has_access("create")
        for code in missing:
            line, order = wanted[code]
            if not may_create or not line["product"]["name"]:
                reason = (
                    "unknown product code; ask a product manager to create it"
                    if not may_create
                    else "unknown product code and no product_name to create it"
                )
                errors.append(
                    RowError(
                        source, line.get("row", 0), "product_code", f"{code}: {reason}"
                    )
                )
        self._raise_errors(errors, source)

        created = Product.create(
            [
                {
                    "name": wanted[code][0]["product"]["name"],
                    "default_code": code,
                    "type": "consu",
                    "list_price": wanted[code][0]["product"]["list_price"]
                    or wanted[code][0]["price_unit"],
                }
                for code in missing
            ]
        )
        products.update({product.default_code: product for product in created})
        return products

    def _countries(self, codes):
        codes = [code for code in codes if code]
        if not codes:
            return {}
        countries = self.env["res.country"].search([("code", "in", codes)])
        return {country.code: country.id for country in countries}

    def _prepare_order_vals(self, order, partners, products):
        partner = partners[order["customer"]["ref"]]
        vals = {
            "partner_id": partner.id,
            "client_order_ref": order["ref"],
            "commitment_date": order["delivery_date"]
            and fields.Datetime.to_datetime(order["delivery_date"]),
            "note": order["note"] or False,
            "order_line": [
                Command.create(
                    {
                        "product_id": products[line["product"]["code"]].id,
                        "product_uom_qty": line["quantity"],
                        "price_unit": line["price_unit"],
                        "discount": line["discount"],
                    }
                )
                for line in order["lines"]
            ],
        }
        if order["date_order"]:
            vals["date_order"] = fields.Datetime.to_datetime(order["date_order"])
        delivery = order.get("delivery")
        if delivery and (delivery["street"] or delivery["city"]):
            vals["partner_shipping_id"] = self._delivery_address(partner, delivery).id
        return vals

    def _delivery_address(self, partner, delivery):
        """Return the partner's delivery contact at this address, made once."""
        countries = self._countries({delivery["country_code"]})
        values = {
            "street": delivery["street"] or False,
            "city": delivery["city"] or False,
            "zip": delivery["zip"] or False,
            "country_id": countries.get(delivery["country_code"], False),
        }

        def same_address(contact):
            return all(
                (contact[key].id if key == "country_id" else contact[key]) == value
                for key, value in values.items()
            )

        if same_address(partner):
            return partner
        for child in partner.child_ids:
            if child.type == "delivery" and same_address(child):
                return child
        return self.env["res.partner"].create(
            dict(values, parent_id=partner.id, type="delivery", name=partner.name)
        )
