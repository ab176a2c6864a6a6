"""The license-assign service's tests' kit: the seeded service on SQLite (or on the real
PostgreSQL, ``pg_service``) with a fresh signing key, on the shared test kit's fixed clock, and
``LicenseApi``: the runtime's signed ``Api`` with the service at hand and its list helpers."""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from contextlib import contextmanager

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from license_assign.activation_codes import ActivationCodes
from license_assign.bootstrap import bootstrap, create_app
from license_assign.config import LicenseAssignConfig
from license_assign.seed import seed
from portal_contracts import demo, example
from portal_runtime import testkit
from portal_runtime.testing import deliver, event, postgres_database
from portal_runtime.testkit import RESELLER, TODAY, acting_in

GLOBEX_RESELLER = acting_in(testkit.reseller(roles=("admin", "sales")), demo.GLOBEX_ID)

ACME = f"/customers/{demo.ACME_ID}"


def person(n: int | str, domain: str = "acme.example") -> dict:
    return {"first_name": f"User{n}", "last_name": "Tester", "email": f"user{n}@{domain}"}


class LicenseApi(testkit.Api):
    """The service's app called as the gateway calls it (as ``RESELLER`` unless told)."""

    def __init__(self, service, identity=RESELLER):
        super().__init__(create_app(service), identity)
        self.service = service

    def licenses(self, identity=RESELLER, customer=demo.ACME_ID, **query) -> list[dict]:
        resp = self.get(f"/customers/{customer}/licenses", identity, query_string=query)
        assert resp.status_code == 200, resp.get_json()
        return resp.get_json()["items"]

    def license(self, license_id: str, customer=demo.ACME_ID) -> dict:
        resp = self.get(f"/customers/{customer}/licenses/{license_id}")
        assert resp.status_code == 200, resp.get_json()
        return resp.get_json()


def new_service(database_url: str, clock):
    """The service on that database, migrated and seeded, signing with a fresh key."""
    config = LicenseAssignConfig.from_env(
        "license-assign", database_url=database_url, broker_url="memory://", retry_first_delay=0.0
    )
    svc = bootstrap(config, clock=clock, codes=ActivationCodes(Ed25519PrivateKey.generate()))
    svc.migrate()
    seed(svc)
    return svc


@contextmanager
def pg_service(clock, customer: str, seats: int):
    """On the real PostgreSQL: the service, with an order of ``seats`` PC seats for ``customer``
    already placed; its client."""
    with postgres_database("license_assign") as url:
        service = new_service(url, clock)
        place(service, order_placed(customer=customer, lines=[{"quantity": seats}]))
        try:
            yield LicenseApi(service)
        finally:
            service.engine.dispose()


@pytest.fixture
def clock():
    return testkit.clock()


@pytest.fixture
def service(tmp_path, clock):
    return new_service(f"sqlite:///{tmp_path / 'license-assign.db'}", clock)


@pytest.fixture
def api(service):
    return LicenseApi(service)


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
