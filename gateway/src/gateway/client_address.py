"""Whose address a request comes from, for the limits counted per client address.

Normally the connection's (``request.remote_addr``, behind ``GATEWAY_TRUSTED_PROXIES`` the one they
forward). The portal's pages call the API from the portal's own process, so that address would be
the portal's for every user; the portal therefore vouches for the person it serves in
``X-Portal-Client``: an identity signed with the portal's own key, for exactly this request (the
gateway as audience, method, path, body, 30 s, once), naming ``client_address``. Only the portal's
signature counts; anything else in that header is a 401, never a silently shared address.
"""

from __future__ import annotations

from flask import current_app, request

from portal_runtime import identity as ids
from portal_runtime import logs
from portal_runtime.problems import Problem

HEADER = "X-Portal-Client"
PORTAL = "portal"


def client_address(service) -> str:
    header = request.headers.get(HEADER)
    if not header:
        return request.remote_addr or "unknown"
    try:
        vouched = ids.verify(
            header,
            service.config.identity_keys,
            method=request.method,
            path=request.path,
            query=request.query_string,
            body_digest=ids.body_hash(request.get_data(cache=True)),
            replays=current_app.extensions["portal.replays"],
        )
    except ids.Refused as exc:
        logs.get("gateway").warning("client_address.refused", reason=str(exc))
        raise Problem(401, f"{HEADER} is not the portal's: {exc}") from None
    if not vouched.is_service or vouched.name != PORTAL or not vouched.client_address:
        raise Problem(401, f"{HEADER} is not the portal's: only the portal vouches for a client.")
    return vouched.client_address
