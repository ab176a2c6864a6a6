"""The composition root of the gateway: the one place adapters are chosen."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from gateway import SERVICE, api, cors, docs, portal_pages
from gateway.auth import Passwords
from gateway.client_address import PORTAL
from gateway.config import GatewayConfig
from gateway.models import MESSAGING
from gateway.upstream import Upstreams
from portal_runtime import web
from portal_runtime.clock import Clock
from portal_runtime.service import Service


def bootstrap(
    config: GatewayConfig | None = None,
    *,
    clock: Clock | None = None,
    service_urls: dict[str, str] | None = None,
    upstreams: Upstreams | None = None,
) -> Service:
    """The gateway composed: no event handlers, no jobs; a database and the services' URLs."""
    config = config or GatewayConfig.from_env(SERVICE)
    if config.strict:
        # The portal vouches for its users' addresses (``client_address``): no key, no start.
        config.identity_keys.require_public_keys([PORTAL])
    return Service(
        config,
        package="gateway",
        models=MESSAGING,
        handlers={},
        clock=clock,
        upstreams=upstreams
        or Upstreams(
            config.identity_keys, config.connect_timeout, config.read_timeout, service_urls
        ),
        passwords=Passwords(config.argon2_time_cost, config.argon2_memory_kib),
    )


def create_app(service: Service | None = None) -> Flask:
    service = service or bootstrap()
    app = web.create_app(service)
    if service.config.trusted_proxies:
        # The client's address (limits) and scheme (HSTS) from the trusted proxies' headers.
        trusted = service.config.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=trusted, x_proto=trusted)
    web.secure_headers(app)
    cors.register(app, service.config.cors_origins)
    api.register(app)
    docs.register(app)
    portal_pages.register(app)
    return app
