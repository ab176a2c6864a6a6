"""The license-assign service's tests' kit: the seeded service on SQLite, a fixed clock, a fresh
signing key, and an HTTP client that signs identities the way the gateway does."""

from __future__ import annotations

import copy
import datetime as dt
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from license_assign.activation_codes import ActivationCodes
from license_assign.bootstrap import bootstrap, create_app
from license_assign.config import LicenseAssignConfig
from license_assign.seed import seed
from portal_contracts import demo, example
from portal_runtime import identity as ids
from portal_runtime.clock import FixedClock
from portal_runtime.identity import Identity
from portal_runtime.testing import deliver, event, identity_header

NOW = dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC)
TODAY = NOW.date()

RESELLER = Identity(
    kind="reseller_user",
    user_id="U-1",
    email=demo.DEMO_RESELLER_USER,
    name="Sam Sales",
    roles=("admin", "sales", "billing"),
    reseller_id=demo.DEMO_RESELLER_ID,
    reseller_name=demo.DEMO_RESELLER_NAME,
    currency="USD",
    customer_scope=demo.ACME_ID,
)
GLOBEX_RESELLER = Identity(
    kind="reseller_user",
    user_id="U-1",
    email=demo.DEMO_RESELLER_USER,
    roles=("admin", "sales"),
    reseller_id=demo.DEMO_RESELLER_ID,
    customer_scope=demo.GLOBEX_ID,
)
ACME_ADMIN = Identity(
    kind="customer_admin",
    user_id="CA-1",
    email=demo.ACME_ADMIN,
    name="Alice Admin",
    customer_id=demo.ACME_ID,
    customer_scope=demo.ACME_ID,
)
GATEWAY = ids.service_identity("gateway")

ACME = f"/customers/{demo.ACME_ID}"


def person(n: int | str, domain: str = "acme.example") -> dict:
    return {"first_name": f"User{n}", "last_name": "Tester", "email": f"user{n}@{domain}"}


class Api:
    """The service's Flask app, called with a signed identity (or none, for public routes)."""

    def __init__(self, service):
        self.service = service
        self.client = create_app(service).test_client()

    def call(self, method: str, path: str, identity: Identity | None = RESELLER, **kw):
        headers = kw.pop("headers", {})
        if identity is not None:
            headers[ids.HEADER] = identity_header(identity)
        return self.client.open(path, method=method, headers=headers, **kw)

    def get(self, path, identity=RESELLER, **kw):
        return self.call("GET", path, identity, **kw)

    def post(self, path, identity=RESELLER, **kw):
        return self.call("POST", path, identity, **kw)

    def patch(self, path, identity=RESELLER, **kw):
        return self.call("PATCH", path, identity, **kw)

    def delete(self, path, identity=RESELLER, **kw):
        return self.call("DELETE", path, identity, **kw)

    def licenses(self, identity=RESELLER, customer=demo.ACME_ID, **query) -> list[dict]:
        resp = self.get(f"/customers/{customer}/licenses", identity, query_string=query)
        assert resp.status_code == 200, resp.get_json()
        return resp.get_json()["items"]

    def license(self, license_id: str, customer=demo.ACME_ID) -> dict:
        resp = self.get(f"/customers/{customer}/licenses/{license_id}")
        assert resp.status_code == 200, resp.get_json()
        return resp.get_json()


@pytest.fixture
def clock():
    return FixedClock(NOW)


@pytest.fixture
def service(tmp_path, clock):
    config = LicenseAssignConfig.from_env(
        "license-assign",
        database_url=f"sqlite:///{tmp_path / 'license-assign.db'}",
        broker_url="memory://",
        retry_first_delay=0.0,
    )
    svc = bootstrap(config, clock=clock, codes=ActivationCodes(Ed25519PrivateKey.generate()))
    svc.migrate()
    seed(svc)
    return svc


@pytest.fixture
def api(service):
    return Api(service)


def order_placed(
    number: str = "O-2026-000100",
    *,
    customer: str = demo.ACME_ID,
    lines: list[dict] | None = None,
    po_number: str | None = None,
) -> dict:
    payload = copy.deepcopy(example("orders.order.placed"))
    payload["order_number"] = number
    payload["customer"] = {
        "id": customer,
        "name": {demo.ACME_ID: demo.ACME_NAME, demo.GLOBEX_ID: demo.GLOBEX_NAME}.get(
            customer, "New Customer Ltd"
        ),
        "email": "buyer@new.example",
    }
    payload["po_number"] = po_number
    payload["lines"] = [dict(line_defaults(i + 1), **line) for i, line in enumerate(lines or [{}])]
    return payload


def line_defaults(line_no: int) -> dict:
    return {
        "line_no": line_no,
        "kind": "new",
        "product": "PC",
        "quantity": 2,
        "term_years": 1,
        "start_date": TODAY.isoformat(),
        "end_date": dt.date(TODAY.year + 1, TODAY.month, TODAY.day).isoformat(),
        "fallback_eligible": True,
        "team_id": None,
        "team_name": None,
        "subscription_pack": None,
        "license_ids": [],
        "unit_price": "224.10",
        "amount": "448.20",
    }


def place(service, payload: dict, message_id: str | None = None) -> bool:
    return deliver(service, event("orders.order.placed", payload, message_id=message_id))


def send(service, event_type: str, payload: dict) -> bool:
    return deliver(service, event(event_type, payload, message_id=str(uuid.uuid4())))
