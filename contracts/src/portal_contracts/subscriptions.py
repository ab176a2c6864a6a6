"""Which service consumes which events: the one table the broker topology is declared from.

Each consuming service has one durable queue bound to these routing keys; a service's
``EVENT_HANDLERS`` must handle exactly its row (a test checks). Declaring every queue from here,
before anything is published, means events wait in their queues while a consumer is down.
"""

SUBSCRIPTIONS: dict[str, tuple[str, ...]] = {
    "cart-quote": (
        "catalog.price_list.published",
        "catalog.partner_discount.changed",
        "orders.order.placed",
    ),
    "orders": (
        "billing.invoice.issued",
        "billing.payment.captured",
        "billing.payment.failed",
        "billing.credit_note.issued",
        "licensing.licenses.issued",
    ),
    "billing": (
        "orders.order.placed",
        "orders.order.cancelled",
    ),
    "license-assign": (
        "orders.order.placed",
        "orders.order.cancelled",
        "billing.payment.failed",
        "billing.payment.captured",
    ),
    "notifications": (
        "catalog.price_list.published",
        "licensing.licenses.issued",
        "orders.order.placed",
        "orders.licenses.resend_requested",
        "orders.activation_email.requested",
        "quotes.quote.issued",
        "billing.invoice.issued",
        "billing.invoice.overdue",
        "billing.payment.failed",
        "billing.credit_note.issued",
        "licensing.license.assigned",
        "licensing.license.revoked",
        "licensing.invitation.claimed",
    ),
}
