import { _t } from "@web/core/l10n/translation";
import { formatDateTime } from "@web/core/l10n/dates";
import { registry } from "@web/core/registry";

const { DateTime } = luxon;

// An Order Entry Clerk enters their first order; saving it sends it to review.
// Steps marked "auto" only replay what a person does by hand in a test run.
registry.category("web_tour.tours").add("order_management_clerk_tour", {
    url: "/odoo",
    steps: () => [
        {
            trigger: ".o_navbar_apps_menu button:enabled",
            content: _t("Your work starts in the apps menu."),
            tooltipPosition: "bottom",
            run: "click",
        },
        {
            trigger: ".o_app[data-menu-xmlid='sale.sale_menu_root']",
            content: _t("Orders are entered in Sales."),
            tooltipPosition: "right",
            run: "click",
        },
        {
            trigger: ".dropdown-toggle[data-menu-xmlid='sale.sale_order_menu']",
            content: _t("Sales opens on Orders to Correct: orders held by the checks or rejected, sent back to you with why. New orders start from the Orders menu."),
            tooltipPosition: "bottom",
            run: "click",
        },
        {
            trigger: ".dropdown-item[data-menu-xmlid='sale.menu_sale_quotations']",
            content: _t("Quotations lists your orders not confirmed yet."),
            tooltipPosition: "right",
            run: "click",
        },
        {
            trigger: ".o_list_button_add",
            content: _t("Enter a new order: it starts as a quotation."),
            tooltipPosition: "bottom",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name='partner_id'] input",
            content: _t(
                "Type the customer's name and pick them from the list. The order goes to their delivery address."
            ),
            tooltipPosition: "right",
            run: "edit Tour Harbour Trading",
        },
        {
            isActive: ["auto"],
            trigger: ".o-autocomplete--dropdown-item > a:contains('Tour Harbour Trading')",
            run: "click",
        },
        {
            trigger: ".o_field_x2many_list_row_add > a",
            content: _t("Add a line for each product the customer orders."),
            tooltipPosition: "bottom",
            run: "click",
        },
        {
            trigger: `
                .o_field_widget[name='product_id'] input,
                .o_field_widget[name='product_template_id'] input
            `,
            content: _t("Pick the product."),
            tooltipPosition: "right",
            run: "edit Tour Steel Bracket",
        },
        {
            isActive: ["auto"],
            trigger: ".o-autocomplete--dropdown-item > a:contains('Tour Steel Bracket')",
            run: "click",
        },
        {
            // The product is on the line once the price list has priced it.
            isActive: ["auto"],
            trigger: ".o_data_row .o_field_widget[name='price_unit'] input:value(12.50)",
        },
        {
            trigger: ".o_field_widget[name='product_uom_qty'] input",
            content: _t("Set the quantity. The price comes from the price list."),
            tooltipPosition: "bottom",
            run: "edit 5",
        },
        {
            isActive: ["auto"],
            trigger: ".o_field_widget[name='product_uom_qty'] input",
            run: "press Tab",
        },
        {
            // Wait for the new quantity to be priced before leaving the lines.
            isActive: ["auto"],
            trigger: ".o_data_row [name='price_subtotal']:contains('62.50')",
        },
        {
            trigger: ".o_notebook a.nav-link[name='other_information']",
            content: _t("The delivery date promised to the customer is under Other Info."),
            tooltipPosition: "bottom",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name='commitment_date'] input",
            content: _t(
                "Set the delivery date: the checks hold an order without one, or with a date already past."
            ),
            tooltipPosition: "right",
            run: `edit ${formatDateTime(DateTime.now().plus({ days: 14 }))}`,
        },
        {
            trigger: ".o_notebook a.nav-link[name='order_review']",
            content: _t(
                "The Review tab shows what the automatic checks will say, while you type."
            ),
            tooltipPosition: "bottom",
            run: "click",
        },
        {
            trigger: ".o_form_button_save",
            content: _t(
                "Save. An order saved with lines goes to review by itself: no other button to press."
            ),
            tooltipPosition: "bottom",
            run: "click",
        },
        {
            trigger: ".o_form_saved .o_field_widget[name='review_state'] .text-bg-info",
            content: _t(
                "The order waits for review and a reviewer has a to-do for it. Once approved, Confirm appears; if it is rejected or held, it comes back to you in Orders to Correct, with why."
            ),
            tooltipPosition: "bottom",
            run: "click",
        },
    ],
});
