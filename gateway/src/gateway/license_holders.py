"""My licenses at the gateway: a license holder asks for an e-mailed link, and opens it.

``POST /auth/my-licenses-link`` answers the same 202 whether or not the email holds a license
(license-assign decides, and sends the link); it is limited per email and per client address.
``POST /auth/my-licenses-session`` spends the link's single-use token (license-assign redeems it)
and answers a short-lived bearer token of kind ``license_holder`` bound to that email: with it
the gateway lets through only the routes marked ``license_holder`` (``/my/licenses...``).
"""

from __future__ import annotations

import time

import jwt

from gateway import ratelimit
from gateway.auth import ALGORITHM
from gateway.call import Call
from gateway.onboarding import call_license_assign
from gateway.ratelimit import Limit

KIND = "license_holder"
SENT = (
    "If this email address holds a license, a link to its licenses is on its way: it works"
    " once, for 7 days."
)


def link_limits(config, email: str, address: str) -> list[Limit]:
    window = config.holder_link_window_seconds
    return [
        Limit(f"holder-link:email:{email}", config.holder_links_per_email, window),
        Limit(f"holder-link:address:{address}", config.holder_links_per_address, window),
    ]


def request_link(call: Call):
    service = call.service
    email = call.body["email"].strip().lower()
    with service.sessions() as session:
        # Counted whatever the outcome: the limit says nothing about whether the email holds one.
        ratelimit.reserve(
            session,
            link_limits(service.config, email, call.client_address),
            service.clock.now(),
            "Too many links asked for; try again later.",
        )
        session.commit()
    call_license_assign(
        call, "POST", "/internal/holder-links", as_service=True, json={"email": email}
    )
    return {"detail": SENT}, 202, {"Cache-Control": "no-store"}


def issue_holder_token(email: str, secret: str, ttl_seconds: int) -> str:
    now = int(time.time())
    claims = {
        "sub": f"{KIND}:{email}",
        "kind": KIND,
        "email": email,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def open_session(call: Call):
    """Spend the e-mailed link (once; 410 used or expired, 404 unknown) for a bearer token that
    reads only this email's licenses."""
    config = call.service.config
    resp = call_license_assign(
        call,
        "POST",
        "/internal/holder-links/redeem",
        as_service=True,
        json={"token": call.body["token"]},
    )
    email = resp.json()["email"]
    ttl = config.holder_session_seconds
    body = {
        "access_token": issue_holder_token(email, config.token_secret, ttl),
        "token_type": "Bearer",
        "expires_in": ttl,
        "kind": KIND,
        "email": email,
    }
    return body, 200, {"Cache-Control": "no-store"}
