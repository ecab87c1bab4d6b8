import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";

// Finance invoices a signed order, posts the invoice and records the payment.
registry.category("web_tour.tours").add("order_management_finance_tour", {
    url: "/odoo",
    steps: () => [
        {
            trigger: ".o_navbar_apps_menu button:enabled",
            content: _t("Your work starts in the apps menu."),
            tooltipPosition: "bottom",
            run: "click",
        },
        {
            trigger: ".o_app[data-menu-xmlid='account.menu_finance']",
            content: _t("Orders are invoiced and paid in Invoicing."),
            tooltipPosition: "right",
            run: "click",
        },
        {
            trigger: ".dropdown-toggle[data-menu-xmlid='account.menu_finance_receivables']",
            content: _t("Open the Customers menu."),
            tooltipPosition: "bottom",
            run: "click",
        },
        {
            trigger: ".dropdown-item[data-menu-xmlid='order_management.sale_order_menu_to_invoice']",
            content: _t("Orders to Invoice lists the orders with delivered goods not invoiced yet. A signed order also gives you an Invoice Signed Order to-do."),
            tooltipPosition: "right",
            run: "click",
        },
        {
            isActive: ["manual"],
            trigger: ".o_list_renderer .o_data_row .o_data_cell[name='name']",
            content: _t("Open an order."),
            tooltipPosition: "bottom",
            run: "click",
        },
        {
            isActive: ["auto"],
            trigger: ".o_data_row:contains('Tour Harbour Trading') .o_data_cell[name='name']",
            run: "click",
        },
        {
            trigger: ".o_form_view button#create_invoice",
            content: _t("Create the invoice from the order: it takes what was delivered."),
            tooltipPosition: "bottom",
            run: "click",
        },
        {
            trigger: ".modal button#create_invoice_open",
            content: _t("Create the draft invoice."),
            tooltipPosition: "bottom",
            run: "click",
        },
        {
            trigger: ".o_form_view button[name='action_post']",
            content: _t("Check the draft, then confirm it: the invoice is posted and the order counts as invoiced."),
            tooltipPosition: "bottom",
            run: "click",
        },
        {
            trigger: ".o_form_view button[name='action_register_payment']",
            content: _t("When the customer pays, register the payment."),
            tooltipPosition: "bottom",
            run: "click",
        },
        {
            trigger: ".modal button[name='action_create_payments']",
            content: _t("Check the journal, the amount and the date, then create the payment."),
            tooltipPosition: "bottom",
            run: "click",
        },
        {
            trigger: ".o_form_view .ribbon > span",
            content: _t("Paid. An order that is signed for and fully paid is completed and locked by itself."),
            tooltipPosition: "left",
            run: "click",
        },
    ],
});
