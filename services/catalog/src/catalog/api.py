"""The catalog's HTTP API: products priced for the caller, and the internal price administration."""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint
from sqlalchemy import select

from catalog.handlers import (
    SetPartnerDiscount,
    SetPrices,
    UnknownProduct,
    set_partner_discount,
    set_prices,
)
from catalog.models import PartnerDiscount, Product
from catalog.views import product_view
from portal_contracts.api.products import PartnerDiscountRequest, PriceUpdateRequest
from portal_runtime.identity import Identity
from portal_runtime.problems import invalid, not_found
from portal_runtime.web import current_identity, current_service, json_body, unit_of_work

bp = Blueprint("catalog", __name__)


def pricing_for(session, identity: Identity) -> tuple[str, Decimal]:
    """The caller's currency and discount: a reseller pays list less its partner discount."""
    currency = (identity.currency or current_service().config.default_currency).upper()
    percent = Decimal("0")
    if identity.is_reseller and identity.reseller_id:
        row = session.get(PartnerDiscount, identity.reseller_id)
        if row is not None:
            percent = row.percent
    return currency, percent


def require_service(identity: Identity) -> None:
    # Price administration is for the vendor's own tooling, never a portal user.
    if not identity.is_service:
        raise not_found()


@bp.get("/products")
def list_products():
    identity = current_identity()
    with current_service().sessions() as session:
        currency, percent = pricing_for(session, identity)
        products = session.scalars(select(Product).order_by(Product.position, Product.code))
        items = [product_view(p, currency, percent) for p in products]
    return {"items": items, "next_cursor": None}


@bp.get("/products/<code>")
def get_product(code: str):
    identity = current_identity()
    with current_service().sessions() as session:
        product = session.get(Product, code.upper())
        if product is None:
            raise not_found("product")
        currency, percent = pricing_for(session, identity)
        return product_view(product, currency, percent)


@bp.put("/internal/prices/<code>")
def put_prices(code: str):
    require_service(current_identity())
    data = PriceUpdateRequest().load(json_body())
    with unit_of_work() as uow:
        try:
            outcome = set_prices(
                SetPrices(
                    code=code.upper(),
                    currency=data["currency"],
                    prices=data["prices"],
                    name=data.get("name"),
                    includes=data.get("includes"),
                    at=current_service().clock.now(),
                ),
                uow,
            )
        except UnknownProduct:
            raise invalid({"name": ["Required to create a new product."]})
        uow.commit()
    with current_service().sessions() as session:
        product = session.get(Product, code.upper())
        body = product_view(product, data["currency"].upper(), Decimal("0"))
    return {**body, "published": outcome.changed}


@bp.put("/internal/partner-discounts/<reseller_id>")
def put_partner_discount(reseller_id: str):
    require_service(current_identity())
    data = PartnerDiscountRequest().load(json_body())
    with unit_of_work() as uow:
        outcome = set_partner_discount(
            SetPartnerDiscount(
                reseller_id=reseller_id, percent=data["percent"], at=current_service().clock.now()
            ),
            uow,
        )
        uow.commit()
    return {
        "reseller_id": reseller_id,
        "percent": str(data["percent"]),
        "published": outcome.changed,
    }
