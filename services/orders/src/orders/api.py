"""Orders' HTTP API, reached through the gateway: place (checkout, quote, direct), search, read,
and the actions on an order (resend licenses, activation e-mail, cancel)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from decimal import Decimal

from flask import Blueprint, request
from marshmallow import ValidationError
from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from orders import idempotency
from orders.handlers import (
    OrderConflict,
    PlaceOrder,
    cancel_order,
    place_order,
    request_activation_email,
    request_license_resend,
)
from orders.models import IdempotencyKey, Order
from orders.views import order_view
from portal_contracts.api.orders import (
    CancelOrderRequest,
    CheckoutRequest,
    OrderSearchArgs,
    PlaceOrderRequest,
    QuoteOrderRequest,
)
from portal_contracts.base import lenient
from portal_contracts.common import TaxLine
from portal_contracts.events.orders import BillingAddress, OrderLine
from portal_runtime.http import read_in_parallel
from portal_runtime.identity import Identity
from portal_runtime.problems import Problem, conflict, invalid, not_found
from portal_runtime.queries import contains, equals_ci, page
from portal_runtime.web import (
    current_identity,
    current_service,
    customer_access,
    json_body,
    require_role,
    unit_of_work,
)

bp = Blueprint("orders", __name__)

BUYING_ROLES = ("admin", "sales")
# What an order line carries (the ``orders.order.placed`` line), read leniently from cart-quote.
ORDER_LINE = lenient(OrderLine)
BILLING_ADDRESS = lenient(BillingAddress)
TAX_LINE = lenient(TaxLine)


def require_buyer(identity: Identity) -> None:
    require_role(identity, *BUYING_ROLES)
    if identity.is_service:
        raise Problem(403, "Orders are placed and changed by people.")


def owned_by(query: Select, identity: Identity) -> Select:
    """Only the caller's own orders: a reseller's, or those a customer placed for itself."""
    if identity.is_reseller:
        return query.where(Order.reseller_id == identity.reseller_id)
    if identity.is_customer_admin:
        return query.where(
            Order.buyer_kind == "customer", Order.buyer_customer_id == identity.customer_id
        )
    return query


def find_order(session: Session, identity: Identity, number: str, lock: bool = False) -> Order:
    query = owned_by(select(Order).where(Order.number == number), identity)
    if lock:
        query = query.with_for_update()
    order = session.scalar(query)
    if order is None:
        raise not_found("order")
    return order


def created(body: dict, status: int = 201):
    return body, status, {"Location": f"/api/v1/orders/{body['number']}"}


def place_idempotently(identity: Identity, raw_body: dict, build: Callable[[], PlaceOrder]):
    """Run ``build() -> PlaceOrder`` and place it, at most once per Idempotency-Key.

    The key row is inserted in the order's own transaction: of two concurrent requests with one
    key, the loser hits the key's primary key (or the cart's ``source_key``), rolls back, and
    answers with what the winner stored.
    """
    service = current_service()
    key = idempotency.check_key(request.headers.get("Idempotency-Key"))
    scope = identity.tenant
    # The path is part of the request: one key for two carts is "another body".
    digest = idempotency.request_hash(f"{request.method} {request.path}", raw_body)
    with service.sessions() as session:
        row = idempotency.replay(session, scope, key, digest)
        if row is not None:
            return created(row.response, row.status_code)
    command = build()
    with unit_of_work() as uow:
        try:
            order = place_order(command, uow)
            body = order_view(order, service.config)
            uow.session.add(
                IdempotencyKey(
                    scope=scope,
                    key=key,
                    request_hash=digest,
                    order_number=order.number,
                    status_code=201,
                    response=body,
                    created_at=service.clock.now(),
                )
            )
            uow.commit()
        except IntegrityError:
            uow.rollback()
            with service.sessions() as session:
                row = idempotency.replay(session, scope, key, digest)
            if row is not None:
                return created(row.response, row.status_code)
            if command.source_key:
                with service.sessions() as session:
                    earlier = session.scalar(
                        select(Order.number).where(Order.source_key == command.source_key)
                    )
                if earlier:
                    what = "quote" if command.source_kind == "quote" else "cart"
                    raise already_ordered(what, earlier)
            raise
    return created(body)


def payment_of(identity: Identity, method_id: str) -> tuple[str, str]:
    """The kind (card, paypal) of one of the caller's own active stored payment methods."""
    method = current_service().payment_methods.get(identity, method_id)
    if method is None or method.get("status", "active") != "active":
        raise invalid({"payment_method_id": ["No active payment method of yours has this id."]})
    return method["kind"], method_id


def customer_record(customer_id: str) -> dict:
    customer = current_service().customers.get(customer_id)
    if customer is None:
        raise not_found("customer")
    email = customer.get("email") or next(iter(customer.get("contacts") or []), None)
    return {"id": customer["id"], "name": customer["name"], "email": email}


def customer_for_direct_order(identity: Identity, customer_id: str) -> dict:
    """``POST /orders`` names its customer in the body: a checked grant or a managed account."""
    customer = current_service().customers.get(customer_id)
    allowed = identity.may_access(customer_id) or (
        identity.is_reseller
        and customer is not None
        and identity.reseller_id in (customer.get("managing_reseller_ids") or [])
    )
    if customer is None or not allowed:
        raise not_found("customer")
    email = customer.get("email") or next(iter(customer.get("contacts") or []), None)
    return {"id": customer["id"], "name": customer["name"], "email": email}


def frozen_lines(items: list[dict], where: str) -> list[dict]:
    """Lines as cart-quote priced them (each item carries the ``orders.order.placed`` fields)."""
    lines = []
    for number, item in enumerate(items, start=1):
        try:
            line = ORDER_LINE.load({**item, "line_no": number})
        except ValidationError as exc:
            raise Problem(
                502, f"The {where} has a line this service cannot read ({sorted(exc.messages)})."
            )
        lines.append(line)
    return lines


def tax_of(priced: dict, lines: list[dict], where: str) -> list[dict]:
    """The tax lines cart-quote computed, checked to add up: lines + tax = the total it quoted.

    A cart, quote or pricing answer from before tax was computed has none (its total is net)."""
    tax = []
    for entry in priced.get("tax") or []:
        try:
            tax.append(TAX_LINE.load(entry))
        except ValidationError as exc:
            raise Problem(502, f"The {where} has a tax line this service cannot read ({exc}).")
    subtotal = sum((Decimal(line["amount"]) for line in lines), Decimal("0.00"))
    expected = subtotal + sum((t["amount"] for t in tax), Decimal("0.00"))
    if priced.get("total") is not None and Decimal(str(priced["total"])) != expected:
        raise Problem(502, f"The {where}'s total does not add up to its lines and tax.")
    return tax


def _parse_instant(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def cart_content(cart: dict | None, now: dt.datetime) -> tuple[str, list[dict]]:
    """The cart's id and its lines, or a 409 when there is nothing to check out."""
    if not cart or not cart.get("items"):
        raise Problem(
            409, "The cart is empty: add something before checking out.", title="Empty cart"
        )
    status = cart.get("status")
    expires_at = _parse_instant(cart.get("expires_at"))
    if cart.get("expired") or status == "expired" or (expires_at and expires_at <= now):
        raise Problem(
            409, "The cart has expired; add the items again to check out.", title="Cart expired"
        )
    if status not in (None, "open", "active"):
        raise Problem(409, f"The cart is {status} and cannot be checked out.")
    return str(cart.get("id") or ""), frozen_lines(cart["items"], "cart")


def cart_key(customer_id: str, cart_id: str, items: list[dict]) -> str:
    """One order per cart: the idempotency scope is the cart itself, whatever it holds by now.

    cart-quote closes a cart only when it sees ``orders.order.placed``; an item added before
    that must not make the cart a new one (checking out ``{A}``, adding ``B``, checking out
    again would charge ``A`` twice). A cart is never reopened: a new one gets a new id, which is
    its version. Only a cart without an id falls back to its items' ids.
    """
    scope = cart_id or "items:" + ",".join(sorted(str(item.get("id")) for item in items))
    digest = hashlib.sha256(f"{customer_id}|{scope}".encode()).hexdigest()[:40]
    return f"cart:{digest}"


def refuse_if_already_ordered(source_key: str, what: str) -> None:
    """A cart or quote that already became an order answers 409 naming that order."""
    with current_service().sessions() as session:
        earlier = session.scalar(select(Order.number).where(Order.source_key == source_key))
    if earlier:
        raise already_ordered(what, earlier)


def already_ordered(what: str, number: str) -> Problem:
    return Problem(
        409,
        f"This {what} has already been ordered as {number}.",
        title=f"{what.capitalize()} already ordered",
    )


def billing_address_of(value) -> dict | None:
    if not isinstance(value, dict):
        return None
    try:
        return BILLING_ADDRESS.load(value)
    except ValidationError:
        return None


# -- placing ------------------------------------------------------------------------------------


@bp.post("/customers/<customer_id>/cart/checkout")
def checkout(customer_id: str):
    """Check out the caller's cart for this customer, paid at once with a stored method."""
    identity = customer_access(customer_id)
    require_buyer(identity)
    raw = json_body()
    data = CheckoutRequest().load(raw)

    def build() -> PlaceOrder:
        service = current_service()
        now = service.clock.now()
        (kind, method_id), cart, customer = read_in_parallel(
            lambda: payment_of(identity, data["payment_method_id"]),
            # The cart priced with its tax for this billing address (a bad VAT ID: a 422).
            lambda: service.carts.cart(identity, customer_id, data["billing_address"]),
            lambda: customer_record(customer_id),
        )
        cart_id, lines = cart_content(cart, now)
        source_key = cart_key(customer_id, cart_id, cart["items"])
        refuse_if_already_ordered(source_key, "cart")
        return PlaceOrder(
            buyer=identity.buyer(),
            customer=customer,
            end_user=data["end_user"],
            currency=cart.get("currency") or identity.currency,
            lines=lines,
            payment_kind=kind,
            payment_method_id=method_id,
            po_number=data.get("po_number"),
            send_activation_email=data["send_activation_email"],
            source_kind="cart",
            source_reference=cart_id or None,
            source_key=source_key,
            billing_address=data["billing_address"],
            tax=tax_of(cart, lines, "cart"),
            placed_at=now,
            portal_base_url=service.config.portal_base_url,
        )

    return place_idempotently(identity, raw, build)


@bp.post("/quotes/<number>/order")
def order_quote(number: str):
    """Order an open quote: paid later by invoice against a PO."""
    identity = current_identity()
    require_buyer(identity)
    raw = json_body(optional=True)
    data = QuoteOrderRequest().load(raw)

    def build() -> PlaceOrder:
        service = current_service()
        now = service.clock.now()
        quote = service.carts.quote(identity, number)
        customer = (quote or {}).get("customer") or {}
        if quote is None or (
            identity.is_customer_admin and customer.get("id") != identity.customer_id
        ):
            raise not_found("quote")
        status = quote.get("status")
        valid_until = quote.get("valid_until")
        if status != "open":
            raise conflict(f"Only an open quote can be ordered; this one is {status}.")
        if valid_until and dt.date.fromisoformat(str(valid_until)[:10]) < now.date():
            raise conflict(f"This quote expired on {str(valid_until)[:10]}.")
        po_number = data.get("po_number") or quote.get("po_number")
        if not po_number:
            raise invalid({"po_number": ["A PO number is required to be invoiced."]})
        if not quote.get("end_user"):
            raise Problem(502, "The quote has no end-user (licensee) to deliver to.")
        lines = frozen_lines(quote.get("lines") or [], "quote")
        return PlaceOrder(
            buyer=identity.buyer(),
            customer={
                "id": customer["id"],
                "name": customer.get("name") or customer["id"],
                "email": customer.get("email"),
            },
            end_user={k: quote["end_user"][k] for k in ("first_name", "last_name", "email")},
            currency=quote.get("currency") or identity.currency,
            lines=lines,
            tax=tax_of(quote, lines, "quote"),
            payment_kind="po",
            po_number=po_number,
            send_activation_email=data["send_activation_email"],
            source_kind="quote",
            source_reference=number,
            source_key=f"quote:{number}",
            billing_address=billing_address_of(quote.get("billing_address")),
            placed_at=now,
            portal_base_url=service.config.portal_base_url,
        )

    return place_idempotently(identity, raw, build)


@bp.post("/orders")
def place_direct_order():
    """Place an order directly (integrators): lines priced by cart-quote."""
    identity = current_identity()
    require_buyer(identity)
    raw = json_body()
    data = PlaceOrderRequest().load(raw)

    def build() -> PlaceOrder:
        service = current_service()
        lines = [
            {k: v for k, v in line.items() if v is not None or k == "end_date"}
            for line in data["lines"]
        ]
        method = data.get("payment_method_id")
        # Three independent reads at once; their errors count in this order (an unknown
        # customer is a 404 whatever the lines' prices).
        customer, payment, priced = read_in_parallel(
            lambda: customer_for_direct_order(identity, data["customer_id"]),
            (lambda: payment_of(identity, method)) if method else None,
            lambda: service.pricing.price(
                identity, data["customer_id"], lines, data.get("billing_address")
            ),
        )
        kind, method_id = payment or ("po", None)
        priced_lines = frozen_lines(priced["lines"], "priced order")
        # Pricing may not echo the new team's name back; the line keeps what was asked for.
        for asked, line in zip(data["lines"], priced_lines, strict=False):
            if asked.get("team_name") and not line.get("team_name"):
                line["team_name"] = asked["team_name"]
        return PlaceOrder(
            buyer=identity.buyer(),
            customer=customer,
            end_user=data["end_user"],
            currency=priced["currency"],
            lines=priced_lines,
            tax=tax_of(priced, priced_lines, "priced order"),
            payment_kind=kind,
            payment_method_id=method_id,
            po_number=data.get("po_number"),
            send_activation_email=data["send_activation_email"],
            source_kind="direct",
            billing_address=data.get("billing_address"),
            placed_at=service.clock.now(),
            portal_base_url=service.config.portal_base_url,
        )

    return place_idempotently(identity, raw, build)


# -- reading ------------------------------------------------------------------------------------


@bp.get("/orders")
def search_orders():
    identity = current_identity()
    args = OrderSearchArgs().load(request.args.to_dict())
    query = owned_by(select(Order), identity).options(
        selectinload(Order.lines), selectinload(Order.licenses)
    )
    if args.get("number"):
        query = query.where(equals_ci(Order.number, args["number"]))
    if args.get("po_number"):
        query = query.where(equals_ci(Order.po_number, args["po_number"]))
    if args.get("customer_name"):
        query = query.where(contains(Order.customer_name, args["customer_name"]))
    if args.get("customer_email"):
        # The customer's own email, or the delivery (end-user) email the order went to.
        email = args["customer_email"]
        query = query.where(
            equals_ci(Order.customer_email, email) | equals_ci(Order.end_user_email, email)
        )
    if args.get("customer_id"):
        query = query.where(Order.customer_id == args["customer_id"])
    if args.get("quote_number"):
        query = query.where(
            Order.source_kind == "quote", equals_ci(Order.source_reference, args["quote_number"])
        )
    if args.get("status"):
        query = query.where(Order.status == args["status"])
    # A date range is whole days in UTC: `to` includes that day's orders.
    if args.get("from_"):
        start = dt.datetime.combine(args["from_"], dt.time.min, tzinfo=dt.UTC)
        query = query.where(Order.placed_at >= start)
    if args.get("to"):
        end = dt.datetime.combine(args["to"] + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
        query = query.where(Order.placed_at < end)
    service = current_service()
    with service.sessions() as session:
        rows, next_cursor = page(
            session, query, Order.id, request.args.get("limit"), request.args.get("cursor")
        )
        items = [order_view(o, service.config) for o in rows]
    return {"items": items, "next_cursor": next_cursor}


@bp.get("/orders/<number>")
def get_order(number: str):
    identity = current_identity()
    service = current_service()
    with service.sessions() as session:
        return order_view(find_order(session, identity, number), service.config)


# -- actions ------------------------------------------------------------------------------------


def _act(number: str, action) -> tuple[Order, object]:
    identity = current_identity()
    require_buyer(identity)
    service = current_service()
    with unit_of_work() as uow:
        order = find_order(uow.session, identity, number, lock=True)
        try:
            result = action(order, uow, identity, service)
        except OrderConflict as exc:
            raise conflict(str(exc))
        view = order_view(order, service.config)
        uow.commit()
    return view, result


def _email_requested(number: str, request_email) -> tuple[dict, int]:
    """Ask for an order's email to go out (again); notifications sends it, hence 202."""
    json_body(optional=True)
    view, license_ids = _act(
        number, lambda order, uow, _, service: request_email(order, uow, service.clock.now())
    )
    return {
        "order_number": view["number"],
        "status": "accepted",
        "license_ids": license_ids,
        "recipient": view["end_user"]["email"],
    }, 202


@bp.post("/orders/<number>/resend-licenses")
def resend_licenses(number: str):
    """Email the order's licenses again (asynchronous: 202)."""
    return _email_requested(number, request_license_resend)


@bp.post("/orders/<number>/activation-email")
def activation_email(number: str):
    """Send the customer its activation e-mail (asynchronous: 202)."""
    return _email_requested(number, request_activation_email)


@bp.post("/orders/<number>/cancel")
def cancel(number: str):
    """Cancel within the window after placement; 409 afterwards or when already cancelled."""
    data = CancelOrderRequest().load(json_body(optional=True))

    def action(order, uow, identity, service):
        cancel_order(
            order,
            uow,
            now=service.clock.now(),
            window_days=service.config.cancel_window_days,
            cancelled_by=identity.buyer(),
            reason=data.get("reason"),
        )

    view, _ = _act(number, action)
    return view
