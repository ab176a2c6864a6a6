"""The composition root of the catalog service (it needs no adapters: it reads nobody)."""

from __future__ import annotations

from flask import Flask

from catalog import api, handlers
from catalog.config import CatalogConfig, config_from_env
from catalog.models import MESSAGING
from portal_runtime import web
from portal_runtime.clock import Clock
from portal_runtime.service import Service


def bootstrap(config: CatalogConfig | None = None, *, clock: Clock | None = None) -> Service:
    return Service(
        config or config_from_env(),
        package="catalog",
        models=MESSAGING,
        handlers=handlers.EVENT_HANDLERS,
        commands=handlers.COMMAND_HANDLERS,
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
