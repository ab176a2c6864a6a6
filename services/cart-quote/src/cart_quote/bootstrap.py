"""The composition root of the cart-quote service: the one place adapters are chosen."""

from __future__ import annotations

import os

from flask import Flask

from cart_quote import SERVICE, api, handlers
from cart_quote.config import CartQuoteConfig
from cart_quote.models import MESSAGING
from cart_quote.readers import HttpCustomers, HttpLicenses, HttpOrders
from portal_runtime import web
from portal_runtime.clock import Clock
from portal_runtime.http import ServiceClient
from portal_runtime.service import Job, Service

JOBS = (Job("expire-idle-carts", 3600, handlers.expire_idle_carts),)


def bootstrap(
    config: CartQuoteConfig | None = None,
    *,
    clock: Clock | None = None,
    customers=None,
    licenses=None,
    orders=None,
) -> Service:
    config = config or CartQuoteConfig.from_env(
        SERVICE,
        cart_idle_days=int(os.environ.get("CART_IDLE_DAYS", "7")),
        quote_valid_days=int(os.environ.get("QUOTE_VALID_DAYS", "30")),
    )

    def client(name: str) -> ServiceClient:
        return ServiceClient(name, SERVICE, config.identity_keys, config.http_timeout)

    return Service(
        config,
        package="cart_quote",
        models=MESSAGING,
        handlers=handlers.EVENT_HANDLERS,
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
    app.register_blueprint(api.bp)
    web.trust_callers(app, CALLERS)
    return app
