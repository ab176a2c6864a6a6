"""Flask pieces every service shares: the app, request ids, identity, health, one error shape."""

from __future__ import annotations

import functools
import re
import uuid

import structlog
from flask import Flask, current_app, g, jsonify, request
from flask.json.provider import DefaultJSONProvider
from sqlalchemy import text

from portal_contracts.envelope import ID_LENGTH
from portal_runtime import identity as ids
from portal_runtime import logs, metrics, problems, tracing
from portal_runtime.problems import Problem, invalid
from portal_runtime.signing_client import SigningClient
from portal_runtime.topology import connect

MAX_BODY_BYTES = 1 * 1024 * 1024
# A caller's X-Request-ID travels into logs and, as the correlation id, into every event: only a
# plain one that fits the correlation id's column is kept; for any other a new one is made up.
PLAIN_REQUEST_ID = re.compile(rf"[A-Za-z0-9._:-]{{1,{ID_LENGTH}}}")


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON, keeping keys in the order we wrote them, and taking a body nested too deeply
    to parse (``[[[[...``) as the invalid JSON it is instead of a server error."""

    sort_keys = False

    def loads(self, s, **kwargs):
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


def create_app(service, name: str | None = None) -> Flask:
    """A Flask app bound to a composed service (see ``portal_runtime.service``)."""
    app = Flask(name or service.config.service)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.json = JSONProvider(app)
    app.extensions["portal.service"] = service
    # Tests' app.test_client() signs identities the way the gateway does.
    app.test_client_class = SigningClient
    logs.configure(service.config.service, service.config.log_level)
    problems.register(app)
    app.extensions["portal.replays"] = ids.ReplayCache()
    app.extensions["portal.callers"] = {}
    _request_ids(app)
    _health(app)
    secure_headers(app)
    observe(app, service.config.service)
    return app


def observe(app: Flask, name: str) -> None:
    """``GET /metrics`` and request figures (``portal_runtime.metrics``); traces when an OTLP
    endpoint is set (``portal_runtime.tracing``)."""
    metrics.instrument_app(app, name)
    tracing.instrument_app(app, name)


# Only the app's own assets: no inline script or style, no other origin, no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"


def secure_headers(app: Flask, policies: dict[str, str] | None = None) -> None:
    """Every answer says ``nosniff``, a referrer policy and a Content-Security-Policy (``policies``
    maps a path prefix to a looser one, should a page ever need one); over
    HTTPS it also says Strict-Transport-Security. Headers an answer already has are kept, so an
    app may call this again with its own ``policies`` (the later call's handler runs first)."""
    exceptions = sorted((policies or {}).items(), key=lambda item: -len(item[0]))

    @app.after_request
    def _secure(resp):
        headers = resp.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        policy = next(
            (p for prefix, p in exceptions if request.path.startswith(prefix)),
            CONTENT_SECURITY_POLICY,
        )
        headers.setdefault("Content-Security-Policy", policy)
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", HSTS)
        return resp


def current_service():
    return current_app.extensions["portal.service"]


@functools.cache
def schema(cls):
    """The one instance of the marshmallow schema ``cls`` that loads requests: a schema copies
    its fields and builds its nested schemas when it is made, which cost more than a load, so
    one made per request was a tenth of the gateway's CPU. (Loading keeps no state in it.)"""
    return cls()


def json_body(optional: bool = False) -> dict:
    """The request's JSON object; ``{}`` for an empty (or blank) body when ``optional``; 422
    otherwise."""
    body = request.get_json(silent=True)
    if body is None and optional and not request.get_data().strip():
        return {}
    if not isinstance(body, dict):
        raise invalid({"_body": ["A JSON object is required."]})
    return body


def request_id() -> str:
    return getattr(g, "request_id", None) or str(uuid.uuid4())


def unit_of_work():
    """A unit of work whose events carry this request's correlation id."""
    return current_service().uow(correlation_id=request_id())


def current_identity() -> ids.Identity:
    """The verified caller, or a 401: a request that did not come through the gateway, or a
    service calling a route that does not list it."""
    identity = getattr(g, "identity", None)
    if identity is None:
        identity = _verified_caller()
        g.identity = identity
        structlog.contextvars.bind_contextvars(
            caller=identity.kind, reseller_id=identity.reseller_id
        )
    return identity


def _verified_caller() -> ids.Identity:
    service = current_service()
    try:
        identity = ids.verify(
            request.headers.get(ids.HEADER),
            service.config.identity_keys,
            method=request.method,
            path=request.path,
            query=request.query_string,
            body_digest=getattr(g, "body_digest", None),
            replays=current_app.extensions["portal.replays"],
        )
    except ids.Refused as exc:
        logs.get("identity").warning("identity.refused", reason=str(exc), path=request.path)
        raise Problem(401, str(exc)) from None
    caller = identity.via or (identity.name if identity.is_service else None)
    if caller is not None:
        route = f"{request.method} {request.url_rule.rule if request.url_rule else request.path}"
        if route not in current_app.extensions["portal.callers"].get(caller, ()):
            logs.get("identity").warning("identity.caller_refused", caller=caller, route=route)
            raise Problem(
                401,
                f"{service.config.service} does not accept calls from {caller} on {route} "
                "(trust_callers in its bootstrap lists who may call what).",
            )
    return identity


def trust_callers(app: Flask, callers: dict[str, list[str] | tuple[str, ...]]) -> None:
    """The services (and ``ops`` tooling) this app accepts a ``service`` identity from, and on
    which routes, as ``"METHOD /flask/rule"``; the same for a service relaying a user. A route
    that does not exist, or (outside development) a caller without a public key, stops the
    process at start."""
    rules = {
        f"{method} {rule.rule}"
        for rule in app.url_map.iter_rules()
        for method in (rule.methods or ())
    }
    for caller, routes in callers.items():
        unknown = sorted(set(routes) - rules)
        if unknown:
            raise ValueError(f"trust_callers({caller!r}) names routes that do not exist: {unknown}")
    config = app.extensions["portal.service"].config
    if config.strict:
        config.identity_keys.require_public_keys(callers)
    app.extensions["portal.callers"] = {c: frozenset(r) for c, r in callers.items()}


def customer_access(customer_id: str) -> ids.Identity:
    """The caller, if it may act on this customer; otherwise the same 404 as a missing one."""
    identity = current_identity()
    if not identity.may_access(customer_id):
        raise problems.not_found("customer")
    return identity


def require_role(identity: ids.Identity, *roles: str) -> None:
    """Resellers' users need one of ``roles``; customer admins act on their own account."""
    if identity.is_reseller and not identity.has_role(*roles):
        raise Problem(403, f"This needs one of the roles: {', '.join(roles)}.")


def _request_ids(app: Flask) -> None:
    @app.before_request
    def _bind():
        structlog.contextvars.clear_contextvars()
        given = request.headers.get("X-Request-ID")
        plain = given is not None and PLAIN_REQUEST_ID.fullmatch(given)
        g.request_id = given if plain else str(uuid.uuid4())
        structlog.contextvars.bind_contextvars(
            service=current_service().config.service,
            request_id=g.request_id,
            correlation_id=g.request_id,
        )
        if ids.HEADER in request.headers:
            # Hashed before any view parses a form (which would consume the body unseen).
            g.body_digest = ids.body_hash(request.get_data(cache=True))

    @app.after_request
    def _echo(resp):
        resp.headers["X-Request-ID"] = request_id()
        return resp


def _health(app: Flask) -> None:
    @app.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    @app.get("/readyz")
    def readyz():
        service = current_service()
        checks = {}
        try:
            with service.reader.connect() as conn:
                conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:  # noqa: BLE001 - a readiness probe reports, it does not raise
            checks["database"] = f"down: {type(exc).__name__}"
        try:
            with connect(service.config.broker_url, heartbeat=0) as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
            checks["broker"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["broker"] = f"down: {type(exc).__name__}"
        ready = all(v == "ok" for v in checks.values())
        return jsonify(status="ready" if ready else "unavailable", checks=checks), (
            200 if ready else 503
        )
