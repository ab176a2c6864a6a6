"""What every service's tests share: the demo identities, a fixed clock and a signed client.

- ``NOW`` / ``TODAY`` and ``clock()``: the tests' fixed time (``FixedClock``);
- the demo identities as the gateway would vouch for them (``RESELLER``: Demo Reseller's admin
  acting in Acme's account; ``OTHER_RESELLER``; ``BILLING_CLERK``; ``ACME_ADMIN``; ``GATEWAY``)
  and ``reseller(...)`` / ``customer_admin(...)`` / ``license_holder(...)`` for others;
- ``Api``: a service's Flask app called as the gateway calls it, with a signed identity on every
  request (``portal_runtime.signing_client``), or none for public routes.

Infrastructure for integration tests (PostgreSQL, RabbitMQ, events, the outbox) is in
``portal_runtime.testing``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from portal_contracts import demo
from portal_runtime import identity as ids
from portal_runtime.clock import FixedClock
from portal_runtime.identity import Identity
from portal_runtime.signing_client import identity_header

NOW = dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC)
TODAY = NOW.date()


def clock(at: dt.datetime = NOW) -> FixedClock:
    return FixedClock(at)


def reseller(
    reseller_id: str = demo.DEMO_RESELLER_ID,
    *,
    roles: tuple[str, ...] = ("admin", "sales", "billing"),
    customer_scope: str | None = demo.ACME_ID,
    **fields,
) -> Identity:
    """A reseller's user, by default Demo Reseller's admin inside Acme's account."""
    own = reseller_id == demo.DEMO_RESELLER_ID
    defaults = {
        "user_id": "U-1" if own else "U-2",
        "email": demo.DEMO_RESELLER_USER if own else demo.OTHER_RESELLER_USER,
        "name": "Sam Sales" if own else "Olga Other",
        "reseller_name": demo.DEMO_RESELLER_NAME if own else demo.OTHER_RESELLER_NAME,
        "currency": "USD",
    }
    return Identity(
        kind="reseller_user",
        roles=tuple(roles),
        reseller_id=reseller_id,
        customer_scope=customer_scope,
        **{**defaults, **fields},
    )


def customer_admin(customer_id: str = demo.ACME_ID, **fields) -> Identity:
    """A customer organisation's admin, by default Acme's, in its own account."""
    defaults = {
        "user_id": "CA-1",
        "email": demo.ACME_ADMIN if customer_id == demo.ACME_ID else "admin@customer.example",
        "name": "Alice Admin",
        "currency": "USD",
    }
    return Identity(
        kind="customer_admin",
        customer_id=customer_id,
        customer_scope=customer_id,
        **{**defaults, **fields},
    )


def license_holder(email: str) -> Identity:
    """A person signed in with a My licenses link."""
    return Identity(kind="license_holder", email=email)


RESELLER = reseller()
OTHER_RESELLER = reseller(demo.OTHER_RESELLER_ID, roles=("admin", "sales"))
BILLING_CLERK = reseller(
    roles=("billing",), user_id="U-3", email="billing@demo-reseller.example", name="Bea Billing"
)
ACME_ADMIN = customer_admin()
GATEWAY = ids.service_identity("gateway")


def acting_in(identity: Identity, customer_id: str) -> Identity:
    """The same person inside another customer's account (the gateway's ``customer_scope``)."""
    return dataclasses.replace(identity, customer_scope=customer_id)


_DEFAULT = object()  # "the client's own identity"


class Api:
    """A service's app called as the gateway calls it: ``identity`` signed on every request.

    ``Api(create_app(service), RESELLER)``; ``api.get(path, identity=ACME_ADMIN)`` for another
    caller, ``identity=None`` for a public route."""

    def __init__(self, app, identity: Identity | None = RESELLER):
        self.app = app
        self.identity = identity
        self.client = app.test_client()

    def call(self, method: str, path: str, identity=_DEFAULT, **kw):
        who = self.identity if identity is _DEFAULT else identity
        headers = dict(kw.pop("headers", None) or {})
        if who is not None:
            headers[ids.HEADER] = identity_header(who)
        return self.client.open(path, method=method, headers=headers, **kw)

    def get(self, path: str, identity=_DEFAULT, **kw):
        return self.call("GET", path, identity, **kw)

    def post(self, path: str, identity=_DEFAULT, **kw):
        return self.call("POST", path, identity, **kw)

    def put(self, path: str, identity=_DEFAULT, **kw):
        return self.call("PUT", path, identity, **kw)

    def patch(self, path: str, identity=_DEFAULT, **kw):
        return self.call("PATCH", path, identity, **kw)

    def delete(self, path: str, identity=_DEFAULT, **kw):
        return self.call("DELETE", path, identity, **kw)
