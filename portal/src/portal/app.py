"""The portal's app factory: sessions, CSRF, formatting, error pages and every area's pages.

Each area is a blueprint in ``portal/pages/<area>.py`` listed in ``pages.BLUEPRINTS``; its
templates are in ``templates/<area>/``. Every URL is under ``/portal``, as the gateway forwards it.
"""

from __future__ import annotations

import datetime as dt

import requests
from flask import Flask, redirect, url_for
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from portal import auth, errors, formatting, topbar
from portal.config import PortalConfig
from portal.pages import BLUEPRINTS
from portal_runtime import web

csrf = CSRFProtect()


def create_app(config: PortalConfig | None = None) -> Flask:
    config = config or PortalConfig.from_env()
    app = Flask(__name__, static_url_path="/portal/static")
    app.config.update(
        PORTAL=config,
        SECRET_KEY=config.secret_key,
        SESSION_COOKIE_NAME="portal_session",
        SESSION_COOKIE_PATH="/portal",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.secure_cookies,
        PERMANENT_SESSION_LIFETIME=dt.timedelta(hours=8),
        # The form's token lives as long as the session; a stale one gets a clear page.
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=config.secure_cookies,
        MAX_CONTENT_LENGTH=1024 * 1024,
    )
    # Users reach the pages only through the gateway, which forwards the client's address as the
    # last X-Forwarded-For entry: that is the person the portal vouches for to the API.
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1)
    web.secure_headers(app)
    web.observe(app, "portal")
    csrf.init_app(app)
    formatting.init_app(app)
    errors.init_app(app)
    topbar.init_app(app)
    app.register_blueprint(auth.bp)
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)

    @app.template_global()
    def has_endpoint(endpoint: str) -> bool:
        """Links to areas that are not built yet are left out, never broken."""
        return endpoint in app.view_functions

    @app.template_filter()
    def reject_key(args: dict, key: str) -> dict:
        return {k: v for k, v in args.items() if k != key}

    @app.get("/portal")
    def _portal_root():
        return redirect(url_for("home.start"))

    @app.get("/portal/healthz")
    @app.get("/healthz")
    def _health():
        return {"status": "ok"}

    @app.get("/readyz")
    def _ready():
        # Every page needs the gateway: not ready (no traffic sent here) while it is not answering.
        try:
            answer = requests.get(config.gateway_url + "/healthz", timeout=2)
            gateway = "ok" if answer.status_code == 200 else f"down: {answer.status_code}"
        except requests.RequestException as exc:
            gateway = f"down: {type(exc).__name__}"
        ready = gateway == "ok"
        body = {"status": "ready" if ready else "unavailable", "checks": {"gateway": gateway}}
        return body, 200 if ready else 503

    @app.after_request
    def _headers(resp):
        # Pages show a user's own data: never cached, never framed, no outside scripts.
        if resp.mimetype == "text/html":
            resp.headers.setdefault("Cache-Control", "no-store")
            resp.headers.setdefault(
                "Content-Security-Policy",
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
                "frame-ancestors 'none'; base-uri 'self'",
            )
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        return resp

    return app
