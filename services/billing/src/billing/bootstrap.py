"""The composition root of the billing service: the one place adapters are chosen."""

from __future__ import annotations

from flask import Flask

from billing import api, sandbox_api
from billing.config import BillingConfig, config_from_env
from billing.handlers import COMMAND_HANDLERS, EVENT_HANDLERS
from billing.jobs import jobs
from billing.models import MESSAGING
from billing.sandbox import Sandbox
from portal_runtime import web
from portal_runtime.clock import Clock
from portal_runtime.config import var_dir
from portal_runtime.db import is_sqlite
from portal_runtime.service import Service


def default_sandbox_url(database_url: str) -> str:
    """Where the sandbox keeps its store when not told: beside billing's, shared by its processes.

    On SQLite a file of its own (a charge runs inside billing's write transaction, and one file
    has one writer); on PostgreSQL its own ``sandbox_*`` tables in the same server database, so
    that web and worker containers see the same vault.
    """
    if is_sqlite(database_url):
        path = database_url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            stem = path[:-3] if path.endswith(".db") else path
            return f"sqlite:///{stem}-sandbox.db"
        return f"sqlite:///{var_dir() / 'billing-sandbox.db'}"
    return database_url


def bootstrap(
    config: BillingConfig | None = None, *, clock: Clock | None = None, payments=None
) -> Service:
    """Billing on its real adapters, unless a fake is passed (``payments``: the provider)."""
    config = config or config_from_env()
    clock = clock or Clock()
    payments = payments or Sandbox(
        config.sandbox_database_url or default_sandbox_url(config.database_url),
        config.portal_base_url,
        clock,
    )
    return Service(
        config,
        package="billing",
        models=MESSAGING,
        handlers=EVENT_HANDLERS,
        commands=COMMAND_HANDLERS,
        jobs=jobs(config),
        clock=clock,
        payments=payments,
        seller=config.seller,
    )


# Who may call billing with a service identity, and where (orders reads the buyer's method).
CALLERS = {"orders": ["GET /internal/payment-methods/<method_id>"]}


def create_app(service: Service | None = None) -> Flask:
    app = web.create_app(service or bootstrap())
    app.register_blueprint(api.bp)
    app.register_blueprint(sandbox_api.bp)
    web.trust_callers(app, CALLERS)
    return app
