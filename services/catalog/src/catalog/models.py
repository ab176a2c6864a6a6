"""What the catalog stores: products, list prices per currency and term, partner discounts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from portal_runtime.db import Money, UTCDateTime, messaging_models, utcnow


class Base(DeclarativeBase):
    pass


MESSAGING = messaging_models(Base)


class Product(Base):
    __tablename__ = "products"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # Codes of the products a bundle includes (the All Products Pack includes every IDE).
    includes: Mapped[list] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)

    prices: Mapped[list[ListPrice]] = relationship(
        back_populates="product",
        order_by="(ListPrice.currency, ListPrice.term_years, ListPrice.kind)",
        cascade="all, delete-orphan",
    )


class ListPrice(Base):
    """The list price of one product, per currency, term (1 or 2 years) and kind (new/renewal)."""

    __tablename__ = "list_prices"
    __table_args__ = (UniqueConstraint("product_code", "currency", "term_years", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    product_code: Mapped[str] = mapped_column(ForeignKey("products.code"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    term_years: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))
    amount: Mapped[Decimal] = mapped_column(Money())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    product: Mapped[Product] = relationship(back_populates="prices")


class PartnerDiscount(Base):
    """A reseller's discount off list price, in percent."""

    __tablename__ = "partner_discounts"

    reseller_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    percent: Mapped[Decimal] = mapped_column(Money())
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
