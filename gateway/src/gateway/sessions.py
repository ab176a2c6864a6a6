"""Signing in (``POST /auth/token``) and ``GET /me``.

Failed sign-ins slow down the address they come from, never the account's owner elsewhere: they
are counted per (account, client address) and per client address, and past a few free ones each
further attempt from there waits twice as long as the one before (``ratelimit.Backoff``). A
correct password from an address that has not failed signs in whatever others are trying.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from gateway import ratelimit
from gateway.auth import issue_token, unauthorized
from gateway.call import Call
from gateway.models import PortalUser
from gateway.ratelimit import Backoff, Limit
from gateway.views import me_view
from portal_runtime import logs
from portal_runtime.problems import invalid


def login_backoffs(config, email: str, address: str) -> tuple[Backoff, Backoff]:
    """(per account from this address, per address across accounts)."""
    window = config.login_window_seconds
    return (
        Backoff(
            f"login:account-address:{email}:{address}", config.login_failures_per_account, window
        ),
        Backoff(f"login:address:{address}", config.login_failures_per_address, window),
    )


def create_token(call: Call):
    service = call.service
    config = service.config
    email = call.body["email"].strip().lower()
    backoffs = login_backoffs(config, email, call.client_address)
    now = service.clock.now()
    with service.sessions() as session:
        # Counted as a failure until it proves otherwise, so parallel guesses queue up here.
        reserved = ratelimit.reserve(
            session,
            [],
            now,
            "Too many failed sign-ins from this address; try again later.",
            backoffs=backoffs,
        )
        user = session.scalar(select(PortalUser).where(PortalUser.email == email))
        session.commit()
    # Hash verification is slow on purpose: no transaction is held open meanwhile.
    password = call.body["password"]
    ok = service.passwords.verify(user.password_hash if user else None, password)
    with service.sessions() as session:
        if not ok or user is None or user.disabled:
            if user is not None:
                log_throttling(session, backoffs[0], user, call.client_address, now)
            # One answer for an unknown account, a wrong password and a disabled user.
            raise unauthorized("Wrong email or password.")
        ratelimit.release(session, reserved)
        ratelimit.clear(session, backoffs[0].key)
        if service.passwords.needs_rehash(user.password_hash):
            stored = session.get(PortalUser, user.id)
            stored.password_hash = service.passwords.hash(password)
        session.commit()
    token = issue_token(user, config.token_secret, config.token_ttl_seconds)
    body = {"access_token": token, "token_type": "Bearer", "expires_in": config.token_ttl_seconds}
    return body, 200, {"Cache-Control": "no-store"}


def log_throttling(session, pair: Backoff, user, address: str, now) -> None:
    """The moment an account starts being slowed down from an address goes in the audit log."""
    count, _ = ratelimit.failures(
        session, pair.key, now - dt.timedelta(seconds=pair.window_seconds)
    )
    if count == pair.free:
        logs.get("gateway").warning(
            "sign_in.throttled", user_id=user.public_id, client_address=address, failures=count
        )


def me(call: Call):
    return me_view(call.caller), 200, {}


def change_password(call: Call):
    """The signed-in user replaces its password; wrong current passwords are limited per user
    (apart from sign-in, so a stolen token cannot lock its owner out of signing in)."""
    service = call.service
    config = service.config
    limits = [
        Limit(
            f"password:user:{call.caller.user_id}",
            config.login_failures_per_account,
            config.login_window_seconds,
        )
    ]
    now = service.clock.now()
    with service.sessions() as session:
        reserved = ratelimit.reserve(
            session, limits, now, "Too many failed attempts; try again later."
        )
        user = session.scalar(select(PortalUser).where(PortalUser.public_id == call.caller.user_id))
        session.commit()
    if not service.passwords.verify(user.password_hash, call.body["current_password"]):
        raise invalid({"current_password": ["This is not your current password."]})
    with service.sessions() as session:
        ratelimit.release(session, reserved)
        session.commit()
    if call.body["new_password"] == call.body["current_password"]:
        raise invalid({"new_password": ["Choose a password different from the current one."]})
    new_hash = service.passwords.hash(call.body["new_password"])
    with service.sessions() as session:
        session.get(PortalUser, user.id).password_hash = new_hash
        session.commit()
    return {}, 204, {}
