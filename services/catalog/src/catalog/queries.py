"""The read side: products in the catalog's order, and what a caller pays."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.models import PartnerDiscount, Product
from portal_runtime.errors import NotFound
from portal_runtime.identity import Identity


def products(session: Session) -> list[Product]:
    return list(session.scalars(select(Product).order_by(Product.position, Product.code)))


def product(session: Session, code: str) -> Product:
    found = session.get(Product, code.upper())
    if found is None:
        raise NotFound("product")
    return found


def partner_discount(session: Session, identity: Identity) -> Decimal:
    """A reseller's partner discount in percent; 0 for anyone else (a customer pays list)."""
    buying_as_reseller = identity.is_reseller and identity.reseller_id
    row = session.get(PartnerDiscount, identity.reseller_id) if buying_as_reseller else None
    return Decimal("0") if row is None else row.percent
