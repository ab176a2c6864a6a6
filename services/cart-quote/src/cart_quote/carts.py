"""The one open cart of a buyer (tenant) for a customer account, and its lines.

A cart is held in ``open_slot`` (``"<tenant>|<customer_id>"``, unique) while open, so there is at
most one per pair; a cart nobody touched for ``cart_idle_days`` is expired: a write closes it on
the way, a read treats it as gone, and the hourly sweep (``jobs``) closes the rest.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from cart_quote.lines import LineSpec
from cart_quote.models import Cart, CartItem, CartStatus


def slot(tenant: str, customer_id: str) -> str:
    return f"{tenant}|{customer_id}"


def held(session: Session, tenant: str, customer_id: str) -> Cart | None:
    """The cart in this pair's slot, idle or not."""
    return session.scalar(select(Cart).where(Cart.open_slot == slot(tenant, customer_id)))


def open_cart(
    session: Session, tenant: str, customer_id: str, now: dt.datetime, idle_days: int
) -> Cart | None:
    """The open cart of this buyer for this customer; one idle too long is closed on the way."""
    cart = held(session, tenant, customer_id)
    if cart is not None and cart.idle_since(now, idle_days):
        cart.close(CartStatus.EXPIRED, now)
        session.flush()
        return None
    return cart


def cart_for_update(
    session: Session, tenant: str, customer_id: str, now: dt.datetime, idle_days: int
) -> Cart:
    """The open cart, opened if there is none, touched (its idle time starts again)."""
    cart = open_cart(session, tenant, customer_id, now, idle_days)
    if cart is None:
        cart = Cart(
            tenant=tenant,
            customer_id=customer_id,
            open_slot=slot(tenant, customer_id),
            status=CartStatus.OPEN,
            created_at=now,
            updated_at=now,
        )
        session.add(cart)
    cart.updated_at = now
    return cart


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


def item_of(cart: Cart, item_id: int) -> CartItem | None:
    return next((i for i in cart.items if i.id == item_id), None)


def licenses_in(cart: Cart) -> set[str]:
    """The licenses the cart's lines already renew, upgrade or downgrade."""
    return {lid for item in cart.items for lid in item.license_ids or []}
