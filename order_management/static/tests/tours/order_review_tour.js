import { registry } from "@web/core/registry";

// A reviewer approves the order that is open, from its form.
registry.category("web_tour.tours").add("order_management_approve_tour", {
    steps: () => [
        {
            content: "The order says it waits for review",
            trigger: ".alert-info:contains('waiting for review')",
        },
        {
            content: "Approve it",
            trigger: ".o_form_view button[name='action_approve']",
            run: "click",
        },
        {
            content: "The order is approved",
            trigger: ".o_field_widget[name='review_state'] :contains('Approved')",
        },
    ],
});

// A reviewer rejects the order that is open, with a reason.
registry.category("web_tour.tours").add("order_management_reject_tour", {
    steps: () => [
        {
            content: "Reject it",
            trigger: ".o_form_view button[name='action_open_reject_wizard']",
            run: "click",
        },
        {
            content: "Choose the kind of reason",
            trigger: ".modal .o_field_widget[name='reason_id'] input",
            run: "edit Wrong price",
        },
        {
            content: "Pick it from the list",
            trigger: ".ui-menu-item > a:contains('Wrong price or discount')",
            run: "click",
        },
        {
            content: "Say why",
            trigger: ".modal .o_field_widget[name='reason'] textarea",
            run: "edit The unit price is below the agreed price list.",
        },
        {
            content: "Confirm the rejection",
            trigger: ".modal button[name='action_reject']",
            run: "click",
        },
        {
            content: "The order shows the reason",
            trigger: ".alert-danger:contains('below the agreed price list')",
        },
    ],
});
