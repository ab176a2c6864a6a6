"""Cart-quote's HTTP API, a module per resource: ``carts`` (the cart and its lines), ``quotes``
(Get Quote, search, PDF, cancel), ``orders`` (renew or copy an order into the cart) and
``internal`` (pricing for orders, claims, the PDF for notifications).

Views translate HTTP to a command (``current_service().handle``) or a query and back; the rules
are in the domain modules and handlers.
"""

from __future__ import annotations

from flask import Flask

from cart_quote.api import carts, internal, orders, quotes
from cart_quote.price_book import PriceListMissing
from portal_runtime.problems import Problem, response

BLUEPRINTS = (carts.bp, quotes.bp, orders.bp, internal.bp)
# How long a caller is asked to wait for a price list still on its way from the catalog.
PRICE_LIST_RETRY_AFTER = 5


def register(app: Flask) -> None:
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    app.register_error_handler(PriceListMissing, price_list_missing)


def price_list_missing(exc: PriceListMissing):
    return response(Problem(503, str(exc), headers={"Retry-After": str(PRICE_LIST_RETRY_AFTER)}))
