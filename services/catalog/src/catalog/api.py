"""The catalog's HTTP API: products priced for the caller, and the internal price administration."""

from __future__ import annotations

from decimal import Decimal

from flask import Blueprint

from catalog import pricing, queries
from catalog.commands import SetPartnerDiscount, SetPrices
from catalog.views import product_view
from portal_contracts.api.products import PartnerDiscountRequest, PriceUpdateRequest
from portal_runtime.errors import NotFound
from portal_runtime.identity import Identity
from portal_runtime.web import current_identity, current_service, json_body, request_id, schema

bp = Blueprint("catalog", __name__)


def currency_of(identity: Identity) -> str:
    return (identity.currency or current_service().config.default_currency).upper()


def require_service(identity: Identity) -> None:
    # Price administration is for the vendor's own tooling, never a portal user.
    if not identity.is_service:
        raise NotFound()


@bp.get("/products")
def list_products():
    identity = current_identity()
    currency = currency_of(identity)
    with current_service().sessions() as session:
        percent = queries.partner_discount(session, identity)
        items = [
            product_view(p, pricing.prices_for(p, currency, percent))
            for p in queries.products(session)
        ]
    return {"items": items, "next_cursor": None}


@bp.get("/products/<code>")
def get_product(code: str):
    identity = current_identity()
    currency = currency_of(identity)
    with current_service().sessions() as session:
        product = queries.product(session, code)
        percent = queries.partner_discount(session, identity)
        return product_view(product, pricing.prices_for(product, currency, percent))


@bp.put("/internal/prices/<code>")
def put_prices(code: str):
    require_service(current_identity())
    data = schema(PriceUpdateRequest).load(json_body())
    changed = current_service().handle(
        SetPrices(
            code=code.upper(),
            currency=data["currency"],
            prices=data["prices"],
            name=data.get("name"),
            includes=data.get("includes"),
        ),
        correlation_id=request_id(),
    )
    currency = data["currency"].upper()
    with current_service().sessions() as session:
        product = queries.product(session, code)
        body = product_view(product, pricing.prices_for(product, currency, Decimal("0")))
    return {**body, "published": changed}


@bp.put("/internal/partner-discounts/<reseller_id>")
def put_partner_discount(reseller_id: str):
    require_service(current_identity())
    data = schema(PartnerDiscountRequest).load(json_body())
    changed = current_service().handle(
        SetPartnerDiscount(reseller_id=reseller_id, percent=data["percent"]),
        correlation_id=request_id(),
    )
    return {"reseller_id": reseller_id, "percent": str(data["percent"]), "published": changed}
