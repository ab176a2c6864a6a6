"""The composition root of the billing service: the one place adapters are chosen."""

from __future__ import annotations

from flask import Flask

from billing import SERVICE, api, documents, handlers, sandbox_api
from billing.config import BillingConfig
from billing.handlers import Billing
from billing.models import MESSAGING
from billing.sandbox import Sandbox
from portal_runtime import web
from portal_runtime.clock import Clock
from portal_runtime.config import var_dir
from portal_runtime.db import is_sqlite
from portal_runtime.service import Job, Service


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
    config: BillingConfig | None = None, *, clock: Clock | None = None, provider=None
) -> Service:
    config = config or BillingConfig.from_env(SERVICE)
    clock = clock or Clock()
    provider = provider or Sandbox(
        config.sandbox_database_url or default_sandbox_url(config.database_url),
        config.portal_base_url,
        clock,
    )
    deps = Billing(config=config, clock=clock, provider=provider)
    jobs = (
        Job(
            name="mark-overdue-invoices",
            every_seconds=config.overdue_check_seconds,
            run=handlers.mark_overdue,
        ),
        Job(
            name="settle-unknown-payments",
            every_seconds=config.payment_reconcile_seconds,
            run=handlers.settle_unknown_payments,
        ),
        Job(
            name="render-documents",
            every_seconds=config.render_documents_seconds,
            run=documents.render_pending,
        ),
    )
    return Service(
        config,
        package="billing",
        models=MESSAGING,
        handlers=handlers.bind(handlers.EVENT_HANDLERS, deps),
        jobs=jobs,
        clock=clock,
        provider=provider,
        billing=deps,
    )


# Who may call billing with a service identity, and where (orders reads the buyer's method).
CALLERS = {"orders": ["GET /internal/payment-methods/<method_id>"]}


def create_app(service: Service | None = None) -> Flask:
    app = web.create_app(service or bootstrap())
    app.register_blueprint(api.bp)
    app.register_blueprint(sandbox_api.bp)
    web.trust_callers(app, CALLERS)
    return app
