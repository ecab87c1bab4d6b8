import base64
import binascii
import logging
from typing import NamedTuple

from psycopg2.errors import LockNotAvailable

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.fields import Command
from odoo.tools import SQL, float_is_zero, plaintext2html

from ..tools.order_files import RowError, order_batches, read_tpch

_logger = logging.getLogger(__name__)

# Orders created per ORM call: large enough to amortise, small enough to keep
# memory flat on big files.
BATCH_SIZE = 200

# Tables an import fills that the rows it writes refer to by foreign keys.
REFERENCED_TABLES = (
    "sale_order",
    "sale_order_line",
    "mail_followers",
    "res_partner",
    "product_product",
    "product_template",
)

# How long refreshing the statistics waits for another transaction's analysis.
ANALYZE_LOCK_WAIT = "2s"

# Errors listed in full in one message; the rest are counted.
MAX_LISTED_ERRORS = 50

# Address fields compared to tell whether a delivery address is a new one.
ADDRESS_FIELDS = ("street", "city", "zip", "country_id")


class FileCheck(NamedTuple):
    """What checking an order file found, before anything is written."""

    orders: int
    errors: list
    # References of the orders that an error names, and all their rows.
    refused: frozenset
    refused_rows: frozenset
    # False when the file could not be read to its end: then no order of it
    # may be imported, as some may have rows past where reading stopped.
    readable: bool

    @property
    def valid_orders(self):
        return self.orders - len(self.refused) if self.readable else 0


class OrderImporter(models.AbstractModel):
    """Turn order files into draft orders, all of a file or nothing."""

    _name = "order.importer"
    _description = "Order Importer"

    # ---------------------------------------------------------- public API --

    @api.model
    @api.returns("sale.order")
    def import_file(self, filename, content):
        """Import a CSV or XLSX file with one row per order line.

        The layout is described in ``readme/USAGE.md``.

        :param str filename: its name; the extension tells the format
        :param content: the file itself, as bytes (or base64 text over RPC)
        :return: the created ``sale.order`` records, draft quotations
        :raise UserError: naming every wrong row; then nothing is written
        """
        if isinstance(content, str):
            try:
                content = base64.b64decode(content, validate=True)
            except binascii.Error:
                raise UserError(
                    self.env._("Send the file's content encoded in base64.")
                ) from None
        check = self._check_file(filename, content)
        self._raise_errors(check.errors, filename)
        if not check.orders:
            raise UserError(self.env._("%(origin)s holds no order.", origin=filename))
        return self._import_batches(self._file_batches(filename, content), filename)

    @api.model
    @api.returns("sale.order")
    def import_tpch(self, directory, limit=None, rebase_to=None):
        """Import the TPC-H orders of a ``tpchgen-cli`` output directory.

        :param str directory: holds the orders, lineitem, customer, part and
            nation tables as ``.tbl`` files
        :param int limit: import only the first orders, by key
        :param date rebase_to: move the dates so that the newest order is on
            this day and the others in the weeks before it; each delivery
            date moves with its order date
        :return: the created ``sale.order`` records, draft quotations
        :raise UserError: naming every wrong row; then nothing is written
        """
        self._check_server_files_access()
        orders, errors = read_tpch(directory, limit=limit, rebase_to=rebase_to)
        return self._import_orders(orders, errors, directory)

    @api.model
    def import_tpch_master_data(self, directory, limit=None):
        """Create the customers and products that TPC-H orders need, no order.

        Lets a product manager prepare master data that clerks, who may not
        create products, then import orders against.

        :return: (customers, products) needed by the orders, found or created
        """
        self._check_server_files_access()
        orders, errors = read_tpch(directory, limit=limit)
        self._raise_errors(errors, directory)
        countries, partners, products, _types = self._resolve_master_data(
            orders, directory
        )

        with self.env.cr.savepoint():
            self._create_partners(orders, partners, countries)
            self._create_products(orders, products)

        Partner, Product = self.env["res.partner"], self.env["product.product"]
        return Partner.union(*partners.values()), Product.union(*products.values())

    # ------------------------------------------------------------- helpers --

    def _check_server_files_access(self):
        # TPC-H tables are read from the server's disk: for scripts run by the
        # administrator, not for any user who can reach the RPC interface.
        if not self.env.su and not self.env.user.has_group("base.group_system"):
            raise AccessError(
                self.env._("Only an administrator may import files from the server.")
            )

    def _import_orders(self, parsed, errors, source):
        """Create the orders read from ``source``, or raise naming every error."""
        self._raise_errors(errors, source)
        if not parsed:
            raise UserError(self.env._("%(origin)s holds no order.", origin=source))
        self._resolve_master_data(parsed, source)
        batches = (
            parsed[start : start + BATCH_SIZE]
            for start in range(0, len(parsed), BATCH_SIZE)
        )
        return self._import_batches(batches, source)

    def _check_file(self, filename, content, encoding=None):
        """Check every row of an order file and what it refers to; write nothing.

        The file is read a batch of orders at a time (see ``order_batches``),
        its customers, products and countries looked up a batch at a time.

        :return: a :class:`FileCheck`
        """
        errors, wrong_rows, refused, refused_rows = [], set(), set(), set()
        orders = checked = 0
        for batch in self._file_batches(filename, content, encoding, errors=errors):
            orders += len(batch)
            errors += self._find_master_data(batch)[-1]

            # An order's rows are all read, and their errors found, before
            # the order comes in a batch.
            wrong_rows.update(error.row for error in errors[checked:])
            checked = len(errors)
            for order in batch:
                rows = _rows_of(order)
                if rows & wrong_rows:
                    refused.add(order["ref"])
                    refused_rows.update(rows)

        errors.sort(key=lambda error: (error.filename, error.row))
        refused_rows.update(error.row for error in errors if error.row > 1)
        readable = not any(error.field == "(file)" for error in errors)
        return FileCheck(
            orders, errors, frozenset(refused), frozenset(refused_rows), readable
        )

    def _file_batches(self, filename, content, encoding=None, skip=(), errors=None):
        """The orders of a file, ``BATCH_SIZE`` at a time (``order_batches``).

        :param list errors: gets the file's wrong values; None when they are
            known already, from :meth:`_check_file`
        """
        errors = [] if errors is None else errors
        return order_batches(
            filename, content, BATCH_SIZE, errors, encoding=encoding, skip=skip
        )

    def _import_batches(self, batches, source, progress=None, progress_every=None):
        """Create the orders of ``batches`` (lists of orders read without error).

        For each batch:

        1. look up customers, products and countries, one search per kind, and
           refuse what cannot be resolved;
        2. create the missing customers, products and delivery addresses, one
           ``create`` per kind, then the batch's orders.

        All in one savepoint: a failure in any batch leaves nothing behind.

        :param progress: called with the number of orders created so far,
            about every ``progress_every`` orders (each batch by default)
        :raise UserError: naming what cannot be resolved; then nothing stays
        """
        order_ids, lines = [], 0
        new_partners = new_addresses = new_products = reported = 0
        planned_for = orders_before = self._orders_in_statistics()
        with self.env.cr.savepoint():
            for batch in batches:
                countries, partners, products, special_types = (
                    self._resolve_master_data(batch, source)
                )
                new_partners += len(self._create_partners(batch, partners, countries))
                new_products += len(self._create_products(batch, products))
                addresses, created = self._match_delivery_addresses(
                    batch, partners, countries
                )
                new_addresses += len(created)

                vals_list = [
                    self._prepare_order_vals(order, partners, products, addresses)
                    for order in batch
                ]
                for vals, order in zip(vals_list, batch, strict=True):
                    if order.get("special_type"):
                        vals["special_type_id"] = special_types[order["special_type"]]
                        vals["special_note"] = order["special_note"]
                order_ids += self.env["sale.order"].create(vals_list).ids
                lines += sum(len(order["lines"]) for order in batch)
                self._release_batch()

                # Twice the orders the foreign key checks were planned for.
                orders_now = orders_before + len(order_ids)
                if orders_now >= 2 * planned_for + BATCH_SIZE:
                    self._refresh_statistics()
                    planned_for = orders_now

                if progress and len(order_ids) - reported >= (progress_every or 1):
                    reported = len(order_ids)
                    progress(reported)

        _logger.info(
            "imported %s orders with %s lines from %s; created %s customers, "
            "%s delivery addresses and %s products",
            len(order_ids),
            lines,
            source,
            new_partners,
            new_addresses,
            new_products,
        )
        return self.env["sale.order"].browse(order_ids)

    def _release_batch(self):
        """Write a batch's orders and forget them, so memory stays flat.

        The ORM keeps every record it created in its cache until the end of
        the transaction, several kilobytes per line: on a large file that, not
        the file, is what fills the memory. The orders are in the database,
        and still in the savepoint, once flushed.
        """
        self.env.flush_all()
        self.env.invalidate_all()

    def _orders_in_statistics(self):
        """How many orders PostgreSQL's statistics say ``sale_order`` holds."""
        self.env.cr.execute(
            "SELECT reltuples FROM pg_class WHERE oid = 'sale_order'::regclass"
        )
        return max(self.env.cr.fetchone()[0], 0)

    def _refresh_statistics(self):
        """Have PostgreSQL count the rows the import added, for its plans.

        PostgreSQL plans the check of a foreign key once per connection, from
        the statistics of the table referred to, and keeps the plan until they
        change. Planned while ``sale_order`` was nearly empty, as in a new
        database, each line or check result written scans every order: the
        import slows down as it grows. ``ANALYZE`` counts the rows this
        transaction added too, and makes the checks be planned again, with an
        index. Called each time an import has doubled the orders, it costs a
        few analyses on a new database and none on a large one.

        An analysis holds its tables against other analyses until the end of
        the transaction: while another import holds them, this one goes on
        without, rather than wait for it.
        """
        cr = self.env.cr
        _logger.debug("order import: analysing %s", ", ".join(REFERENCED_TABLES))
        cr.execute("SELECT current_setting('lock_timeout')")
        lock_timeout = cr.fetchone()[0]
        try:
            # Rolled back on failure, and the lock wait with it.
            with cr.savepoint(flush=False):
                cr.execute(
                    "SELECT set_config('lock_timeout', %s, true)",
                    [ANALYZE_LOCK_WAIT],
                )
                cr.execute(
                    SQL(
                        "ANALYZE %s",
                        SQL(", ").join(
                            SQL.identifier(name) for name in REFERENCED_TABLES
                        ),
                    ),
                    log_exceptions=False,
                )
                cr.execute(
                    "SELECT set_config('lock_timeout', %s, true)", [lock_timeout]
                )
        except LockNotAvailable:
            _logger.info(
                "order import: statistics not refreshed, another transaction "
                "is analysing the same tables"
            )

    def _raise_errors(self, errors, source):
        """Raise a UserError listing ``errors`` as "file, row N, field: reason"."""
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

    def _resolve_master_data(self, parsed, source):
        """Find what exists; refuse what is unknown and cannot be created.

        :return: ({country code: id}, {customer ref: partner},
            {product code: product}, {special type code: id}) for what exists
        :raise UserError: for unknown countries or special order types, or
            products the user may not or cannot create
        """
        *found, errors = self._find_master_data(parsed)
        self._raise_errors(errors, source)
        return found

    def _find_master_data(self, parsed):
        """Like ``_resolve_master_data``, with the errors returned last."""
        errors = []
        countries = self._get_countries(parsed, errors)
        special_types = self._get_special_types(parsed, errors)
        partners = self._find_partners(parsed)
        products = self._find_products(parsed)
        self._check_new_products(parsed, products, errors)
        self._check_quantities(parsed, errors)
        errors.sort(key=lambda error: (error.filename, error.row))
        return countries, partners, products, special_types, errors

    def _get_special_types(self, parsed, errors):
        """Return {code: type id}; add an error per order naming an unknown code."""
        wanted = {order["special_type"] for order in parsed if order["special_type"]}
        if not wanted:
            return {}
        found = self.env["order.special.type"].search([("code", "in", list(wanted))])
        special_types = {special.code: special.id for special in found}
        known = ", ".join(self.env["order.special.type"].search([]).mapped("code"))
        for order in parsed:
            code = order["special_type"]
            if code and code not in special_types:
                filename, row = order["source"]
                reason = self.env._(
                    "unknown special order type %(code)s (known: %(known)s)",
                    code=code,
                    known=known,
                )
                errors.append(RowError(filename, row, "special_type", reason))
        return special_types

    def _get_countries(self, parsed, errors):
        """Return {country code: id}; add an error per order naming an unknown code."""
        wanted = {}
        for order in parsed:
            for address in (order["customer"], order["delivery"] or {}):
                code = address.get("country_code")
                if code:
                    wanted.setdefault(code, {}).setdefault(order["ref"], order)
        if not wanted:
            return {}

        found = self.env["res.country"].search([("code", "in", list(wanted))])
        countries = {country.code: country.id for country in found}
        for code, orders in wanted.items():
            if code in countries:
                continue
            reason = self.env._("unknown country code %(code)s", code=code)
            for order in orders.values():
                filename, row = order["source"]
                errors.append(RowError(filename, row, "delivery_country", reason))
        return countries

    def _find_partners(self, parsed):
        """Return {customer ref: partner} for the customers already in Odoo."""
        refs = {order["customer"]["ref"] for order in parsed}
        found = self.env["res.partner"].search(
            [("ref", "in", list(refs)), ("parent_id", "=", False)], order="id"
        )
        partners = {}
        for partner in found:
            partners.setdefault(partner.ref, partner)
        return partners

    def _find_products(self, parsed):
        """Return {product code: product} for the products already in Odoo."""
        codes = {line["product"]["code"] for order in parsed for line in order["lines"]}
        found = (
            self.env["product.product"]
            .with_context(active_test=False)
            .search([("default_code", "in", list(codes))], order="active desc, id")
        )
        products = {}
        for product in found:
            products.setdefault(product.default_code, product)
        return products

    def _check_new_products(self, parsed, products, errors):
        """Add an error for each line of an unknown product not to create here.

        Every such line is named, so that importing only the valid orders
        leaves out all the orders of that product.
        """
        may_create = self.env["product.product"].has_access("create")
        for order in parsed:
            for line in order["lines"]:
                code = line["product"]["code"]
                # No code at all is a wrong row the reader already named.
                if not code or code in products:
                    continue
                if not may_create:
                    reason = self.env._(
                        "%(code)s: unknown product code; ask a product manager "
                        "to create it",
                        code=code,
                    )
                elif not line["product"]["name"]:
                    reason = self.env._(
                        "%(code)s: unknown product code and no product_name to "
                        "create it",
                        code=code,
                    )
                else:
                    continue
                filename, row = line["source"]
                errors.append(RowError(filename, row, "product_code", reason))

    def _check_quantities(self, parsed, errors):
        """Add an error for each quantity that Odoo would round to zero."""
        digits = self.env["decimal.precision"].precision_get("Product Unit of Measure")
        for order in parsed:
            for line in order["lines"]:
                quantity = line["quantity"]
                if quantity and float_is_zero(quantity, precision_digits=digits):
                    filename, row = line["source"]
                    reason = self.env._(
                        "%(quantity)s is zero once rounded to %(digits)s decimals",
                        quantity=quantity,
                        digits=digits,
                    )
                    errors.append(RowError(filename, row, "quantity", reason))

    def _create_partners(self, parsed, partners, countries):
        """Create the customers missing from ``partners`` and add them to it."""
        missing = {}
        for order in parsed:
            customer = order["customer"]
            if customer["ref"] not in partners:
                missing.setdefault(customer["ref"], customer)

        created = self.env["res.partner"].create(
            [
                self._prepare_partner_vals(customer, countries)
                for customer in missing.values()
            ]
        )
        partners.update(zip(missing, created, strict=True))
        return created

    def _prepare_partner_vals(self, customer, countries):
        return {
            "name": customer["name"],
            "ref": customer["ref"],
            "phone": customer["phone"] or False,
            "is_company": True,
            "customer_rank": 1,
            **self._prepare_address_vals(customer, countries),
        }

    def _create_products(self, parsed, products):
        """Create the products missing from ``products`` and add them to it."""
        missing = {}
        for order in parsed:
            for line in order["lines"]:
                if line["product"]["code"] not in products:
                    missing.setdefault(line["product"]["code"], line)

        created = self.env["product.product"].create(
            [
                {
                    "name": line["product"]["name"],
                    "default_code": code,
                    "type": "consu",
                    "list_price": line["product"]["list_price"] or line["price_unit"],
                }
                for code, line in missing.items()
            ]
        )
        products.update(zip(missing, created, strict=True))
        return created

    def _prepare_address_vals(self, address, countries):
        return {
            "street": address["street"] or False,
            "city": address["city"] or False,
            "zip": address["zip"] or False,
            "country_id": countries.get(address["country_code"], False),
        }

    def _address_key(self, values):
        """Return address values as a tuple, to compare addresses."""
        return tuple(values[name] for name in ADDRESS_FIELDS)

    def _partner_address_key(self, partner):
        """Return the address of ``partner`` as :meth:`_address_key` does."""
        return (partner.street, partner.city, partner.zip, partner.country_id.id)

    def _match_delivery_addresses(self, parsed, partners, countries):
        """Give each order delivered elsewhere than its customer a delivery contact.

        A delivery contact of the customer at the same address is reused, else
        one is created, all in one ``create``.

        :return: ({order ref: delivery contact}, created contacts)
        """
        wanted = {}
        for order in parsed:
            delivery = order["delivery"]
            if not delivery or not (delivery["street"] or delivery["city"]):
                continue
            partner = partners[order["customer"]["ref"]]
            values = self._prepare_address_vals(delivery, countries)
            key = self._address_key(values)
            if key != self._partner_address_key(partner):
                wanted[order["ref"]] = (partner, key, values)
        if not wanted:
            return {}, self.env["res.partner"]

        parent_ids = {partner.id for partner, _key, _values in wanted.values()}
        children = self.env["res.partner"].search(
            [("parent_id", "in", list(parent_ids)), ("type", "=", "delivery")],
            order="id",
        )
        contacts = {}
        for child in children:
            key = (child.parent_id.id, self._partner_address_key(child))
            contacts.setdefault(key, child)

        missing = {}
        for partner, key, values in wanted.values():
            if (partner.id, key) not in contacts:
                missing.setdefault((partner.id, key), (partner, values))
        created = self.env["res.partner"].create(
            [
                dict(values, parent_id=partner.id, type="delivery", name=partner.name)
                for partner, values in missing.values()
            ]
        )
        contacts.update(zip(missing, created, strict=True))

        addresses = {
            ref: contacts[partner.id, key] for ref, (partner, key, _v) in wanted.items()
        }
        return addresses, created

    def _prepare_order_vals(self, order, partners, products, addresses):
        """Return the ``sale.order`` values of one parsed order."""
        vals = {
            "partner_id": partners[order["customer"]["ref"]].id,
            "client_order_ref": order["ref"],
            "commitment_date": order["delivery_date"]
            and fields.Datetime.to_datetime(order["delivery_date"]),
            "note": order["note"] and plaintext2html(order["note"]) or False,
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
        if order["ref"] in addresses:
            vals["partner_shipping_id"] = addresses[order["ref"]].id
        return vals


def _rows_of(order):
    """The row numbers of a parsed order: its first row and its lines'."""
    return {order["source"][1]} | {line["source"][1] for line in order["lines"]}
