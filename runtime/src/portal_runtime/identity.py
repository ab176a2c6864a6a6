"""Who is calling: an identity the gateway signs and every service verifies.

The gateway authenticates the bearer token and forwards the caller as ``X-Portal-Identity``,
an HMAC-signed header only holders of ``IDENTITY_SECRET`` can make. A request that bypasses the
gateway carries no valid identity and gets nothing. Services calling each other sign a
``service`` identity the same way.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import asdict, dataclass, field

HEADER = "X-Portal-Identity"
# A signed identity is good for a short while only: it is minted per request.
MAX_AGE_SECONDS = 300

KINDS = ("reseller_user", "customer_admin", "service")


@dataclass(frozen=True)
class Identity:
    kind: str
    user_id: str | None = None
    email: str | None = None
    name: str | None = None
    roles: tuple[str, ...] = field(default_factory=tuple)
    reseller_id: str | None = None
    reseller_name: str | None = None
    customer_id: str | None = None
    currency: str | None = None
    # The customer account the gateway has checked this request may act on (a reseller's live
    # grant or managed account, or a customer admin's own account); None when not checked.
    customer_scope: str | None = None

    @property
    def is_reseller(self) -> bool:
        return self.kind == "reseller_user"

    @property
    def is_customer_admin(self) -> bool:
        return self.kind == "customer_admin"

    @property
    def is_service(self) -> bool:
        return self.kind == "service"

    @property
    def tenant(self) -> str:
        """Whose data this is: ``reseller:<id>`` or ``customer:<id>`` (carts, keys, methods)."""
        if self.is_reseller:
            return f"reseller:{self.reseller_id}"
        if self.is_customer_admin:
            return f"customer:{self.customer_id}"
        return f"service:{self.name}"

    def may_access(self, customer_id: str) -> bool:
        """May this caller act on this customer account? Services ask it on every such route."""
        if self.is_service:
            return True
        if self.is_customer_admin:
            return customer_id == self.customer_id
        return customer_id == self.customer_scope

    def has_role(self, *roles: str) -> bool:
        return any(role in self.roles for role in roles)

    def buyer(self) -> dict:
        """The ``buyer`` shape events carry: a reseller (via this user) or the customer itself."""
        if self.is_reseller:
            return {
                "kind": "reseller",
                "reseller_id": self.reseller_id,
                "customer_id": None,
                "name": self.reseller_name,
                "email": self.email,
                "user_id": self.user_id,
            }
        return {
            "kind": "customer",
            "reseller_id": None,
            "customer_id": self.customer_id,
            "name": self.name or self.email,
            "email": self.email,
            "user_id": self.user_id,
        }


def service_identity(name: str) -> Identity:
    return Identity(kind="service", name=name)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(identity: Identity, secret: str, now: float | None = None) -> str:
    body = dict(asdict(identity), roles=list(identity.roles), iat=int(now or time.time()))
    encoded = _b64(json.dumps(body, separators=(",", ":"), sort_keys=True).encode())
    mac = hmac.new(secret.encode(), encoded.encode(), hashlib.sha256).hexdigest()
    return f"{encoded}.{mac}"


def verify(header: str | None, secret: str, now: float | None = None) -> Identity | None:
    """The identity in a header, or None when it is absent, forged, malformed or stale."""
    if not header or "." not in header:
        return None
    encoded, _, mac = header.rpartition(".")
    expected = hmac.new(secret.encode(), encoded.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(mac, expected):
        return None
    try:
        body = json.loads(_unb64(encoded))
        issued = int(body.pop("iat"))
        if abs((now or time.time()) - issued) > MAX_AGE_SECONDS or body["kind"] not in KINDS:
            return None
        body["roles"] = tuple(body.get("roles") or ())
        return Identity(**body)
    except (ValueError, KeyError, TypeError):
        return None
