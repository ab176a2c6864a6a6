"""The composition root of the notifications service: the one place adapters are chosen."""

from __future__ import annotations

from flask import Flask

from notifications import SERVICE, api
from notifications.config import NotificationsConfig, config_from_env
from notifications.handlers import COMMAND_HANDLERS, EVENT_HANDLERS
from notifications.jobs import jobs
from notifications.models import FAILED, MESSAGING, PENDING
from notifications.outgoing import ProductNames
from notifications.ports import HttpQuotePdfs, SmtpMailer
from notifications.sender import mails_in_status
from portal_runtime import web
from portal_runtime.clock import Clock
from portal_runtime.http import ServiceClient
from portal_runtime.metrics import Backlog
from portal_runtime.service import Service


def bootstrap(
    config: NotificationsConfig | None = None,
    *,
    clock: Clock | None = None,
    mail_clock: Clock | None = None,
    mailer=None,
    quote_pdfs=None,
    product_names: ProductNames | None = None,
) -> Service:
    """Notifications on its real adapters (SMTP, cart-quote's PDFs) unless a fake is passed."""
    config = config or config_from_env()
    return Service(
        config,
        package="notifications",
        models=MESSAGING,
        handlers=EVENT_HANDLERS,
        commands=COMMAND_HANDLERS,
        jobs=jobs(config),
        clock=clock,
        backlogs=BACKLOGS,
        # Retries and leases run on wall-clock time: a demo clock shifted by CLOCK_OFFSET_DAYS
        # (which may differ between restarts) must never postpone a retry by days.
        mail_clock=mail_clock or Clock(offset_days=0),
        mailer=mailer or SmtpMailer(config.smtp_url, config.smtp_timeout),
        quote_pdfs=quote_pdfs
        or HttpQuotePdfs(
            ServiceClient("cart-quote", SERVICE, config.identity_keys, config.http_timeout)
        ),
        settings=config.mail_settings(),
        product_names=product_names or ProductNames(),
    )


# Sampled by the worker's /metrics at each scrape (one count on the status index each).
BACKLOGS = (
    Backlog(
        "portal_mails_pending",
        "Mails waiting to be sent (including those waiting for a retry).",
        lambda service: mails_in_status(service, PENDING),
    ),
    Backlog(
        "portal_mails_failed",
        "Mails given up on: retried too often, or refused for good (see /internal/mail).",
        lambda service: mails_in_status(service, FAILED),
    ),
)

# Who may call notifications with a service identity, and where: operators read the mail log.
CALLERS = {"ops": ["GET /internal/mail", "POST /internal/mail/<int:mail_id>/retry"]}


def create_app(service: Service | None = None) -> Flask:
    app = web.create_app(service or bootstrap())
    app.register_blueprint(api.bp)
    web.trust_callers(app, CALLERS)
    return app
