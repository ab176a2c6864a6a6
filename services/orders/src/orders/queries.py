"""The read side: one's own orders, found by number or searched (``GET /orders``)."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from orders.models import Order
from portal_runtime.errors import NotFound
from portal_runtime.identity import Identity
from portal_runtime.queries import contains, equals_ci, on_days, page


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
    """One of the caller's orders with its lines and licenses; ``lock`` to change it."""
    query = owned_by(select(Order).where(Order.number == number), identity).options(
        selectinload(Order.lines), selectinload(Order.licenses)
    )
    if lock:
        query = query.with_for_update()
    order = session.scalar(query)
    if order is None:
        raise NotFound("order")
    return order


def ordered_as(session: Session, source_key: str) -> str | None:
    """The number of the order a cart or quote already became, if it did."""
    return session.scalar(select(Order.number).where(Order.source_key == source_key))


def search(
    session: Session, identity: Identity, args: dict, limit: str | None, cursor: str | None
) -> tuple[list[Order], str | None]:
    """The caller's orders matching ``args`` (``OrderSearchArgs``), newest first, a page."""
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
    query = on_days(query, Order.placed_at, args.get("from_"), args.get("to"))
    return page(session, query, Order.id, limit, cursor, keys_first=True)
