"""``/orders/{number}/renew`` and ``/copy``: an order of the caller's into its customer's cart."""

from __future__ import annotations

from flask import Blueprint

from cart_quote.api.carts import cart_answer
from cart_quote.api.common import buyer, handle
from cart_quote.commands import CopyOrder, RenewOrder

bp = Blueprint("orders", __name__)


@bp.post("/orders/<number>/renew")
def renew_order(number: str):
    identity = buyer()
    customer_id = handle(RenewOrder(identity, number))
    return cart_answer(identity, customer_id)


@bp.post("/orders/<number>/copy")
def copy_order(number: str):
    identity = buyer()
    customer_id = handle(CopyOrder(identity, number))
    return cart_answer(identity, customer_id)
