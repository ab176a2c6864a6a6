"""Signing in (``POST /auth/token``), signing out (``POST /auth/logout``), ``GET /me`` and
changing one's password.

Signing out and changing the password end every token the user was given before (the token
version, ``auth.revoke_tokens``); a password change answers a fresh token, so the session that
changed it goes on while every other one (a stolen token among them) must sign in again.

Failed sign-ins slow down the address they come from, never the account's owner elsewhere: they
are counted per (account, client address) and per client address, and past a few free ones each
further attempt from there waits twice as long as the one before (``ratelimit.Backoff``). A
correct password from an address that has not failed signs in whatever others are trying.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from gateway import ratelimit
from gateway.auth import revoke_tokens, token_response, unauthorized
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
    if not ok or user is None or user.disabled:
        if user is not None and not user.disabled:
            notice_throttling(call, backoffs[0], user, now)
        # One answer for an unknown account, a wrong password and a disabled user.
        raise unauthorized("Wrong email or password.")
    with service.sessions() as session:
        ratelimit.release(session, reserved)
        ratelimit.clear(session, backoffs[0].key)
        if service.passwords.needs_rehash(user.password_hash):
            stored = session.get(PortalUser, user.id)
            stored.password_hash = service.passwords.hash(password)
        session.commit()
    return token_response(user, config), 200, {"Cache-Control": "no-store"}


def notice_throttling(call: Call, pair: Backoff, user: PortalUser, now) -> None:
    """The moment an account starts being slowed down from an address goes in the audit log,
    and its owner gets an e-mail: once per episode (at most once per window for the account,
    however many addresses fail), never once per attempt."""
    address = call.client_address
    with call.service.uow(correlation_id=call.request_id) as uow:
        window = pair.window_seconds
        count, _ = ratelimit.failures(uow.session, pair.key, now - dt.timedelta(seconds=window))
        if count != pair.free:
            return
        logs.get("gateway").warning(
            "sign_in.throttled", user_id=user.public_id, client_address=address, failures=count
        )
        episode = f"login:notice:{user.public_id}"
        if not ratelimit.first_in_window(uow.session, episode, window, now):
            return
        uow.record(
            "gateway.sign_in.throttled",
            {
                "user_id": user.public_id,
                "email": user.email,
                "name": user.name,
                "client_address": address,
                "failures": count,
                "window_minutes": max(1, window // 60),
                "throttled_at": now,
            },
        )
        uow.commit()


def me(call: Call):
    return me_view(call.caller), 200, {}


def _current_user(session, call: Call) -> PortalUser:
    return session.scalar(select(PortalUser).where(PortalUser.public_id == call.caller.user_id))


def logout(call: Call):
    """Sign out: this token and every other token of the user stop working."""
    with call.service.sessions() as session:
        revoke_tokens(_current_user(session, call))
        session.commit()
    logs.get("gateway").info("sign_in.ended", user_id=call.caller.user_id)
    return None, 204, {}


def change_password(call: Call):
    """The signed-in user replaces its password; wrong current passwords are limited per user
    (apart from sign-in, so a stolen token cannot lock its owner out of signing in). Every token
    issued before stops working; the answer is a new one for the session that changed it."""
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
        user = _current_user(session, call)
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
        user = session.get(PortalUser, user.id)
        user.password_hash = new_hash
        revoke_tokens(user)
        session.commit()
        body = token_response(user, config)
    logs.get("gateway").info("password.changed", user_id=call.caller.user_id)
    return body, 200, {"Cache-Control": "no-store"}
