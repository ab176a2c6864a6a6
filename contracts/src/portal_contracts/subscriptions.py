"""Which service consumes which events: the one table the broker topology is declared from.

Each consuming service has one durable queue bound to these routing keys; a service's
``EVENT_HANDLERS`` must handle exactly the event types of its row (a test checks). Declaring every
queue from here, before anything is published, means events wait in their queues while a consumer
is down.

Some events are routed by a field of their payload (``ROUTED_BY``): their routing key is
``<type>.<value>`` (``orders.order.placed.cart``). A subscription to the type takes all of them;
a subscription to ``<type>.<value>`` only those, so a consumer is not sent events it would only
drop (cart-quote has nothing to close for a direct order).
"""

from __future__ import annotations

# event type -> the payload field (a path) whose value ends its routing key
ROUTED_BY: dict[str, tuple[str, ...]] = {
    "orders.order.placed": ("source", "kind"),
}

SUBSCRIPTIONS: dict[str, tuple[str, ...]] = {
    "cart-quote": (
        "catalog.price_list.published",
        "catalog.partner_discount.changed",
        # Orders placed from a cart close it, from a quote mark it ordered; direct ones: nothing.
        "orders.order.placed.cart",
        "orders.order.placed.quote",
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
        "licensing.admin.invited",
        "licensing.management.requested",
        "licensing.holder_link.issued",
        "gateway.sign_in.throttled",
        "gateway.user.invited",
        "gateway.invitation.refused",
    ),
}


def event_type_of(subscription: str) -> str:
    """``orders.order.placed.cart`` -> ``orders.order.placed``; a plain type stays itself."""
    head, _, _ = subscription.rpartition(".")
    return head if head in ROUTED_BY else subscription


def subscribed_types(service: str) -> set[str]:
    """The event types a service handles (what its ``EVENT_HANDLERS`` must name)."""
    return {event_type_of(s) for s in SUBSCRIPTIONS.get(service, ())}


def routing_key(event_type: str, payload: dict) -> str:
    """The key an event is published with: its type, plus the routed field's value if any."""
    path = ROUTED_BY.get(event_type)
    if path is None:
        return event_type
    value = payload
    for name in path:
        value = value.get(name) if isinstance(value, dict) else None
    return f"{event_type}.{value or 'none'}"


def binding_key(subscription: str) -> str:
    """What a subscription binds on the topic exchange (``#``: a routed type's every value,
    and the bare type too)."""
    return f"{subscription}.#" if subscription in ROUTED_BY else subscription


def receives(service: str, event_type: str, payload: dict) -> bool:
    """Whether the broker routes this event to ``service``'s queue."""
    key = routing_key(event_type, payload)
    return any(s in (event_type, key) for s in SUBSCRIPTIONS.get(service, ()))
