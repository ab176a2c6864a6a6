"""The composition root of the license-assign service: the one place adapters are chosen."""

from __future__ import annotations

from flask import Flask

from license_assign import api
from license_assign.activation_codes import ActivationCodes, load_signing_key
from license_assign.config import LicenseAssignConfig, config_from_env
from license_assign.handlers import COMMAND_HANDLERS, EVENT_HANDLERS
from license_assign.jobs import jobs
from license_assign.models import MESSAGING
from license_assign.ports import CodeSigner
from portal_runtime import web
from portal_runtime.clock import Clock
from portal_runtime.service import Service


def bootstrap(
    config: LicenseAssignConfig | None = None,
    *,
    clock: Clock | None = None,
    codes: CodeSigner | None = None,
) -> Service:
    """The service with its activation-code signer (``codes``) from the configured key, unless
    one is given (tests: a fresh key)."""
    config = config or config_from_env()
    codes = codes or ActivationCodes(load_signing_key(config.activation_signing_key))
    return Service(
        config,
        package="license_assign",
        models=MESSAGING,
        handlers=EVENT_HANDLERS,
        commands=COMMAND_HANDLERS,
        jobs=jobs(config),
        clock=clock or Clock(),
        codes=codes,
    )


# Who may call license-assign with a service identity, and where.
CALLERS = {
    "gateway": [
        "GET /internal/customers/<customer_id>",
        "GET /internal/customers",
        "POST /internal/customer-access/verify",
        "POST /internal/password-links/redeem",
        "POST /internal/holder-links",
        "POST /internal/holder-links/redeem",
    ],
    "orders": ["GET /internal/customers/<customer_id>"],
    "cart-quote": [
        "GET /internal/customers/<customer_id>",
        "GET /internal/customers/<customer_id>/licenses",
        "GET /internal/customers/<customer_id>/teams/<team_id>",
        "GET /internal/customers/<customer_id>/subscription-packs/<number>",
    ],
}


def create_app(service: Service | None = None) -> Flask:
    app = web.create_app(service or bootstrap())
    for blueprint in api.BLUEPRINTS:
        app.register_blueprint(blueprint)
    web.trust_callers(app, CALLERS)
    return app
