"""Orders' HTTP API, reached through the gateway: place (checkout, quote, direct), search, read,
and the actions on an order (resend licenses, activation e-mail, cancel).

Each view turns the request into a command (``service.handle``) or a query, and the answer
into JSON; the rules are in ``placement``, ``idempotency``, the handlers and the model.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

from flask import Blueprint, request

from orders import idempotency, placement, queries
from orders.commands import CancelOrder, PlaceOrder, RequestActivationEmail, ResendLicenses
from orders.views import order_view
from portal_contracts.api.orders import (
    CancelOrderRequest,
    CheckoutRequest,
    OrderSearchArgs,
    PlaceOrderRequest,
    QuoteOrderRequest,
)
from portal_runtime.errors import Forbidden
from portal_runtime.identity import Identity
from portal_runtime.web import (
    current_identity,
    current_service,
    customer_access,
    json_body,
    request_id,
    require_role,
    schema,
)

bp = Blueprint("orders", __name__)

BUYING_ROLES = ("admin", "sales")


def require_buyer(identity: Identity) -> None:
    require_role(identity, *BUYING_ROLES)
    if identity.is_service:
        raise Forbidden("Orders are placed and changed by people.")


def created(body: dict, status: int = 201):
    return body, status, {"Location": f"/api/v1/orders/{body['number']}"}


def place(identity: Identity, raw_body: dict, build: Callable[[dt.datetime], PlaceOrder]):
    """Place ``build(now)`` at most once per Idempotency-Key: a replay answers what the first
    request got, before anything is read again."""
    service = current_service()
    claim = idempotency.claim(
        identity.tenant,
        request.headers.get("Idempotency-Key"),
        f"{request.method} {request.path}",
        raw_body,
    )
    with service.reader.connect() as conn:
        row = idempotency.replay(conn, claim)
    if row is not None:
        return created(row.response, row.status_code)
    command = build(service.clock.now())
    body, status = service.handle(
        dataclasses.replace(command, idempotency=claim), correlation_id=request_id()
    )
    return created(body, status)


def ordered_as(source_key: str) -> str | None:
    with current_service().sessions() as session:
        return queries.ordered_as(session, source_key)


# -- placing ------------------------------------------------------------------------------------


@bp.post("/customers/<customer_id>/cart/checkout")
def checkout(customer_id: str):
    """Check out the caller's cart for this customer, paid at once with a stored method."""
    identity = customer_access(customer_id)
    require_buyer(identity)
    raw = json_body()
    data = schema(CheckoutRequest).load(raw)
    service = current_service()
    return place(
        identity,
        raw,
        lambda now: placement.from_cart(
            identity,
            customer_id,
            data,
            carts=service.carts,
            customers=service.customers,
            payment_methods=service.payment_methods,
            ordered_as=ordered_as,
            now=now,
        ),
    )


@bp.post("/quotes/<number>/order")
def order_quote(number: str):
    """Order an open quote: paid later by invoice against a PO."""
    identity = current_identity()
    require_buyer(identity)
    raw = json_body(optional=True)
    data = schema(QuoteOrderRequest).load(raw)
    service = current_service()
    return place(
        identity,
        raw,
        lambda now: placement.from_quote(identity, number, data, carts=service.carts, now=now),
    )


@bp.post("/orders")
def place_direct_order():
    """Place an order directly (integrators): lines priced by cart-quote."""
    identity = current_identity()
    require_buyer(identity)
    raw = json_body()
    data = schema(PlaceOrderRequest).load(raw)
    service = current_service()
    return place(
        identity,
        raw,
        lambda now: placement.from_lines(
            identity,
            data,
            customers=service.customers,
            payment_methods=service.payment_methods,
            pricing=service.pricing,
            now=now,
        ),
    )


# -- reading ------------------------------------------------------------------------------------


@bp.get("/orders")
def search_orders():
    identity = current_identity()
    args = schema(OrderSearchArgs).load(request.args.to_dict())
    service = current_service()
    with service.sessions() as session:
        rows, next_cursor = queries.search(
            session, identity, args, request.args.get("limit"), request.args.get("cursor")
        )
        items = [order_view(o, service.config) for o in rows]
    return {"items": items, "next_cursor": next_cursor}


@bp.get("/orders/<number>")
def get_order(number: str):
    identity = current_identity()
    service = current_service()
    with service.sessions() as session:
        return order_view(queries.find_order(session, identity, number), service.config)


# -- actions ------------------------------------------------------------------------------------


def act(command):
    """Handle an action on one of the caller's orders (its handler finds and locks it)."""
    return current_service().handle(command, correlation_id=request_id())


def email_requested(number: str, command) -> tuple[dict, int]:
    """Ask for an order's email to go out (again); notifications sends it, hence 202."""
    json_body(optional=True)
    identity = current_identity()
    require_buyer(identity)
    requested = act(command(number, by=identity))
    return {
        "order_number": requested["order_number"],
        "status": "accepted",
        "license_ids": requested["license_ids"],
        "recipient": requested["end_user"]["email"],
    }, 202


@bp.post("/orders/<number>/resend-licenses")
def resend_licenses(number: str):
    """Email the order's licenses again (asynchronous: 202)."""
    return email_requested(number, ResendLicenses)


@bp.post("/orders/<number>/activation-email")
def activation_email(number: str):
    """Send the customer its activation e-mail (asynchronous: 202)."""
    return email_requested(number, RequestActivationEmail)


@bp.post("/orders/<number>/cancel")
def cancel(number: str):
    """Cancel within the window after placement; 409 afterwards or when already cancelled."""
    data = schema(CancelOrderRequest).load(json_body(optional=True))
    identity = current_identity()
    require_buyer(identity)
    order = act(CancelOrder(number, by=identity, reason=data.get("reason")))
    return order_view(order, current_service().config)
