import { registry } from "@web/core/registry";

// A customer follows their order in the portal and reports a problem.
registry.category("web_tour.tours").add("order_management_portal_incident_tour", {
    steps: () => [
        {
            content: "The order shows where it is, with the tracking number",
            trigger: "#order_timeline .o_order_tracking_link:contains('SF123456789012')",
        },
        {
            content: "Say what happened",
            trigger: ".o_order_incident_form select[name='incident_type']",
            run: "select damage",
        },
        {
            content: "Describe it",
            trigger: ".o_order_incident_form textarea[name='description']",
            run: "edit Two boxes arrived crushed.",
        },
        {
            content: "Send the report",
            trigger: ".o_order_incident_form button[type='submit']",
            run: "click",
            expectUnloadPage: true,
        },
        {
            content: "The problem is listed on the order",
            trigger: ".o_order_incident:contains('Two boxes arrived crushed.')",
        },
    ],
});
