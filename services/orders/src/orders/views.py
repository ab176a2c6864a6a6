"""How an order looks from outside: the public shape of API.md."""

from __future__ import annotations

from orders.config import OrdersConfig
from orders.models import Order
from portal_contracts.api.orders import OrderSchema

ORDER = OrderSchema()


def order_view(order: Order, config: OrdersConfig) -> dict:
    return ORDER.dump(
        {
            "number": order.number,
            "status": order.status,
            "payment_status": order.payment_status,
            "payment_failure_reason": order.payment_failure_reason,
            "placed_at": order.placed_at,
            "buyer": order.buyer,
            "customer": order.customer,
            "end_user": order.end_user,
            "po_number": order.po_number,
            "payment_kind": order.payment_kind,
            "payment_method_id": order.payment_method_id,
            "lines": order.lines,
            # An order from before tax was computed: its total was net, with no tax line.
            "subtotal": order.total if order.subtotal is None else order.subtotal,
            "tax": order.tax or [],
            "total": order.total,
            "currency": order.currency,
            "invoice_number": order.invoice_number,
            "credit_note_number": order.credit_note_number,
            "license_ids": order.license_ids,
            "licenses": order.licenses,
            "portal_url": order.portal_url(config.portal_base_url),
            "send_activation_email": order.send_activation_email,
            "billing_address": order.billing_address,
            "source": {"kind": order.source_kind, "reference": order.source_reference},
            "cancelled_at": order.cancelled_at,
            "cancellable_until": order.cancellable_until(config.cancel_window_days),
        }
    )
