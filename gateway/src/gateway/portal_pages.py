"""``/portal/*``: the portal's pages, forwarded to the portal's web process; ``/`` goes there.

The gateway is the one address users know, so the links in e-mails (``PORTAL_BASE_URL`` +
``/portal/...``) open the pages. Requests and answers pass through unchanged (cookies, forms,
redirects, downloads), with the client's address and scheme in ``X-Forwarded-*``.
"""

from __future__ import annotations

from http.cookiejar import DefaultCookiePolicy
from urllib.parse import quote

import requests
from flask import Flask, Response, redirect, request

from portal_runtime.config import service_url
from portal_runtime.web import request_id

# Hop-by-hop headers (RFC 9110 7.6.1) and the ones the proxy sets itself.
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
}
UNAVAILABLE_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Partner Portal: not available</title></head><body>
<h1>The Partner Portal is not available</h1>
<p>Please try again in a moment.</p></body></html>"""


def register(app: Flask, portal_url: str | None = None, timeout: tuple = (2.0, 30.0)) -> None:
    base = (portal_url or service_url("portal")).rstrip("/")
    http = requests.Session()
    # Cookies belong to each user's browser: the proxy's pooled session must never keep one
    # (it would send one user's session cookie with everybody's requests).
    http.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))

    @app.get("/")
    def portal_home():
        return redirect("/portal/", code=302)

    @app.route("/portal", methods=["GET", "HEAD", "POST"], endpoint="portal_root")
    @app.route("/portal/", methods=["GET", "HEAD", "POST"], endpoint="portal_start")
    @app.route("/portal/<path:_rest>", methods=["GET", "HEAD", "POST"], endpoint="portal_pages")
    def portal_pages(_rest: str = ""):
        target = base + quote(request.path, safe="/:@!$&'()*+,;=-._~")
        if request.query_string:
            target += "?" + request.query_string.decode("latin-1")
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        forwarded_for = request.headers.get("X-Forwarded-For")
        client = request.remote_addr or ""
        headers["X-Forwarded-For"] = f"{forwarded_for}, {client}" if forwarded_for else client
        headers["X-Forwarded-Proto"] = request.scheme
        headers["X-Forwarded-Host"] = request.host
        headers["X-Request-ID"] = request_id()
        try:
            resp = http.request(
                request.method,
                target,
                headers=headers,
                data=request.get_data() if request.method == "POST" else None,
                timeout=timeout,
                allow_redirects=False,
            )
        except requests.RequestException:
            app.logger.warning("portal not answering at %s", base)
            return Response(
                UNAVAILABLE_PAGE, status=503, mimetype="text/html", headers={"Retry-After": "5"}
            )
        out = Response(resp.content, status=resp.status_code)
        out.headers.clear()
        for name, value in resp.raw.headers.items():
            if name.lower() not in HOP_BY_HOP and name.lower() != "content-encoding":
                out.headers.add(name, value)
        return out
