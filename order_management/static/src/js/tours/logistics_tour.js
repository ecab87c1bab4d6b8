import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";

// Logistics ships a delivery with its carrier and tracking number, then
// confirms who signed for it.
registry.category("web_tour.tours").add("order_management_logistics_tour", {
    url: "/odoo",
    steps: () => [
        {
            trigger: ".o_navbar_apps_menu button:enabled",
            content: _t("Your work starts in the apps menu."),
            tooltipPosition: "bottom",
            run: "click",
        },
        {
            trigger: ".o_app[data-menu-xmlid='stock.menu_stock_root']",
            content: _t("Deliveries are shipped from Inventory."),
            tooltipPosition: "right",
            run: "click",
        },
        {
            trigger: ".dropdown-toggle[data-menu-xmlid='stock.menu_stock_warehouse_mgmt']",
            content: _t("Open the Operations menu."),
            tooltipPosition: "bottom",
            run: "click",
        },
        {
            trigger: ".dropdown-item[data-menu-xmlid='stock.out_picking']",
            content: _t("Deliveries lists what is to ship. A confirmed order also gives you a Prepare and Ship to-do."),
            tooltipPosition: "right",
            run: "click",
        },
        {
            trigger: ".o_searchview_input",
            content: _t("Find the delivery: type the order number, or the customer's name and choose to search the Contact."),
            tooltipPosition: "bottom",
            run: "edit Tour Harbour Trading",
        },
        {
            isActive: ["auto"],
            trigger: ".o_searchview_autocomplete .o_menu_item:contains('Contact')",
            run: "click",
        },
        {
            isActive: ["manual"],
            trigger: ".o_list_renderer .o_data_row .o_data_cell[name='name']",
            content: _t("Open the delivery."),
            tooltipPosition: "bottom",
            run: "click",
        },
        {
            isActive: ["auto"],
            trigger: ".o_data_row:contains('Tour Harbour Trading') .o_data_cell[name='name']",
            run: "click",
        },
        {
            trigger: ".o_notebook a.nav-link[name='extra']",
            content: _t("The shipping information is under Additional Info."),
            tooltipPosition: "bottom",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name='carrier_id'] input",
            content: _t("Choose the carrier. A customer delivery cannot be validated without one."),
            tooltipPosition: "right",
            run: "edit Tour Road Freight",
        },
        {
            isActive: ["auto"],
            trigger: ".o-autocomplete--dropdown-item > a:contains('Tour Road Freight')",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name='carrier_tracking_ref'] input",
            content: _t("Enter the tracking number the carrier gave you: the customer follows the parcel with it."),
            tooltipPosition: "right",
            run: "edit SF1234567890",
        },
        {
            trigger: ".o_form_view button[name='button_validate']",
            content: _t("Validate when the goods leave: the ship time is recorded and the order shows as shipped."),
            tooltipPosition: "bottom",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name='signed_by'] input",
            content: _t("When the customer has signed for it, enter who signed (attach the signed note if you have it). In Transit and Delivered follow the carrier's news meanwhile."),
            tooltipPosition: "right",
            run: "edit Li Na",
        },
        {
            trigger: ".o_form_view button[name='action_confirm_signature']",
            content: _t("Confirm the signature: Finance gets a to-do to invoice the order."),
            tooltipPosition: "bottom",
            run: "click",
        },
        {
            trigger: ".o_form_saved .o_field_widget[name='shipment_state'] .text-bg-success",
            content: _t("Signed: your part of the order is done. A problem on the way is recorded with Report Incident."),
            tooltipPosition: "bottom",
            run: "click",
        },
    ],
});
