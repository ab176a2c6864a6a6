"""The composition root of the orders service: the one place adapters are chosen."""

from __future__ import annotations

from flask import Flask

from orders import SERVICE, api
from orders.config import OrdersConfig, config_from_env
from orders.handlers import COMMAND_HANDLERS, EVENT_HANDLERS
from orders.jobs import JOBS
from orders.models import MESSAGING
from orders.ports import HttpCarts, HttpCustomers, HttpPaymentMethods, HttpPricing
from portal_runtime import web
from portal_runtime.clock import Clock
from portal_runtime.http import ServiceClient
from portal_runtime.service import Service

# Each port, and the service its real adapter reads.
ADAPTERS = {
    "customers": (HttpCustomers, "license-assign"),
    "pricing": (HttpPricing, "cart-quote"),
    "payment_methods": (HttpPaymentMethods, "billing"),
    "carts": (HttpCarts, "cart-quote"),
}


def bootstrap(
    config: OrdersConfig | None = None, *, clock: Clock | None = None, **fakes
) -> Service:
    """The service with the real adapters, except those given as fakes (by port name)."""
    config = config or config_from_env()
    unknown = set(fakes) - set(ADAPTERS)
    if unknown:
        raise TypeError(f"orders has no port {sorted(unknown)}; it has {sorted(ADAPTERS)}")

    def real(adapter, owner: str):
        return adapter(ServiceClient(owner, SERVICE, config.identity_keys, config.http_timeout))

    return Service(
        config,
        package="orders",
        models=MESSAGING,
        handlers=EVENT_HANDLERS,
        commands=COMMAND_HANDLERS,
        jobs=JOBS,
        clock=clock,
        **{name: fakes.get(name) or real(*made) for name, made in ADAPTERS.items()},
    )


# Who may call orders with a service identity, and where (cart-quote reads as the user).
CALLERS = {"cart-quote": ["GET /orders/<number>", "GET /orders"]}


def create_app(service: Service | None = None) -> Flask:
    app = web.create_app(service or bootstrap())
    app.register_blueprint(api.bp)
    web.trust_callers(app, CALLERS)
    return app
