"""Passwords (argon2id), bearer tokens (JWT HS256) and the caller behind a request's token.

Tokens carry only the user's id, its token version and their lifetime; roles, reseller, the
disabled flag and the token version are read from the database on every request, so disabling a
user or changing its roles takes effect at once, on tokens already issued too, and a password
change or a sign-out (which raise the version) ends every token issued before. A new sign-in's
versions start at a random number, so a token of a removed user whose id comes back (an admin
removed and invited again) matches nothing.
"""

from __future__ import annotations

import time

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import request
from sqlalchemy import bindparam, select

from gateway.models import PortalUser, Reseller
from portal_runtime.identity import Identity
from portal_runtime.problems import Problem

ALGORITHM = "HS256"
TOKEN_VERSION_SPAN = 2**31 - 2


class Passwords:
    """argon2id hashing; verifying an unknown account costs the same as a known one."""

    def __init__(self, time_cost: int, memory_kib: int):
        self.hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
        self._dummy = self.hasher.hash("an account that does not exist")

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        try:
            return self.hasher.verify(password_hash or self._dummy, password) and bool(
                password_hash
            )
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self.hasher.check_needs_rehash(password_hash)


def issue_token(user: PortalUser, secret: str, ttl_seconds: int) -> str:
    now = int(time.time())
    claims = {
        "sub": user.public_id,
        "kind": user.kind,
        "ver": user.token_version,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def token_response(user: PortalUser, config) -> dict:
    """The answer of a sign-in (and of a password change, which ends the tokens before it)."""
    token = issue_token(user, config.token_secret, config.token_ttl_seconds)
    return {"access_token": token, "token_type": "Bearer", "expires_in": config.token_ttl_seconds}


def token_claims(token: str, secret: str) -> dict | None:
    """The claims of a valid token; None when forged, expired, malformed or not HS256."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"require": ["exp", "iat", "sub"]},
        )
    except jwt.PyJWTError:
        return None
    return claims if isinstance(claims.get("sub"), str) else None


def token_subject(token: str, secret: str) -> str | None:
    """The user id in a valid token; None when forged, expired, malformed or not HS256."""
    claims = token_claims(token, secret)
    return claims["sub"] if claims else None


def token_is_current(claims: dict, user) -> bool:
    """The token was issued to this user (a ``CALLER`` row or None) as it is now: not disabled,
    not signed out since."""
    version = claims.get("ver")
    if user is None or user.disabled or type(version) is not int:
        return False
    return version == user.token_version


def revoke_tokens(user: PortalUser) -> None:
    """End every token issued to ``user`` so far (the caller commits)."""
    user.token_version = (user.token_version or 0) % TOKEN_VERSION_SPAN + 1


def unauthorized(detail: str = "A valid bearer token is required.") -> Problem:
    return Problem(401, detail, headers={"WWW-Authenticate": 'Bearer realm="portal"'})


USERS, RESELLERS = PortalUser.__table__, Reseller.__table__
# The caller and its reseller in one round trip, as plain columns, built once: every request
# asks for both, and the ORM's query with a joined load was a quarter of the gateway's CPU.
CALLER = (
    select(
        USERS.c.public_id,
        USERS.c.kind,
        USERS.c.email,
        USERS.c.name,
        USERS.c.roles,
        USERS.c.reseller_id,
        USERS.c.customer_id,
        USERS.c.disabled,
        USERS.c.token_version,
        RESELLERS.c.name.label("reseller_name"),
        RESELLERS.c.currency.label("reseller_currency"),
    )
    .select_from(USERS.outerjoin(RESELLERS, RESELLERS.c.id == USERS.c.reseller_id))
    .where(USERS.c.public_id == bindparam("subject"))
)


def caller_of(user) -> Identity:
    """The authenticated user of a request (a ``CALLER`` row), as the services will see it
    (unscoped)."""
    return Identity(
        user_id=user.public_id,
        kind=user.kind,
        email=user.email,
        name=user.name,
        roles=tuple(user.roles or ()) if user.kind == "reseller_user" else (),
        reseller_id=user.reseller_id,
        reseller_name=user.reseller_name,
        customer_id=user.customer_id,
        currency=user.reseller_currency,
    )


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authenticate(service) -> Identity:
    """The caller behind this request's bearer token, or a 401 problem."""
    token = bearer_token()
    if token is None:
        raise unauthorized()
    claims = token_claims(token, service.config.token_secret)
    if claims is None:
        raise unauthorized("The bearer token is invalid or has expired.")
    if claims.get("kind") == "license_holder":
        # Opened by an e-mailed My licenses link: only that email, and no user behind it.
        email = claims.get("email")
        if not isinstance(email, str) or not email:
            raise unauthorized("The bearer token is invalid or has expired.")
        return Identity(kind="license_holder", email=email)
    with service.reader.connect() as conn:
        user = conn.execute(CALLER, {"subject": claims["sub"]}).one_or_none()
    if not token_is_current(claims, user):
        raise unauthorized("The bearer token is invalid or has expired.")
    return caller_of(user)
