"""The composition root of the orders service: the one place adapters are chosen."""

from __future__ import annotations

import os

from flask import Flask

from orders import SERVICE, api, handlers, idempotency
from orders.config import OrdersConfig
from orders.models import MESSAGING
from orders.readers import HttpCarts, HttpCustomers, HttpPaymentMethods, HttpPricing
from portal_runtime import web
from portal_runtime.clock import Clock
from portal_runtime.http import ServiceClient
from portal_runtime.service import Job, Service

JOBS = (
    # Keys must live at least 24 hours; forgetting older ones hourly keeps the table small.
    Job("forget-idempotency-keys", 3600.0, idempotency.forget_expired_keys),
)


def config_from_env() -> OrdersConfig:
    return OrdersConfig.from_env(
        SERVICE,
        portal_base_url=os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8080"),
        idempotency_hours=int(os.environ.get("IDEMPOTENCY_HOURS", "48")),
        cancel_window_days=int(os.environ.get("ORDER_CANCEL_WINDOW_DAYS", "7")),
    )


def bootstrap(
    config: OrdersConfig | None = None,
    *,
    clock: Clock | None = None,
    customers=None,
    pricing=None,
    payment_methods=None,
    carts=None,
) -> Service:
    config = config or config_from_env()

    def client(name: str) -> ServiceClient:
        return ServiceClient(name, SERVICE, config.identity_keys, config.http_timeout)

    return Service(
        config,
        package="orders",
        models=MESSAGING,
        handlers=handlers.EVENT_HANDLERS,
        jobs=JOBS,
        clock=clock,
        customers=customers or HttpCustomers(client("license-assign")),
        pricing=pricing or HttpPricing(client("cart-quote")),
        payment_methods=payment_methods or HttpPaymentMethods(client("billing")),
        carts=carts or HttpCarts(client("cart-quote")),
    )


# Who may call orders with a service identity, and where (cart-quote reads as the user).
CALLERS = {"cart-quote": ["GET /orders/<number>", "GET /orders"]}


def create_app(service: Service | None = None) -> Flask:
    app = web.create_app(service or bootstrap())
    app.register_blueprint(api.bp)
    web.trust_callers(app, CALLERS)
    return app
