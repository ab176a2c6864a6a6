"""``/customers/{id}/cart``: the buyer's cart for a customer, and its lines."""

from __future__ import annotations

from flask import Blueprint, request

from cart_quote import queries
from cart_quote.api.common import buyer_on, handle
from cart_quote.commands import AddCartLines, RemoveCartItem, UpdateCartItem
from cart_quote.views import cart_view
from portal_contracts.api.carts import CartItemRequest, CartItemUpdateRequest, CartQueryArgs
from portal_runtime.identity import Identity
from portal_runtime.web import current_service, json_body, schema

bp = Blueprint("carts", __name__)


def cart_answer(identity: Identity, customer_id: str, address: dict | None = None) -> dict:
    """The buyer's cart as it stands, priced now (with tax for ``address`` if given)."""
    service = current_service()
    config = service.config
    with service.sessions() as session:
        priced = queries.priced_cart(
            session,
            identity,
            customer_id,
            service.clock.now(),
            idle_days=config.cart_idle_days,
            default_currency=config.default_currency,
            seller_country=config.seller.country,
            address=address,
        )
        return cart_view(priced, customer_id, config.cart_idle_days)


@bp.get("/customers/<customer_id>/cart")
def get_cart(customer_id: str):
    identity = buyer_on(customer_id)
    # ?country=&vat_id= : the billing address the tax is shown for (checkout passes its own).
    args = schema(CartQueryArgs).load(request.args.to_dict())
    address = (
        {"country": args["country"], "vat_id": args.get("vat_id") or None}
        if args.get("country")
        else None
    )
    return cart_answer(identity, customer_id, address)


@bp.post("/customers/<customer_id>/cart/items")
def add_cart_item(customer_id: str):
    identity = buyer_on(customer_id)
    data = schema(CartItemRequest).load(json_body(optional=True))
    item_id = handle(AddCartLines(identity, customer_id, (data,)))
    location = f"/api/v1/customers/{customer_id}/cart/items/{item_id}"
    return cart_answer(identity, customer_id), 201, {"Location": location}


@bp.patch("/customers/<customer_id>/cart/items/<int:item_id>")
def update_cart_item(customer_id: str, item_id: int):
    identity = buyer_on(customer_id)
    data = schema(CartItemUpdateRequest).load(json_body(optional=True))
    handle(UpdateCartItem(identity, customer_id, item_id, changes=data))
    return cart_answer(identity, customer_id)


@bp.delete("/customers/<customer_id>/cart/items/<int:item_id>")
def remove_cart_item(customer_id: str, item_id: int):
    identity = buyer_on(customer_id)
    handle(RemoveCartItem(identity, customer_id, item_id))
    return cart_answer(identity, customer_id)
