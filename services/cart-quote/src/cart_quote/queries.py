"""The read side: a buyer's cart priced as it stands, and the caller's own quotes."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session, selectinload

from cart_quote import carts
from cart_quote.lines import priced_lines
from cart_quote.models import Cart, Quote, QuoteStatus
from cart_quote.price_book import book_for
from cart_quote.tax import Summary, summary_for
from portal_runtime.errors import NotFound
from portal_runtime.identity import Identity
from portal_runtime.queries import contains, equals_ci, on_days, page


@dataclass(frozen=True)
class PricedCart:
    """A cart (None: there is none open) with its lines priced today and what they add up to."""

    cart: Cart | None
    currency: str
    lines: list[dict]
    summary: Summary


def priced_cart(
    session: Session,
    identity: Identity,
    customer_id: str,
    now: dt.datetime,
    *,
    idle_days: int,
    default_currency: str,
    seller_country: str,
    address: dict | None = None,
) -> PricedCart:
    """The buyer's open cart priced now (an idle one is none). A cart knows no billing address:
    it shows the tax for the one its reader names (checkout names its own), and none before that
    (422 for a VAT ID that cannot be used)."""
    book = book_for(session, identity, default_currency)
    cart = carts.held(session, identity.tenant, customer_id)
    if cart is not None and cart.idle_since(now, idle_days):
        cart = None
    lines = priced_lines(cart, book, now.date())
    amounts = [line["amount"] for line in lines]
    if address:
        summary = summary_for(amounts, address, seller_country=seller_country, on=now.date())
    else:
        summary = Summary(sum(amounts, Decimal("0.00")), [])
    return PricedCart(cart, book.currency, lines, summary)


def owned_quotes(query: Select, identity: Identity) -> Select:
    """Only the caller's own quotes (a service sees all)."""
    if identity.is_service:
        return query
    return query.where(Quote.tenant == identity.tenant)


def find_quote(session: Session, identity: Identity, number: str, fresh: bool = False) -> Quote:
    """One of the caller's quotes, with its lines; ``fresh`` reads it again over what the
    session holds."""
    query = owned_quotes(select(Quote).where(Quote.number == number.strip().upper()), identity)
    query = query.options(selectinload(Quote.lines))
    if fresh:
        query = query.execution_options(populate_existing=True)
    quote = session.scalar(query)
    if quote is None:
        raise NotFound("quote")
    return quote


# A whole quote number, as ``quotes.number_of`` writes them.
WHOLE_NUMBER = re.compile(r"Q-\d{4}-\d{6,}", re.IGNORECASE)


def number_matches(text: str):
    """Quotes whose number contains ``text``; a whole number is that quote alone, found by the
    unique index (its trigrams are shared by every number of the year, so a partial match
    would read them all)."""
    text = text.strip()
    if WHOLE_NUMBER.fullmatch(text):
        return Quote.number == text.upper()
    return contains(Quote.number, text)


def search_quotes(
    session: Session,
    identity: Identity,
    args: dict,
    today: dt.date,
    limit: str | None,
    cursor: str | None,
) -> tuple[list[Quote], str | None]:
    """The caller's quotes matching ``args`` (``QuoteSearchArgs``), a page, by id."""
    query = owned_quotes(select(Quote).where(Quote.number.is_not(None)), identity).options(
        selectinload(Quote.lines)  # every quote of the page shows its lines
    )
    if args.get("number"):
        query = query.where(number_matches(args["number"]))
    if args.get("customer_name"):
        query = query.where(contains(Quote.customer_name, args["customer_name"]))
    if args.get("customer_email"):
        # The customer's own email, or the end user's (licensee) the quote is for.
        email = args["customer_email"]
        query = query.where(
            or_(equals_ci(Quote.customer_email, email), equals_ci(Quote.end_user_email, email))
        )
    query = on_days(query, Quote.issued_at, args.get("from_"), args.get("to"))
    status = args.get("status")
    if status == QuoteStatus.OPEN:
        query = query.where(Quote.status == QuoteStatus.OPEN, Quote.valid_until >= today)
    elif status == QuoteStatus.EXPIRED:
        query = query.where(Quote.status == QuoteStatus.OPEN, Quote.valid_until < today)
    elif status:
        query = query.where(Quote.status == status)
    return page(session, query, Quote.id, limit, cursor, keys_first=True)
