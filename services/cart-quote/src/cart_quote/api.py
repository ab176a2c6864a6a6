"""Cart-quote's HTTP API: carts, Get Quote, quotes, renew/copy an order, and internal routes."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from flask import Blueprint, Response, request
from sqlalchemy import Select, or_, select
from sqlalchemy.exc import IntegrityError

from cart_quote.handlers import (
    IssueQuote,
    QuoteNotOpen,
    add_item,
    cancel_quote,
    cart_for_update,
    claim_quote,
    close_cart,
    issue_quote,
    open_cart,
)
from cart_quote.lines import (
    check_placement,
    order_line,
    priced,
    refuse_licenses_twice,
    resolve,
    set_end_date,
)
from cart_quote.models import Cart, CartItem, Quote
from cart_quote.pdf import render_quote
from cart_quote.price_book import book_for
from cart_quote.tax import InvalidVatId, Summary, summarise
from cart_quote.views import cart_view, priced_lines, quote_view
from portal_contracts.api.carts import CartItemRequest, CartItemUpdateRequest, CartQueryArgs
from portal_contracts.api.quotes import (
    ClaimQuoteRequest,
    GetQuoteRequest,
    PricingRequest,
    QuoteSearchArgs,
)
from portal_contracts.base import to_json_ready
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

bp = Blueprint("cart_quote", __name__)

BUYING_ROLES = ("admin", "sales")
READING_ROLES = ("admin", "sales", "billing")


def buyer_on(customer_id: str) -> Identity:
    """A person who may buy for this customer: 404 if not theirs, 403 without a buying role."""
    identity = customer_access(customer_id)
    require_role(identity, *BUYING_ROLES)
    if identity.is_service:
        raise Problem(403, "Carts belong to people.")
    return identity


def now_and_today():
    now = current_service().clock.now()
    return now, now.date()


def summary_for(lines: list[dict], address: dict | None, today) -> Summary:
    """Subtotal, tax and total of priced lines for this billing address; 422 for a VAT ID that
    is not a well-formed VAT number of the address's EU country."""
    try:
        return summarise(
            (line["amount"] for line in lines),
            address,
            seller_country=current_service().config.seller.country,
            on=today,
        )
    except InvalidVatId:
        raise invalid(
            {
                "billing_address": {
                    "vat_id": [
                        "Not a well-formed VAT number of the billing address's country "
                        "(e.g. DE123456789 for Germany)."
                    ]
                }
            },
            "The VAT ID cannot be used.",
        )


def answer_cart(
    session,
    identity: Identity,
    customer_id: str,
    status: int = 200,
    headers=None,
    address: dict | None = None,
):
    service = current_service()
    now, today = now_and_today()
    book = book_for(session, identity, service.config.default_currency)
    cart = open_cart(session, identity.tenant, customer_id, now, service.config.cart_idle_days)
    lines = priced_lines(cart, book, today)
    if address:
        summary_for(lines, address, today)  # a malformed VAT ID is a 422, not a 500
    body = cart_view(
        cart,
        customer_id,
        book,
        today,
        service.config.cart_idle_days,
        lines,
        seller_country=service.config.seller.country,
        address=address,
    )
    return body, status, (headers or {})


# -- the cart ------------------------------------------------------------------------------------


@bp.get("/customers/<customer_id>/cart")
def get_cart(customer_id: str):
    identity = buyer_on(customer_id)
    # ?country=&vat_id= : the billing address the tax is shown for (checkout passes its own).
    args = CartQueryArgs().load(request.args.to_dict())
    address = (
        {"country": args["country"], "vat_id": args.get("vat_id") or None}
        if args.get("country")
        else None
    )
    with unit_of_work() as uow:
        body = answer_cart(uow.session, identity, customer_id, address=address)
        uow.commit()  # an idle cart found expired is closed for good
    return body


@bp.post("/customers/<customer_id>/cart/items")
def add_cart_item(customer_id: str):
    identity = buyer_on(customer_id)
    data = CartItemRequest().load(json_body(optional=True))
    return fill_cart(identity, customer_id, [data], status=201)


def _item(session, identity: Identity, customer_id: str, item_id: int) -> tuple[Cart, CartItem]:
    service = current_service()
    now, _ = now_and_today()
    cart = cart_for_update(
        session, identity.tenant, customer_id, now, service.config.cart_idle_days
    )
    item = next((i for i in cart.items if i.id == item_id), None)
    if item is None:
        raise not_found("cart item")
    return cart, item


@bp.patch("/customers/<customer_id>/cart/items/<int:item_id>")
def update_cart_item(customer_id: str, item_id: int):
    identity = buyer_on(customer_id)
    data = CartItemUpdateRequest().load(json_body(optional=True))
    service = current_service()
    _, today = now_and_today()
    check_placement(
        service.licenses, customer_id, data.get("team_id"), data.get("subscription_pack")
    )
    with unit_of_work() as uow:
        _, item = _item(uow.session, identity, customer_id, item_id)
        if "quantity" in data:
            if item.kind != "new":
                raise invalid({"quantity": [f"A {item.kind} line covers exactly its licenses."]})
            item.quantity = data["quantity"]
        if "end_date" in data:
            book = book_for(uow.session, identity, service.config.default_currency)
            start = priced(item, book, today, 1)["start_date"]
            set_end_date(item, data["end_date"], start)
        if "team_id" in data:
            item.team_id = data["team_id"]
            if data["team_id"]:
                item.team_name = None
        if "team_name" in data:
            item.team_name = data["team_name"]
            if data["team_name"]:
                item.team_id = None
        if "subscription_pack" in data:
            item.subscription_pack = data["subscription_pack"]
        uow.session.flush()
        body = answer_cart(uow.session, identity, customer_id)
        uow.commit()
    return body


@bp.delete("/customers/<customer_id>/cart/items/<int:item_id>")
def remove_cart_item(customer_id: str, item_id: int):
    identity = buyer_on(customer_id)
    with unit_of_work() as uow:
        cart, item = _item(uow.session, identity, customer_id, item_id)
        cart.items.remove(item)
        uow.session.flush()
        body = answer_cart(uow.session, identity, customer_id)
        uow.commit()
    return body


# -- quotes --------------------------------------------------------------------------------------


def customer_record(customer_id: str) -> dict:
    customer = current_service().customers.get(customer_id)
    if customer is None:
        raise not_found("customer")
    # The account's own email, else its first contact's (as orders shows it).
    email = customer.get("email") or next(iter(customer.get("contacts") or []), None)
    return {"id": customer["id"], "name": customer["name"], "email": email}


@bp.post("/customers/<customer_id>/cart/quote")
def get_quote(customer_id: str):
    identity = buyer_on(customer_id)
    data = GetQuoteRequest().load(json_body(optional=True))
    service = current_service()
    now, today = now_and_today()
    customer = customer_record(customer_id)
    with unit_of_work() as uow:
        cart = open_cart(
            uow.session, identity.tenant, customer_id, now, service.config.cart_idle_days
        )
        if cart is None or not cart.items:
            raise conflict("The cart is empty: add lines before getting a quote.")
        book = book_for(uow.session, identity, service.config.default_currency)
        lines = priced_lines(cart, book, today)
        quote = issue_quote(
            IssueQuote(
                buyer=identity,
                customer=customer,
                end_user=data["end_user"],
                billing_address=data["billing_address"],
                po_number=data.get("po_number"),
                currency=book.currency,
                lines=lines,
                issued_at=now,
                valid_days=service.config.quote_valid_days,
                summary=summary_for(lines, data["billing_address"], today),
                seller=service.config.seller.as_dict(),
            ),
            uow,
        )
        # The cart's lines now live in the quote; the next cart starts empty.
        close_cart(cart, "quoted", now, quote.number)
        body = quote_view(quote, today)
        uow.commit()
    return body, 201, {"Location": f"/api/v1/quotes/{quote.number}"}


def owned_quotes(query: Select, identity: Identity) -> Select:
    """Only the caller's own quotes (a service sees all)."""
    if identity.is_service:
        return query
    return query.where(Quote.tenant == identity.tenant)


def find_quote(session, identity: Identity, number: str) -> Quote:
    quote = session.scalar(
        owned_quotes(select(Quote).where(Quote.number == number.strip().upper()), identity)
    )
    if quote is None:
        raise not_found("quote")
    return quote


def reader() -> Identity:
    identity = current_identity()
    require_role(identity, *READING_ROLES)
    return identity


@bp.get("/quotes")
def search_quotes():
    identity = reader()
    args = QuoteSearchArgs().load(request.args.to_dict())
    _, today = now_and_today()
    query = owned_quotes(select(Quote).where(Quote.number.is_not(None)), identity)
    if args.get("number"):
        query = query.where(contains(Quote.number, args["number"]))
    if args.get("customer_name"):
        query = query.where(contains(Quote.customer_name, args["customer_name"]))
    if args.get("customer_email"):
        # The customer's own email, or the end user's (licensee) the quote is for.
        email = args["customer_email"]
        query = query.where(
            or_(equals_ci(Quote.customer_email, email), equals_ci(Quote.end_user_email, email))
        )
    # A date range is whole days in UTC (`to` includes that day), compared on the stored instant
    # so the (tenant, issued_at) index serves it.
    if args.get("from_"):
        start = dt.datetime.combine(args["from_"], dt.time.min, tzinfo=dt.UTC)
        query = query.where(Quote.issued_at >= start)
    if args.get("to"):
        end = dt.datetime.combine(args["to"] + dt.timedelta(days=1), dt.time.min, tzinfo=dt.UTC)
        query = query.where(Quote.issued_at < end)
    status = args.get("status")
    if status == "open":
        query = query.where(Quote.status == "open", Quote.valid_until >= today)
    elif status == "expired":
        query = query.where(Quote.status == "open", Quote.valid_until < today)
    elif status:
        query = query.where(Quote.status == status)
    with current_service().sessions() as session:
        rows, next_cursor = page(
            session, query, Quote.id, request.args.get("limit"), request.args.get("cursor")
        )
        items = [quote_view(q, today) for q in rows]
    return {"items": items, "next_cursor": next_cursor}


def pdf_response(quote: Quote, identity: Identity) -> Response:
    _, today = now_and_today()
    own = identity.is_reseller and identity.reseller_id == quote.reseller_id
    return Response(
        render_quote(quote, today, identity.reseller_name if own else None),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{quote.number}.pdf"'},
    )


def wants_pdf() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "application/pdf"])
    return (
        best == "application/pdf"
        and request.accept_mimetypes["application/pdf"]
        > (request.accept_mimetypes["application/json"])
    )


@bp.get("/quotes/<number>")
def get_quote_by_number(number: str):
    identity = reader()
    _, today = now_and_today()
    with current_service().sessions() as session:
        quote = find_quote(session, identity, number)
        if wants_pdf():
            return pdf_response(quote, identity)
        return quote_view(quote, today)


@bp.get("/quotes/<number>/pdf")
def get_quote_pdf(number: str):
    identity = reader()
    with current_service().sessions() as session:
        return pdf_response(find_quote(session, identity, number), identity)


@bp.post("/quotes/<number>/cancel")
def cancel(number: str):
    identity = current_identity()
    require_role(identity, *BUYING_ROLES)
    now, today = now_and_today()
    with current_service().sessions() as session:
        find_quote(session, identity, number)  # 404 before asking anyone else
    # Ordering a quote reaches us as an event a moment later; orders knows at once.
    order = current_service().orders.of_quote(identity, number)
    if order is not None:
        raise conflict(f"This quote has been ordered ({order['number']}); it cannot be cancelled.")
    with unit_of_work() as uow:
        quote = find_quote(uow.session, identity, number)
        try:
            cancel_quote(quote, now, uow)
        except QuoteNotOpen as exc:
            raise conflict(f"Only an open quote can be cancelled; this one is {exc.status}.")
        body = quote_view(quote, today)
        uow.commit()
    return body


# -- renew or copy an order into the cart --------------------------------------------------------


def order_of(identity: Identity, number: str) -> dict:
    order = current_service().orders.get(identity, number)
    if order is None:
        raise not_found("order")
    return order


def fill_cart(identity: Identity, customer_id: str, requests: list[dict], status: int = 200):
    """Add checked lines to the caller's cart (opened if need be) and answer with the cart."""
    service = current_service()
    now, today = now_and_today()
    for attempt in (1, 2):
        with unit_of_work() as uow:
            book = book_for(uow.session, identity, service.config.default_currency)
            specs = [resolve(r, customer_id, book, service.licenses, today) for r in requests]
            for spec in specs:
                priced(spec, book, today, 1)  # a line that cannot be priced is refused now
            cart = cart_for_update(
                uow.session, identity.tenant, customer_id, now, service.config.cart_idle_days
            )
            refuse_licenses_twice(specs, {lid for i in cart.items for lid in i.license_ids or []})
            items = [add_item(cart, spec) for spec in specs]
            try:
                uow.session.flush()
            except IntegrityError:
                # Two first lines at once both opened a cart; the loser adds to the winner's.
                if attempt == 2:
                    raise
                continue
            headers = {}
            if status == 201:
                headers["Location"] = f"/api/v1/customers/{customer_id}/cart/items/{items[-1].id}"
            body = answer_cart(uow.session, identity, customer_id, status, headers)
            uow.commit()
            return body
    raise AssertionError("unreachable")


def order_buyer(number: str) -> tuple[Identity, dict]:
    identity = current_identity()
    require_role(identity, *BUYING_ROLES)
    if identity.is_service:
        raise Problem(403, "Carts belong to people.")
    # The order being the caller's own (orders answers 404 otherwise) is the right to act on it.
    return identity, order_of(identity, number)


@bp.post("/orders/<number>/renew")
def renew_order(number: str):
    identity, order = order_buyer(number)
    customer_id = order["customer"]["id"]
    ids = list(order.get("license_ids") or [])
    for line in order.get("lines") or []:
        ids.extend(line.get("license_ids") or [])
    ids = list(dict.fromkeys(ids))
    if not ids:
        raise conflict("This order has no licenses to renew yet.")
    licenses = current_service().licenses.get(customer_id, ids)
    groups: dict[tuple, list[str]] = defaultdict(list)
    for lic in licenses:
        groups[(lic["product"], str(lic["valid_until"]))].append(lic["license_id"])
    if not groups:
        raise conflict("None of this order's licenses can be renewed.")
    terms = {line["product"]: line.get("term_years") or 1 for line in order.get("lines") or []}
    requests = [
        {"kind": "renewal", "license_ids": lids, "term_years": terms.get(product, 1)}
        for (product, _), lids in sorted(groups.items())
    ]
    return fill_cart(identity, customer_id, requests)


@bp.post("/orders/<number>/copy")
def copy_order(number: str):
    identity, order = order_buyer(number)
    customer_id = order["customer"]["id"]
    requests = [
        {
            "kind": "new",
            "product": line["product"],
            "quantity": line["quantity"],
            "term_years": line.get("term_years") or 1,
            "team_id": line.get("team_id"),
            "team_name": None if line.get("team_id") else line.get("team_name"),
            "subscription_pack": line.get("subscription_pack"),
        }
        for line in order.get("lines") or []
        if line.get("kind") == "new"
    ]
    if not requests:
        raise conflict("This order has no new-subscription lines to copy.")
    return fill_cart(identity, customer_id, requests)


# -- internal routes -----------------------------------------------------------------------------


@bp.post("/internal/pricing")
def price_lines():
    """Price order lines for orders (direct orders), with the same code as the cart."""
    identity = current_identity()
    data = PricingRequest().load(json_body(optional=True))
    customer_id = data["customer_id"]
    if not identity.may_access(customer_id):
        raise not_found("customer")
    service = current_service()
    _, today = now_and_today()
    lines = []
    errors = {}
    with service.sessions() as session:
        book = book_for(session, identity, service.config.default_currency)
        taken: set[str] = set()  # licenses of the lines before
        for index, request_line in enumerate(data["lines"]):
            try:
                spec = resolve(request_line, customer_id, book, service.licenses, today)
                refuse_licenses_twice([spec], taken)
                taken.update(spec.license_ids)
                lines.append(order_line(priced(spec, book, today, index + 1)))
            except Problem as exc:
                if exc.status != 422:
                    raise
                errors[str(index)] = exc.errors
    if errors:
        raise invalid({"lines": errors}, "Some lines cannot be priced.")
    summary = summary_for(lines, data.get("billing_address"), today)
    return to_json_ready({"currency": book.currency, **summary.as_dict(), "lines": lines})


@bp.post("/internal/quotes/claim")
def claim():
    identity = current_identity()
    data = ClaimQuoteRequest().load(json_body(optional=True))
    if identity.is_reseller and identity.reseller_id == data["reseller_id"]:
        buyer = identity.buyer()
    elif identity.is_service:
        buyer = {
            "kind": "reseller",
            "reseller_id": data["reseller_id"],
            "customer_id": None,
            "name": data.get("reseller_name") or data["reseller_id"],
            "email": None,
            "user_id": None,
        }
    else:
        raise not_found("quote")
    now, _ = now_and_today()
    with unit_of_work() as uow:
        quote = claim_quote(
            uow.session, data["quote_number"], data["email"], data["reseller_id"], buyer, now, uow
        )
        if quote is None:
            raise not_found("quote")
        body = {
            "customer_id": quote.customer_id,
            "name": quote.customer_name,
            "quote_number": quote.number,
        }
        uow.commit()
    return body


@bp.get("/internal/quotes/<number>/pdf")
def internal_quote_pdf(number: str):
    identity = current_identity()
    if not identity.is_service:
        raise not_found("quote")
    with current_service().sessions() as session:
        return pdf_response(find_quote(session, identity, number), identity)
