"""Cross-origin calls from browsers: allowed only for the origins configured
(``GATEWAY_CORS_ORIGINS``); any other origin gets no CORS headers, so browsers refuse it."""

from __future__ import annotations

from flask import Flask, Response, request

ALLOWED_METHODS = "GET, POST, PUT, PATCH, DELETE"
ALLOWED_HEADERS = "Authorization, Content-Type, Idempotency-Key, If-None-Match, X-Request-ID"
EXPOSED_HEADERS = "Location, Retry-After, X-Request-ID, Content-Disposition, ETag"


def register(app: Flask, origins: tuple[str, ...]) -> None:
    allowed = frozenset(origins)

    def allowed_origin() -> str | None:
        origin = request.headers.get("Origin")
        return origin if origin in allowed else None

    @app.before_request
    def _preflight():
        if request.method == "OPTIONS" and request.headers.get("Access-Control-Request-Method"):
            resp = Response(status=204)
            if allowed_origin():
                resp.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
                resp.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
                resp.headers["Access-Control-Max-Age"] = "600"
            return resp
        return None

    @app.after_request
    def _cors(resp):
        resp.headers.add("Vary", "Origin")
        origin = allowed_origin()
        if origin:
            resp.headers["Access-Control-Allow-Origin"] = origin
            resp.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        return resp
