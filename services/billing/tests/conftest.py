"""Fixtures of billing's tests: the service on SQLite with a fixed clock and the sandbox."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal

import pytest

from billing.bootstrap import bootstrap, create_app
from billing.config import BillingConfig
from billing.sandbox import Sandbox
from portal_contracts import demo, example
from portal_runtime import identity as ids
from portal_runtime.clock import FixedClock
from portal_runtime.testing import identity_header, service_on_sqlite

START = dt.datetime(2026, 11, 22, 10, 0, tzinfo=dt.UTC)

RESELLER_TENANT = f"reseller:{demo.DEMO_RESELLER_ID}"


@pytest.fixture
def clock():
    return FixedClock(START)


@pytest.fixture
def service(tmp_path, clock):
    sandbox = Sandbox(f"sqlite:///{tmp_path / 'sandbox.db'}", "http://portal.test", clock)
    service = service_on_sqlite(
        bootstrap, BillingConfig, "billing", tmp_path, clock=clock, provider=sandbox
    )
    service.config.portal_base_url = "http://portal.test"
    return service


@pytest.fixture
def app(service):
    return create_app(service)


def reseller_user(
    reseller_id: str = demo.DEMO_RESELLER_ID, roles=("admin", "sales", "billing")
) -> ids.Identity:
    return ids.Identity(
        kind="reseller_user",
        user_id="U-1",
        email="sales@demo-reseller.example",
        name="Sam Sales",
        roles=tuple(roles),
        reseller_id=reseller_id,
        reseller_name="Demo Reseller" if reseller_id == demo.DEMO_RESELLER_ID else "Other",
        currency="USD",
    )


def customer_admin(customer_id: str = demo.ACME_ID) -> ids.Identity:
    return ids.Identity(
        kind="customer_admin",
        user_id="CU-1",
        email=demo.ACME_ADMIN,
        name="Acme Admin",
        customer_id=customer_id,
        currency="USD",
    )


class Caller:
    """A test client that sends a signed identity, the way the gateway does."""

    def __init__(self, app, identity: ids.Identity):
        self.client = app.test_client()
        self.identity = identity

    def _headers(self):
        return {ids.HEADER: identity_header(self.identity)}

    def get(self, path, **kw):
        return self.client.get(path, headers=self._headers(), **kw)

    def post(self, path, json=None, **kw):
        return self.client.post(path, json=json, headers=self._headers(), **kw)

    def delete(self, path, **kw):
        return self.client.delete(path, headers=self._headers(), **kw)


@pytest.fixture
def as_reseller(app):
    return Caller(app, reseller_user())


def order_placed(
    number: str,
    *,
    kind: str = "card",
    method_id: str | None = None,
    buyer: dict | None = None,
    customer: dict | None = None,
    po_number: str | None = None,
    lines: list[dict] | None = None,
) -> dict:
    """An ``orders.order.placed`` payload, from the contract's example."""
    payload = copy.deepcopy(example("orders.order.placed"))
    payload["order_number"] = number
    payload["payment"] = {"kind": kind, "method_id": method_id if kind != "po" else None}
    payload["po_number"] = po_number
    if buyer is not None:
        payload["buyer"] = buyer
        payload["reseller_id"] = buyer.get("reseller_id")
    if customer is not None:
        payload["customer"] = customer
    if lines is not None:
        payload["lines"] = lines
    payload["total"] = str(sum(Decimal(line["amount"]) for line in payload["lines"]))
    return payload


def customer_buyer(customer_id: str = demo.ACME_ID) -> dict:
    return {
        "kind": "customer",
        "reseller_id": None,
        "customer_id": customer_id,
        "name": "Acme Admin",
        "email": demo.ACME_ADMIN,
        "user_id": "CU-1",
    }


def other_reseller_buyer() -> dict:
    return {
        "kind": "reseller",
        "reseller_id": demo.OTHER_RESELLER_ID,
        "customer_id": None,
        "name": demo.OTHER_RESELLER_NAME,
        "email": demo.OTHER_RESELLER_USER,
        "user_id": "U-9",
    }


def store_card(service, tenant: str, number: str, method_id: str | None = None) -> str:
    """Vault a card and store it as a method of ``tenant``; return the method id."""
    from billing.handlers import add_card

    token = service.provider.vault_card(tenant, number, "12/29", "123", "Pat Payer")
    with service.uow() as uow:
        method = add_card(uow, service.billing, tenant, token, method_id=method_id)
        uow.commit()
        return method.id


@pytest.fixture
def kit():
    """The helpers above, for test modules (conftest cannot be imported under importlib mode)."""
    import types

    return types.SimpleNamespace(
        order_placed=order_placed,
        customer_buyer=customer_buyer,
        other_reseller_buyer=other_reseller_buyer,
        store_card=store_card,
        reseller_user=reseller_user,
        customer_admin=customer_admin,
        Caller=Caller,
        RESELLER_TENANT=RESELLER_TENANT,
        START=START,
    )
