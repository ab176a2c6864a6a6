"""The composition root of the catalog service."""

from __future__ import annotations

from flask import Flask

from catalog import SERVICE, api, handlers
from catalog.config import CatalogConfig
from catalog.models import MESSAGING
from portal_runtime import web
from portal_runtime.clock import Clock
from portal_runtime.service import Service


def bootstrap(config: CatalogConfig | None = None, *, clock: Clock | None = None) -> Service:
    config = config or CatalogConfig.from_env(SERVICE)
    return Service(
        config,
        package="catalog",
        models=MESSAGING,
        handlers=handlers.EVENT_HANDLERS,
        clock=clock,
    )


# Who may call catalog with a service identity, and where: operators' tools set prices.
CALLERS = {
    "ops": ["PUT /internal/prices/<code>", "PUT /internal/partner-discounts/<reseller_id>"],
}


def create_app(service: Service | None = None) -> Flask:
    app = web.create_app(service or bootstrap())
    app.register_blueprint(api.bp)
    web.trust_callers(app, CALLERS)
    return app
