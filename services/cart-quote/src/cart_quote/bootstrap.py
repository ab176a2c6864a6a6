"""The composition root of the cart-quote service: the one place adapters are chosen."""

from __future__ import annotations

from flask import Flask

from cart_quote import SERVICE, api, handlers
from cart_quote.config import CartQuoteConfig, config_from_env
from cart_quote.jobs import JOBS
from cart_quote.models import MESSAGING
from cart_quote.ports import HttpCustomers, HttpLicenses, HttpOrders
from portal_runtime import web
from portal_runtime.clock import Clock
from portal_runtime.http import ServiceClient
from portal_runtime.service import Service


def bootstrap(
    config: CartQuoteConfig | None = None,
    *,
    clock: Clock | None = None,
    customers=None,
    licenses=None,
    orders=None,
) -> Service:
    """The service with license-assign's and orders' HTTP readers unless fakes are given."""
    config = config or config_from_env()

    def client(name: str) -> ServiceClient:
        return ServiceClient(name, SERVICE, config.identity_keys, config.http_timeout)

    return Service(
        config,
        package="cart_quote",
        models=MESSAGING,
        handlers=handlers.EVENT_HANDLERS,
        commands=handlers.COMMAND_HANDLERS,
        jobs=JOBS,
        clock=clock,
        customers=customers or HttpCustomers(client("license-assign")),
        licenses=licenses or HttpLicenses(client("license-assign")),
        orders=orders or HttpOrders(client("orders")),
    )


# Who may call cart-quote with a service identity, and where (orders reads as the buyer).
CALLERS = {
    "gateway": ["POST /internal/quotes/claim"],
    "orders": [
        "POST /internal/pricing",
        "GET /customers/<customer_id>/cart",
        "GET /quotes/<number>",
    ],
    "notifications": ["GET /internal/quotes/<number>/pdf"],
}


def create_app(service: Service | None = None) -> Flask:
    app = web.create_app(service or bootstrap())
    api.register(app)
    web.trust_callers(app, CALLERS)
    return app
