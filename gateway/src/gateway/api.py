"""The gateway's HTTP surface: one generic view per row of the route table.

Each request goes: authenticate -> role check -> customer check -> per-tenant rate limit ->
validate body and query with the route's schemas -> the gateway's own handler, or forward to the
owning service with a signed identity and relay its answer.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import quote

import requests
from flask import Flask, Response, jsonify, request
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from gateway import customer_access, ratelimit
from gateway.auth import authenticate
from gateway.call import Call
from gateway.client_address import client_address
from gateway.openapi import PREFIX, GatewayApi, configure, new_api, operation
from gateway.ratelimit import Limit
from gateway.routes import Route, all_routes
from gateway.upstream import FORWARDED_REQUEST_HEADERS
from portal_runtime import logs
from portal_runtime.identity import Identity
from portal_runtime.problems import Problem, invalid, not_found
from portal_runtime.web import current_service, json_body, request_id, schema

RELAYED_RESPONSE_HEADERS = (
    "Content-Type",
    "Location",
    "Retry-After",
    "Content-Disposition",
    "Cache-Control",
    "ETag",
    "Allow",
)
BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# Downloads are relayed in pieces of this size as the service sends them.
DOWNLOAD_CHUNK_BYTES = 64 * 1024
# Longer URLs are refused with a problem (gunicorn's own limit is lifted in ``__main__``).
MAX_URL_BYTES = 8192


def check_role(route: Route, caller: Identity) -> None:
    if caller.is_license_holder:
        if not route.license_holder:
            raise Problem(403, "A My licenses link opens only its holder's own licenses.")
        return
    if route.license_holder:
        raise Problem(403, "This route is for a license holder's My licenses link.")
    if caller.is_customer_admin:
        if not route.customer_admin:
            raise Problem(403, "This route is for resellers' users.")
        return
    if not route.resellers:
        raise Problem(403, "This route is for the account's own admins.")
    if "admin" in caller.roles or any(role in caller.roles for role in route.roles):
        return
    needed = ", ".join(("admin", *route.roles))
    raise Problem(403, f"This needs one of the roles: {needed}.")


def named_customer(route: Route, path: dict) -> str | None:
    if route.customer_in == "path":
        return path.get("customer_id")
    if route.customer_in == "body":
        body = request.get_json(silent=True)
        value = body.get("customer_id") if isinstance(body, dict) else None
        return value if isinstance(value, str) else None
    return None


def check_rate(route: Route, caller: Identity) -> None:
    service = current_service()
    config = service.config
    if route.rate_limit == "checkout" and config.checkout_per_tenant > 0:
        limit = Limit(
            f"checkout:{caller.tenant}", config.checkout_per_tenant, config.checkout_window_seconds
        )
        now = service.clock.now()
        with service.sessions() as session:
            ratelimit.reserve(session, [limit], now, "Too many orders in a short time; wait.")
            session.commit()


def load_query(schema_cls: type[Schema]) -> dict:
    query_schema = schema(schema_cls)
    by_key = {(f.data_key or name): f for name, f in query_schema.fields.items()}
    raw: dict = {}
    for key in request.args:
        field = by_key.get(key)
        if isinstance(field, fields.List):
            raw[key] = request.args.getlist(key)
        else:
            raw[key] = request.args.get(key)
    return query_schema.load(raw)


def validate(route: Route) -> tuple[dict | None, dict | None]:
    """The route's query and body, loaded by its schemas (422 with per-field errors)."""
    body = query = None
    if route.query is not None:
        query = load_query(route.query)
    if request.method not in BODY_METHODS:
        return None, query
    if route.accepts and request.mimetype in route.accepts:
        # CSV uploads and form posts: the owning service parses and validates them.
        return None, query
    data = request.get_data()
    if route.body is not None:
        body = schema(route.body).load(json_body(optional=True))
    elif data.strip() and request.get_json(silent=True) != {}:
        raise invalid({"_body": ["This route takes no request body."]})
    return body, query


def relay(route: Route, resp: requests.Response) -> Response:
    status = resp.status_code
    # A service's own failure, or its refusal of the identity the gateway signed (a secret that
    # differs between them), is the platform's fault, never the caller's token's.
    if (status >= 500 and status != 503) or status == 401:
        logs.get("gateway").warning("upstream.failed", service=route.service, status=status)
        raise Problem(502, f"The {route.service} service could not answer this request.")
    mimetype = (resp.headers.get("Content-Type") or "").split(";")[0].strip()
    if status >= 400 and not mimetype.endswith("json"):
        # An error from the web server in front of a service (e.g. gunicorn's HTML 414): the
        # caller gets the one error shape of the API, with the same status.
        problem = Problem(status, resp.reason or None)
        if "Retry-After" in resp.headers:
            problem.headers["Retry-After"] = resp.headers["Retry-After"]
        raise problem
    if route.produces and status < 300:
        # A download (CSV report, PDF) goes out as it arrives: the first byte does not wait for
        # the last, and the gateway never holds a whole report in memory.
        out = Response(
            resp.iter_content(DOWNLOAD_CHUNK_BYTES), status=status, direct_passthrough=True
        )
        out.call_on_close(resp.close)
    else:
        out = Response(resp.content, status=status)
    for name in RELAYED_RESPONSE_HEADERS:
        if name in resp.headers:
            out.headers[name] = resp.headers[name]
    if status == 503 and "Retry-After" not in out.headers:
        out.headers["Retry-After"] = "5"
    location = out.headers.get("Location")
    # A service names its resources by their public path; redirects (3xx) go where they say.
    relative = location and location.startswith("/") and not location.startswith(PREFIX + "/")
    if relative and not 300 <= status < 400:
        out.headers["Location"] = PREFIX + location
    return out


def forward(
    route: Route, caller: Identity | None, customer_id: str | None, path_params: dict
) -> Response:
    service = current_service()
    # The service's path is the route's, each parameter quoted as one segment.
    path = route.path.format(**{k: quote(str(v), safe="") for k, v in path_params.items()})
    headers = {h: request.headers[h] for h in FORWARDED_REQUEST_HEADERS if h in request.headers}
    body = request.get_data() if request.method in BODY_METHODS else None
    identity = None
    if caller is not None:
        identity = replace(caller, customer_scope=customer_id)
    resp = service.upstreams.forward(
        route.service,
        request.method,
        path,
        identity=identity,
        request_id=request_id(),
        query=request.query_string if route.query is not None else b"",
        body=body,
        headers=headers,
        stream=bool(route.produces),
    )
    return relay(route, resp)


def dispatch(route: Route, path: dict) -> Response:
    service = current_service()
    if any(str(value) in (".", "..") for value in path.values()):
        raise not_found()
    caller = None if route.public else authenticate(service)
    if caller is not None:
        check_role(route, caller)
    customer_id = named_customer(route, path)
    # A missing or malformed body customer_id is left to validation (422).
    checks_customer = customer_id is not None or route.customer_in == "path"
    if caller is not None and checks_customer:
        customer_access.require_access(service, caller, customer_id or "", request_id())
    body, query = validate(route)
    # Counted once the request is valid: a malformed one places nothing.
    if caller is not None and route.rate_limit:
        check_rate(route, caller)
    if route.handler is None:
        return forward(route, caller, customer_id, path)
    call = Call(
        service=service,
        caller=caller,
        request_id=request_id(),
        client_address=client_address(service),
        body=body,
        query=query,
        path=path,
        customer_id=customer_id,
    )
    payload, status, headers = route.handler(call)
    resp = Response(status=204) if status == 204 else jsonify(payload)
    resp.status_code = status
    for key, value in headers.items():
        resp.headers[key] = value
    return resp


def make_view(route: Route):
    def view(**path):
        return dispatch(route, path)

    view.__name__ = route.endpoint
    view.__doc__ = route.summary
    return view


def limit_url_length(app: Flask) -> None:
    @app.before_request
    def _url_length():
        if len(request.full_path) > MAX_URL_BYTES:
            raise Problem(414, f"The URL is longer than {MAX_URL_BYTES} bytes.")


def register(app: Flask, routes: list[Route] | None = None) -> GatewayApi:
    configure(app)
    limit_url_length(app)
    api = new_api(app)
    blueprints: dict[str, Blueprint] = {}
    for route in routes or all_routes():
        blp = blueprints.get(route.tag)
        if blp is None:
            name = route.tag.lower().replace(" ", "_").replace("-", "_")
            blp = Blueprint(name, __name__, url_prefix=PREFIX, description=route.tag)
            blueprints[route.tag] = blp
        view = blp.doc(**operation(route))(make_view(route))
        blp.route(route.flask_rule, methods=[route.method], endpoint=route.endpoint)(view)
    for blp in blueprints.values():
        api.register_blueprint(blp)
    return api
