"""Cart-quote's command handlers and the events it learns from.

Command handlers change carts and quotes through ``uow.session`` and record events with
``uow.record``; ``service.handle`` commits once. Event handlers keep the catalog's prices and
discounts, and close a cart or quote when an order placed from it is seen; each is guarded, so a
replay changes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from cart_quote import carts, events, queries, quotes, renewals
from cart_quote.commands import (
    AddCartLines,
    CancelQuote,
    ClaimQuote,
    CopyOrder,
    IssueQuote,
    RemoveCartItem,
    RenewOrder,
    UpdateCartItem,
)
from cart_quote.config import CartQuoteConfig
from cart_quote.lines import (
    check_placement,
    order_line,
    priced,
    priced_lines,
    refuse_licenses_twice,
    resolve,
    set_end_date,
)
from cart_quote.models import (
    Cart,
    CartItem,
    CartStatus,
    CatalogPrice,
    CatalogProduct,
    PartnerDiscount,
    PriceListVersion,
    Quote,
    QuoteStatus,
)
from cart_quote.price_book import book_for
from cart_quote.tax import summary_for
from portal_runtime import logs
from portal_runtime.clock import Clock
from portal_runtime.consumer import Event
from portal_runtime.errors import Conflict, Invalid, NotFound
from portal_runtime.identity import Identity
from portal_runtime.uow import UnitOfWork

if TYPE_CHECKING:  # the ports module brings the HTTP client with it
    from cart_quote.ports import Customers, Licenses, Orders

log = logs.get("cart_quote.handlers")

# -- carts ---------------------------------------------------------------------------------------


def add_cart_lines(
    cmd: AddCartLines, uow: UnitOfWork, licenses: Licenses, config: CartQuoteConfig, clock: Clock
) -> int:
    """Add the lines; returns the id of the last one added."""
    item = fill_cart(uow, cmd.buyer, cmd.customer_id, cmd.lines, licenses, config, clock.now())
    return item.id


def order_into_cart(
    cmd: RenewOrder | CopyOrder,
    uow: UnitOfWork,
    orders: Orders,
    licenses: Licenses,
    config: CartQuoteConfig,
    clock: Clock,
) -> str:
    """Renewal lines for an order's licenses, or its new lines again (``renewals``), into the
    cart of the order's customer; returns that customer."""
    order = order_of(orders, cmd.buyer, cmd.order_number)
    if isinstance(cmd, RenewOrder):
        lines = renewals.renewal_lines(order, licenses)
    else:
        lines = renewals.copied_lines(order)
    customer_id = order["customer"]["id"]
    fill_cart(uow, cmd.buyer, customer_id, lines, licenses, config, clock.now())
    return customer_id


def order_of(orders: Orders, buyer: Identity, number: str) -> dict:
    # The order being the caller's own (orders answers 404 otherwise) is the right to act on it.
    order = orders.get(buyer, number)
    if order is None:
        raise NotFound("order")
    return order


def fill_cart(
    uow: UnitOfWork,
    buyer: Identity,
    customer_id: str,
    requests,
    licenses: Licenses,
    config: CartQuoteConfig,
    now: dt.datetime,
) -> CartItem:
    """Check the requested lines and add them to the buyer's cart, opened if need be."""
    today = now.date()
    book = book_for(uow.session, buyer, config.default_currency)
    specs = [resolve(r, customer_id, book, licenses, today) for r in requests]
    for spec in specs:
        priced(spec, book, today, 1)  # a line that cannot be priced is refused now
    for attempt in (1, 2):
        try:
            with uow.session.begin_nested():
                cart = carts.cart_for_update(
                    uow.session, buyer.tenant, customer_id, now, config.cart_idle_days
                )
                refuse_licenses_twice(specs, carts.licenses_in(cart))
                items = [carts.add_item(cart, spec) for spec in specs]
                uow.session.flush()
            return items[-1]
        except IntegrityError:
            # Two first lines at once both opened a cart; the loser adds to the winner's.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def cart_item(
    uow: UnitOfWork,
    buyer: Identity,
    customer_id: str,
    item_id: int,
    config: CartQuoteConfig,
    now: dt.datetime,
) -> tuple[Cart, CartItem]:
    """The buyer's cart (touched) and one of its items; 404 for an item not in it."""
    cart = carts.cart_for_update(uow.session, buyer.tenant, customer_id, now, config.cart_idle_days)
    item = carts.item_of(cart, item_id)
    if item is None:
        raise NotFound("cart item")
    return cart, item


def update_cart_item(
    cmd: UpdateCartItem,
    uow: UnitOfWork,
    licenses: Licenses,
    config: CartQuoteConfig,
    clock: Clock,
) -> None:
    changes = cmd.changes
    check_placement(
        licenses, cmd.customer_id, changes.get("team_id"), changes.get("subscription_pack")
    )
    now = clock.now()
    _, item = cart_item(uow, cmd.buyer, cmd.customer_id, cmd.item_id, config, now)
    if "quantity" in changes:
        if item.kind != "new":
            raise Invalid("quantity", f"A {item.kind} line covers exactly its licenses.")
        item.quantity = changes["quantity"]
    if "end_date" in changes:
        book = book_for(uow.session, cmd.buyer, config.default_currency)
        start = priced(item, book, now.date(), 1)["start_date"]
        set_end_date(item, changes["end_date"], start)
    if "team_id" in changes:
        item.team_id = changes["team_id"]
        if changes["team_id"]:
            item.team_name = None
    if "team_name" in changes:
        item.team_name = changes["team_name"]
        if changes["team_name"]:
            item.team_id = None
    if "subscription_pack" in changes:
        item.subscription_pack = changes["subscription_pack"]


def remove_cart_item(
    cmd: RemoveCartItem, uow: UnitOfWork, config: CartQuoteConfig, clock: Clock
) -> None:
    cart, item = cart_item(uow, cmd.buyer, cmd.customer_id, cmd.item_id, config, clock.now())
    cart.items.remove(item)


# -- quotes --------------------------------------------------------------------------------------


def issue_quote(
    cmd: IssueQuote,
    uow: UnitOfWork,
    customers: Customers,
    config: CartQuoteConfig,
    clock: Clock,
) -> Quote:
    """Freeze the cart's priced lines into a numbered quote, record ``quotes.quote.issued`` and
    close the cart (its lines now live in the quote; the next cart starts empty)."""
    buyer = cmd.buyer
    now = clock.now()
    customer = quotes.customer_record(customers, cmd.customer_id)
    cart = carts.open_cart(uow.session, buyer.tenant, cmd.customer_id, now, config.cart_idle_days)
    if cart is None or not cart.items:
        raise Conflict("The cart is empty: add lines before getting a quote.")
    book = book_for(uow.session, buyer, config.default_currency)
    lines = priced_lines(cart, book, now.date())
    summary = summary_for(
        (line["amount"] for line in lines),
        cmd.billing_address,
        seller_country=config.seller.country,
        on=now.date(),
    )
    quote = quotes.new_quote(
        buyer,
        customer,
        end_user=cmd.end_user,
        billing_address=cmd.billing_address,
        po_number=cmd.po_number,
        currency=book.currency,
        lines=[order_line(line) for line in lines],
        summary=summary,
        seller=config.seller.as_dict(),
        issued_at=now,
        valid_days=config.quote_valid_days,
    )
    uow.session.add(quote)
    uow.session.flush()  # the number derives from the row id
    quote.number = quotes.number_of(quote)
    uow.record("quotes.quote.issued", events.quote_issued(quote))
    cart.close(CartStatus.QUOTED, now, quote.number)
    return quote


def cancel_quote(cmd: CancelQuote, uow: UnitOfWork, orders: Orders, clock: Clock) -> Quote:
    queries.find_quote(uow.session, cmd.caller, cmd.quote_number)  # 404 before asking anyone
    # Ordering a quote reaches us as an event a moment later; orders knows at once.
    order = orders.of_quote(cmd.caller, cmd.quote_number)
    if order is not None:
        raise Conflict(f"This quote has been ordered ({order['number']}); it cannot be cancelled.")
    quote = queries.find_quote(uow.session, cmd.caller, cmd.quote_number, fresh=True)
    quote.cancel(clock.now())
    uow.record("quotes.quote.cancelled", events.quote_cancelled(quote))
    return quote


def claim_quote(cmd: ClaimQuote, uow: UnitOfWork, clock: Clock) -> Quote:
    """A direct quote becomes this reseller's (``quotes.claimable``); every failure is the same
    404, so the caller learns nothing about which part was wrong."""
    buyer = quotes.claimant(cmd.caller, cmd.reseller_id, cmd.reseller_name)
    now = clock.now()
    # Locked: of two claims at once, the second reads the quote as the first left it.
    quote = uow.session.scalar(
        select(Quote)
        .where(Quote.number == cmd.quote_number.strip().upper())
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if not quotes.claimable(quote, cmd.email, now.date()):
        raise NotFound("quote")
    quote.claim(cmd.reseller_id, buyer, now)
    uow.record("quotes.quote.converted", events.quote_converted(quote))
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
        if quote is None:
            return
        if quote.status == QuoteStatus.CANCELLED:
            # Cancelled in the moment between its order and this event: the order stands
            # (it is invoiced and licensed), so the quote is ordered, not cancelled.
            log.warning("quote.ordered_after_cancel", quote=quote.number)
        quote.mark_ordered(payload["order_number"], now)
    elif source["kind"] == "cart":
        cart = None
        reference = source.get("reference")
        if reference and str(reference).isdigit():
            cart = session.get(Cart, int(reference))
        if cart is None:
            tenant = tenant_of_buyer(payload["buyer"])
            cart = carts.held(session, tenant, payload["customer"]["id"])
        if cart is not None and cart.status == CartStatus.OPEN:
            cart.close(CartStatus.ORDERED, now, payload["order_number"])


COMMAND_HANDLERS = {
    AddCartLines: add_cart_lines,
    UpdateCartItem: update_cart_item,
    RemoveCartItem: remove_cart_item,
    RenewOrder: order_into_cart,
    CopyOrder: order_into_cart,
    IssueQuote: issue_quote,
    CancelQuote: cancel_quote,
    ClaimQuote: claim_quote,
}
EVENT_HANDLERS = {
    "catalog.price_list.published": [store_price_list],
    "catalog.partner_discount.changed": [store_partner_discount],
    "orders.order.placed": [close_ordered],
}
