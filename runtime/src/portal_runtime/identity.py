"""Who is calling: an identity the gateway signs for a user, or a service signs for itself.

The gateway authenticates the bearer token and forwards the caller as ``X-Portal-Identity``, signed
with its Ed25519 key; services hold only its public key, so no service can mint a user. A service
calling another signs a ``service`` identity with its own key, and the called service accepts it
only from the callers and on the routes it lists (``portal_runtime.web.trust_callers``). A service
reading on behalf of a user passes the gateway's identity along as proof (``obo``): it can act
for a user only while that user's own request to it is under way.

Every identity names its audience (the service it is for), the method, the path with its query
and a SHA-256 of the body; it is good for ``MAX_AGE_SECONDS`` and once: a replayed ``jti`` is
refused (remembered per process, see :class:`ReplayCache`).
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
import uuid
from collections import deque
from dataclasses import asdict, dataclass, field, fields, replace
from urllib.parse import unquote

from cryptography.exceptions import InvalidSignature

from portal_runtime.keys import IdentityKeys

HEADER = "X-Portal-Identity"
# A signed identity is minted per request and good for a short while only.
MAX_AGE_SECONDS = 30

# ``license_holder``: a person who opened an e-mailed "My licenses" link; only ``email`` is set,
# and only the routes of their own licenses answer them.
KINDS = ("reseller_user", "customer_admin", "license_holder", "service")
# The signer that vouches for users.
ISSUER = "gateway"


class Refused(Exception):
    """An identity header that is absent, forged, stale, replayed or not meant for this call."""


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
    # The address of the person behind the request, where a signer vouches for it (the portal
    # tells the gateway whose sign-in it relays, so limits per address see that person).
    client_address: str | None = None
    # The service that relayed a user's identity (the user's request was to it), if any.
    via: str | None = field(default=None, compare=False)
    # The gateway's signed header this identity came in, so a service can pass it along.
    proof: str | None = field(default=None, compare=False, repr=False)

    @property
    def is_reseller(self) -> bool:
        return self.kind == "reseller_user"

    @property
    def is_customer_admin(self) -> bool:
        return self.kind == "customer_admin"

    @property
    def is_license_holder(self) -> bool:
        return self.kind == "license_holder"

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
        if self.is_license_holder:
            return f"license_holder:{self.email}"
        return f"service:{self.name}"

    def may_access(self, customer_id: str) -> bool:
        """May this caller act on this customer account? Services ask it on every such route."""
        if self.is_service:
            return True
        if self.is_customer_admin:
            return customer_id == self.customer_id
        if self.is_license_holder:
            return False  # a holder sees their own licenses, never an account
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


def target(path: str, query: str | bytes = "") -> str:
    """The request target an identity is bound to: the decoded path, and the raw query."""
    if isinstance(query, bytes):
        query = query.decode("latin-1")
    return unquote(path) + ("?" + query if query else "")


def body_hash(body: bytes | str | None) -> str:
    if isinstance(body, str):
        body = body.encode()
    return hashlib.sha256(body or b"").hexdigest()


_CLAIMS = tuple(f.name for f in fields(Identity) if f.name not in ("via", "proof"))


def sign(
    identity: Identity,
    keys: IdentityKeys,
    *,
    audience: str,
    method: str,
    path: str,
    query: str | bytes = "",
    body: bytes | str | None = b"",
    now: float | None = None,
    on_behalf: str | None = None,
) -> str:
    """The header value for one request from ``keys.name`` to ``audience``."""
    claims = {name: value for name, value in asdict(identity).items() if name in _CLAIMS}
    claims.update(
        roles=list(identity.roles),
        iss=keys.name,
        aud=audience,
        htm=method.upper(),
        htu=target(path, query),
        bh=body_hash(body),
        iat=int(now if now is not None else time.time()),
        jti=uuid.uuid4().hex,
    )
    if on_behalf:
        claims["obo"] = on_behalf
    encoded = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    signature = keys.private.sign(encoded.encode("ascii"))
    return f"{encoded}.{_b64(signature)}"


class ReplayCache:
    """The ``jti`` of every identity accepted in the last ``MAX_AGE_SECONDS``, in this process.

    Per process: a replay to another worker or replica of the same service within 30 s is not
    caught here, but it can only repeat the identical call (same audience, method, path, query
    and body) the gateway made a moment before, and only by someone who can read the traffic
    between the gateway and the services. Sharing it through the service's database would cost
    a write (and a cleanup) on every request of every service, reads included, and a migration
    in each; the calls worth replaying are already safe to repeat (orders need an
    ``Idempotency-Key``, events are deduplicated by the inbox), so it stays in memory.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._seen: set[str] = set()
        self._order: deque[tuple[float, str]] = deque()

    def first_use(self, jti: str, expires: float, now: float) -> bool:
        with self._lock:
            while self._order and self._order[0][0] < now:
                self._seen.discard(self._order.popleft()[1])
            if jti in self._seen:
                return False
            self._seen.add(jti)
            self._order.append((expires, jti))
            return True


def _open(header: str, keys: IdentityKeys) -> dict:
    """The claims of a header whose signature checks out against its issuer's public key."""
    encoded, dot, signature = header.partition(".")
    if not dot or not encoded or not signature:
        raise Refused("The identity header is malformed.")
    try:
        claims = json.loads(_unb64(encoded))
        issuer = claims["iss"]
        raw_signature = _unb64(signature)
    except (ValueError, KeyError, TypeError):
        raise Refused("The identity header is malformed.") from None
    if not isinstance(claims, dict) or not isinstance(issuer, str):
        raise Refused("The identity header is malformed.")
    public = keys.public_key(issuer)
    if public is None:
        raise Refused(f"No key is known for the signer {issuer!r}.")
    try:
        public.verify(raw_signature, encoded.encode("ascii"))
    except (InvalidSignature, ValueError):
        raise Refused("The identity's signature does not verify.") from None
    return claims


def _fresh(claims: dict, now: float) -> None:
    issued = claims.get("iat")
    if not isinstance(issued, int) or abs(now - issued) > MAX_AGE_SECONDS:
        raise Refused(f"The identity is older than {MAX_AGE_SECONDS} seconds.")


def _identity(claims: dict, **extra) -> Identity:
    if claims.get("kind") not in KINDS:
        raise Refused("The identity names no known kind of caller.")
    try:
        values = {name: claims.get(name) for name in _CLAIMS if name in claims}
        values["roles"] = tuple(values.get("roles") or ())
        return Identity(**values, **extra)
    except TypeError:
        raise Refused("The identity header is malformed.") from None


def verify(
    header: str | None,
    keys: IdentityKeys,
    *,
    method: str,
    path: str,
    query: str | bytes = "",
    body_digest: str | None = None,
    replays: ReplayCache | None = None,
    now: float | None = None,
) -> Identity:
    """The verified identity of one request to service ``keys.name``; :class:`Refused` otherwise.

    Whether a ``service`` caller may call this route is the caller's business
    (``portal_runtime.web``); this checks signature, audience, binding, age and replay.
    """
    if not header:
        raise Refused("This service answers only requests relayed by the gateway.")
    now = time.time() if now is None else now
    claims = _open(header, keys)
    if claims.get("aud") != keys.name:
        raise Refused(f"The identity is meant for {claims.get('aud')!r}, not {keys.name!r}.")
    if claims.get("htm") != method.upper() or claims.get("htu") != target(path, query):
        raise Refused("The identity was signed for another request.")
    if claims.get("bh") != (body_digest or body_hash(b"")):
        raise Refused("The identity was signed for another request body.")
    _fresh(claims, now)
    issuer = claims["iss"]
    if claims.get("kind") == "service":
        if claims.get("name") != issuer:
            raise Refused("A service signs only its own identity.")
    elif issuer != ISSUER:
        raise Refused("Only the gateway vouches for users.")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        raise Refused("The identity has no jti.")
    if replays is not None and not replays.first_use(jti, claims["iat"] + MAX_AGE_SECONDS, now):
        raise Refused("This identity has been used already.")
    identity = _identity(claims)
    proof = claims.get("obo")
    if proof is None:
        # A user's identity keeps the header, so this service can show it to another one.
        return identity if identity.is_service else replace(identity, proof=header)
    if not identity.is_service or not isinstance(proof, str):
        raise Refused("Only a service relays a user's identity.")
    return _relayed_user(proof, keys, relayed_by=issuer, now=now)


def _relayed_user(proof: str, keys: IdentityKeys, *, relayed_by: str, now: float) -> Identity:
    """The user a service acts for: the gateway's identity of the user's request to that
    service, still fresh."""
    claims = _open(proof, keys)
    if claims.get("iss") != ISSUER or claims.get("kind") == "service":
        raise Refused("Only the gateway vouches for users.")
    if claims.get("aud") != relayed_by:
        raise Refused(f"The relayed identity was for {claims.get('aud')!r}, not {relayed_by!r}.")
    if claims.get("obo") is not None:
        raise Refused("A relayed identity is not relayed again.")
    _fresh(claims, now)
    return _identity(claims, via=relayed_by)
