import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";

// An Order Reviewer finds an order waiting for them, reads its checks and
// approves it.
registry.category("web_tour.tours").add("order_management_reviewer_tour", {
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
            content: _t("Orders are reviewed in Sales."),
            tooltipPosition: "right",
            run: "click",
        },
        {
            trigger: ".dropdown-toggle[data-menu-xmlid='sale.sale_order_menu']",
            content: _t("Open the Orders menu."),
            tooltipPosition: "bottom",
            run: "click",
        },
        {
            trigger: ".dropdown-item[data-menu-xmlid='order_management.sale_order_menu_to_review']",
            content: _t("Orders to Review lists every order waiting for a decision. Your to-dos show their deadlines."),
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
            trigger: ".o_notebook a.nav-link[name='order_review']",
            content: _t("The Review tab holds the results of the automatic checks and the earlier review rounds. A duplicate or similar order names its look-alike."),
            tooltipPosition: "bottom",
            run: "click",
        },
        {
            trigger: ".o_form_view button[name='action_approve']",
            content: _t("Approve the order when it is right; otherwise Reject it with a reason and an explanation, which go back to the clerk. You cannot decide on an order you entered or submitted."),
            tooltipPosition: "bottom",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_field_widget[name='review_state'] .text-bg-success",
            content: _t("Approved: the clerk can now confirm the order, exactly as you saw it. Any later change sends it back to review."),
            tooltipPosition: "bottom",
            run: "click",
        },
    ],
});
