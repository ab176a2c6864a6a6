"""The composition root of the license-assign service: the one place adapters are chosen."""

from __future__ import annotations

from flask import Flask

from license_assign import (
    SERVICE,
    account_lists,
    api,
    assignment_jobs_api,
    bulk_assignments,
    handlers,
    license_holders,
    onboarding,
)
from license_assign.activation_codes import ActivationCodes, load_signing_key
from license_assign.assignments import Licensing
from license_assign.config import LicenseAssignConfig
from license_assign.models import MESSAGING
from portal_runtime import web
from portal_runtime.clock import Clock
from portal_runtime.service import Job, Service


def bootstrap(
    config: LicenseAssignConfig | None = None,
    *,
    clock: Clock | None = None,
    codes: ActivationCodes | None = None,
) -> Service:
    config = config or LicenseAssignConfig.from_env(SERVICE)
    clock = clock or Clock()
    codes = codes or ActivationCodes(load_signing_key(config.activation_signing_key))
    licensing = Licensing(codes=codes, clock=clock, config=config)
    return Service(
        config,
        package="license_assign",
        models=MESSAGING,
        handlers=handlers.bind(licensing),
        jobs=(
            Job(
                "license-grace-and-downgrades",
                config.grace_check_seconds,
                handlers.enforce_grace_and_downgrades,
            ),
            Job(
                "license-assignment-jobs",
                config.assignment_job_seconds,
                bulk_assignments.run_assignment_jobs,
            ),
        ),
        clock=clock,
        licensing=licensing,
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
    app.register_blueprint(api.bp)
    app.register_blueprint(assignment_jobs_api.bp)
    app.register_blueprint(account_lists.bp)
    app.register_blueprint(onboarding.bp)
    app.register_blueprint(license_holders.bp)
    web.trust_callers(app, CALLERS)
    return app
