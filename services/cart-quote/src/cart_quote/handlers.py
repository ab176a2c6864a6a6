"""Cart-quote's commands and the events it learns from.

Commands change carts and quotes through ``uow.session`` and record events with ``uow.record``;
the caller commits once. Event handlers keep the catalog's prices and discounts, and close a cart
or quote when an order placed from it is seen. Every event handler is guarded: a replay changes
nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cart_quote.lines import LineSpec, order_line
from cart_quote.models import (
    Cart,
    CartItem,
    CatalogPrice,
    CatalogProduct,
    PartnerDiscount,
    PriceListVersion,
    Quote,
    QuoteLine,
)
from cart_quote.tax import Summary, TaxLine
from portal_runtime import logs
from portal_runtime.consumer import Event
from portal_runtime.identity import Identity
from portal_runtime.uow import UnitOfWork

log = logs.get("cart_quote.handlers")

# -- carts ---------------------------------------------------------------------------------------


def slot(tenant: str, customer_id: str) -> str:
    return f"{tenant}|{customer_id}"


def open_cart(
    session: Session, tenant: str, customer_id: str, now: dt.datetime, idle_days: int
) -> Cart | None:
    """The open cart of this buyer for this customer; one idle too long is expired on the way."""
    cart = session.scalar(select(Cart).where(Cart.open_slot == slot(tenant, customer_id)))
    if cart is not None and cart.updated_at < now - dt.timedelta(days=idle_days):
        close_cart(cart, "expired", now)
        session.flush()
        return None
    return cart


def cart_for_update(
    session: Session, tenant: str, customer_id: str, now: dt.datetime, idle_days: int
) -> Cart:
    cart = open_cart(session, tenant, customer_id, now, idle_days)
    if cart is None:
        cart = Cart(
            tenant=tenant,
            customer_id=customer_id,
            open_slot=slot(tenant, customer_id),
            status="open",
            created_at=now,
            updated_at=now,
        )
        session.add(cart)
    cart.updated_at = now
    return cart


def expire_idle_carts(service) -> int:
    """The periodic sweep: close every open cart idle past ``cart_idle_days``; how many closed.

    Reads expire an idle cart on their own; the sweep keeps the table honest for carts nobody
    opens again.
    """
    now = service.clock.now()
    cutoff = now - dt.timedelta(days=service.config.cart_idle_days)
    with service.uow(correlation_id="job-expire-idle-carts") as uow:
        carts = list(
            uow.session.scalars(
                select(Cart).where(Cart.open_slot.is_not(None), Cart.updated_at < cutoff).limit(500)
            )
        )
        for cart in carts:
            close_cart(cart, "expired", now)
        uow.commit()
    return len(carts)


def close_cart(cart: Cart, status: str, now: dt.datetime, closed_by: str | None = None) -> None:
    cart.status = status
    cart.open_slot = None
    cart.closed_at = now
    cart.closed_by = closed_by


def add_item(cart: Cart, spec: LineSpec) -> CartItem:
    item = CartItem(
        kind=spec.kind,
        product=spec.product,
        quantity=spec.quantity,
        term_years=spec.term_years,
        start_date=spec.start_date,
        co_term_end_date=spec.co_term_end_date,
        fixed_end_date=spec.fixed_end_date,
        from_product=spec.from_product,
        team_id=spec.team_id,
        team_name=spec.team_name,
        subscription_pack=spec.subscription_pack,
        license_ids=list(spec.license_ids),
    )
    cart.items.append(item)
    return item


# -- quotes --------------------------------------------------------------------------------------


def quote_number(quote: Quote) -> str:
    return f"Q-{quote.issued_at.year}-{quote.id:06d}"


def effective_status(quote: Quote, today: dt.date) -> str:
    """``expired`` is an open quote read past its validity."""
    if quote.status == "open" and quote.valid_until < today:
        return "expired"
    return quote.status


@dataclass(frozen=True)
class IssueQuote:
    buyer: Identity
    customer: dict
    end_user: dict
    billing_address: dict
    po_number: str | None
    currency: str
    lines: list[dict]
    issued_at: dt.datetime
    valid_days: int
    # What the lines add up to for this billing address (``tax.summarise``), and the seller.
    summary: Summary
    seller: dict


def issue_quote(cmd: IssueQuote, uow: UnitOfWork) -> Quote:
    """Freeze priced lines into a numbered quote; record ``quotes.quote.issued`` with it."""
    identity = cmd.buyer
    quote = Quote(
        kind="reseller" if identity.is_reseller else "customer",
        tenant=identity.tenant,
        reseller_id=identity.reseller_id if identity.is_reseller else None,
        buyer=identity.buyer(),
        customer_id=cmd.customer["id"],
        customer_name=cmd.customer["name"],
        customer_email=cmd.customer.get("email"),
        end_user=dict(cmd.end_user),
        end_user_email=cmd.end_user["email"],
        billing_address=dict(cmd.billing_address) if cmd.billing_address else None,
        po_number=cmd.po_number,
        currency=cmd.currency,
        subtotal=cmd.summary.subtotal,
        tax=tax_json(cmd.summary.tax),
        seller=dict(cmd.seller),
        total=cmd.summary.total,
        status="open",
        issued_at=cmd.issued_at,
        valid_until=cmd.issued_at.date() + dt.timedelta(days=cmd.valid_days),
    )
    for line in cmd.lines:
        quote.lines.append(QuoteLine(**order_line(line)))
    uow.session.add(quote)
    uow.session.flush()  # the number derives from the row id
    quote.number = quote_number(quote)
    uow.record("quotes.quote.issued", quote_issued_payload(quote))
    return quote


def tax_json(tax: list[TaxLine]) -> list[dict]:
    """Tax lines as stored in a JSON column: decimals as strings, exact."""
    return [{"rate": str(t.rate), "amount": str(t.amount), "note": t.note} for t in tax]


def quote_line_payload(line: QuoteLine) -> dict:
    return {
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
        "license_ids": list(line.license_ids or []),
        "unit_price": line.unit_price,
        "amount": line.amount,
        "product_name": line.product_name,
    }


def customer_of(quote: Quote) -> dict:
    return {"id": quote.customer_id, "name": quote.customer_name, "email": quote.customer_email}


def quote_issued_payload(quote: Quote) -> dict:
    return {
        "quote_number": quote.number,
        "buyer": quote.buyer,
        "reseller_id": quote.reseller_id,
        "customer": customer_of(quote),
        "end_user": quote.end_user,
        "po_number": quote.po_number,
        "lines": [quote_line_payload(line) for line in quote.lines],
        "subtotal": quote.subtotal,
        "tax": quote.tax,
        "total": quote.total,
        "currency": quote.currency,
        "valid_until": quote.valid_until,
        "issued_at": quote.issued_at,
        "billing_address": quote.billing_address,
    }


class QuoteNotOpen(Exception):
    def __init__(self, status: str):
        super().__init__(f"the quote is {status}")
        self.status = status


def cancel_quote(quote: Quote, now: dt.datetime, uow: UnitOfWork) -> None:
    status = effective_status(quote, now.date())
    if status != "open":
        raise QuoteNotOpen(status)
    quote.status = "cancelled"
    quote.cancelled_at = now
    uow.record(
        "quotes.quote.cancelled",
        {
            "quote_number": quote.number,
            "reseller_id": quote.reseller_id,
            "customer_id": quote.customer_id,
        },
    )


def claim_quote(
    session: Session,
    number: str,
    email: str,
    reseller_id: str,
    buyer: dict,
    now: dt.datetime,
    uow: UnitOfWork,
) -> Quote | None:
    """A direct quote becomes this reseller's, if open, unexpired and the licensee's email matches.

    Every failure is the same ``None``: the caller learns nothing about which part was wrong.
    """
    # Locked: of two claims at once, the second reads the quote as the first left it.
    quote = session.scalar(
        select(Quote)
        .where(Quote.number == number.strip().upper())
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if (
        quote is None
        or quote.kind != "direct"
        or quote.tenant is not None
        or effective_status(quote, now.date()) != "open"
        or quote.end_user_email.strip().lower() != email.strip().lower()
    ):
        return None
    quote.kind = "reseller"
    quote.tenant = f"reseller:{reseller_id}"
    quote.reseller_id = reseller_id
    quote.buyer = buyer
    quote.converted_at = now
    uow.record(
        "quotes.quote.converted",
        {
            "quote_number": quote.number,
            "reseller_id": reseller_id,
            "customer_id": quote.customer_id,
        },
    )
    return quote


# -- what other services tell us -----------------------------------------------------------------


def store_price_list(event: Event, uow: UnitOfWork) -> None:
    """Keep the price book of one currency; an older book than the one held is ignored."""
    payload = event.payload
    session = uow.session
    currency = payload["currency"]
    effective_at = payload["effective_at"]
    version = session.get(PriceListVersion, currency)
    if version is not None and version.effective_at >= effective_at:
        return
    if version is None:
        session.add(PriceListVersion(currency=currency, effective_at=effective_at))
    else:
        version.effective_at = effective_at
    # The event is the whole book of the currency: replace what we held.
    session.execute(delete(CatalogPrice).where(CatalogPrice.currency == currency))
    for product in payload["products"]:
        row = session.get(CatalogProduct, product["code"])
        if row is None:
            session.add(
                CatalogProduct(
                    code=product["code"], name=product["name"], includes=product["includes"]
                )
            )
        else:
            row.name = product["name"]
            row.includes = list(product["includes"])
        for price in product["prices"]:
            session.add(
                CatalogPrice(
                    currency=currency,
                    product=product["code"],
                    term_years=price["term_years"],
                    kind=price["kind"],
                    amount=price["amount"],
                )
            )


def store_partner_discount(event: Event, uow: UnitOfWork) -> None:
    payload = event.payload
    row = uow.session.get(PartnerDiscount, payload["reseller_id"])
    if row is None:
        uow.session.add(
            PartnerDiscount(
                reseller_id=payload["reseller_id"],
                percent=payload["percent"],
                effective_at=payload["effective_at"],
            )
        )
    elif row.effective_at < payload["effective_at"]:
        row.percent = payload["percent"]
        row.effective_at = payload["effective_at"]


def tenant_of_buyer(buyer: dict) -> str:
    if buyer["kind"] == "reseller":
        return f"reseller:{buyer['reseller_id']}"
    return f"customer:{buyer['customer_id']}"


def close_ordered(event: Event, uow: UnitOfWork) -> None:
    """An order was placed from a cart (the cart is closed) or a quote (it becomes ordered)."""
    payload = event.payload
    source = payload["source"]
    session = uow.session
    now = payload["placed_at"]
    if source["kind"] == "quote" and source.get("reference"):
        quote = session.scalar(select(Quote).where(Quote.number == source["reference"]))
        if quote is not None and quote.status == "cancelled":
            # Cancelled in the moment between its order and this event: the order stands
            # (it is invoiced and licensed), so the quote is ordered, not cancelled.
            log.warning("quote.ordered_after_cancel", quote=quote.number)
            quote.cancelled_at = None
        if quote is not None and quote.status in ("open", "cancelled"):
            quote.status = "ordered"
            quote.ordered_at = now
            quote.order_number = payload["order_number"]
    elif source["kind"] == "cart":
        cart = None
        reference = source.get("reference")
        if reference and str(reference).isdigit():
            cart = session.get(Cart, int(reference))
        if cart is None:
            tenant = tenant_of_buyer(payload["buyer"])
            customer_id = payload["customer"]["id"]
            cart = session.scalar(select(Cart).where(Cart.open_slot == slot(tenant, customer_id)))
        if cart is not None and cart.status == "open":
            close_cart(cart, "ordered", now, payload["order_number"])


EVENT_HANDLERS = {
    "catalog.price_list.published": [store_price_list],
    "catalog.partner_discount.changed": [store_partner_discount],
    "orders.order.placed": [close_ordered],
}
