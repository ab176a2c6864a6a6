"""The payloads of the events orders publishes, one builder each (``contracts/events/orders``)."""

from __future__ import annotations

import datetime as dt

from orders.models import Order


def order_placed(order: Order, portal_base_url: str = "") -> dict:
    return {
        "order_number": order.number,
        "placed_at": order.placed_at,
        "buyer": order.buyer,
        "reseller_id": order.reseller_id,
        "customer": order.customer,
        "end_user": order.end_user,
        "currency": order.currency,
        "subtotal": order.subtotal,
        "tax": order.tax,
        "total": order.total,
        "po_number": order.po_number,
        "payment": {"kind": order.payment_kind, "method_id": order.payment_method_id},
        "send_activation_email": order.send_activation_email,
        "source": {"kind": order.source_kind, "reference": order.source_reference},
        "lines": [
            {
                "line_no": line.line_no,
                "kind": line.kind,
                "product": line.product,
                "quantity": line.quantity,
                "term_years": line.term_years,
                "start_date": line.start_date,
                "end_date": line.end_date,
                "fallback_eligible": line.fallback_eligible,
                "team_id": line.team_id,
                "team_name": line.team_name,
                "subscription_pack": line.subscription_pack,
                "license_ids": line.license_ids,
                "unit_price": line.unit_price,
                "amount": line.amount,
                "product_name": line.product_name,
            }
            for line in order.lines
        ],
        "billing_address": order.billing_address,
        "portal_url": order.portal_url(portal_base_url) if portal_base_url else None,
    }


def order_cancelled(order: Order) -> dict:
    return {
        "order_number": order.number,
        "cancelled_at": order.cancelled_at,
        "buyer": order.buyer,
        "reseller_id": order.reseller_id,
        "customer": order.customer,
        "license_ids": order.affected_license_ids(),
        "reason": order.cancel_reason,
        "cancelled_by": order.cancelled_by,
        "po_number": order.po_number,
        "invoice_number": order.invoice_number,
    }


def email_requested(order: Order, license_ids: list[str], now: dt.datetime) -> dict:
    """``orders.licenses.resend_requested`` and ``orders.activation_email.requested``."""
    return {
        "order_number": order.number,
        "buyer": order.buyer,
        "customer": order.customer,
        "end_user": order.end_user,
        "license_ids": license_ids,
        "requested_at": now,
    }
