"""Fixtures of billing's tests: the service on SQLite with a fixed clock and the sandbox."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from billing.bootstrap import bootstrap, create_app
from billing.commands import AddCard
from billing.config import BillingConfig
from billing.sandbox import Sandbox
from portal_contracts import demo, example
from portal_runtime import testkit
from portal_runtime.testing import postgres_database, service_on_sqlite
from portal_runtime.testkit import Api

RESELLER_TENANT = f"reseller:{demo.DEMO_RESELLER_ID}"


@pytest.fixture
def clock():
    return testkit.clock()


@pytest.fixture
def service(tmp_path, clock):
    sandbox = Sandbox(f"sqlite:///{tmp_path / 'sandbox.db'}", "http://portal.test", clock)
    service = service_on_sqlite(
        bootstrap, BillingConfig, "billing", tmp_path, clock=clock, payments=sandbox
    )
    service.config.portal_base_url = "http://portal.test"
    return service


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def service_on_both(request, tmp_path, clock):
    """Billing on SQLite, and on the real PostgreSQL (the sandbox on SQLite in both)."""
    sandbox = Sandbox(f"sqlite:///{tmp_path / 'sandbox.db'}", "http://portal.test", clock)
    if request.param == "sqlite":
        yield service_on_sqlite(
            bootstrap, BillingConfig, "billing", tmp_path, clock=clock, payments=sandbox
        )
        return
    with postgres_database("billing") as url:
        config = BillingConfig.from_env("billing", database_url=url, broker_url="memory://")
        service = bootstrap(config, clock=clock, payments=sandbox)
        service.migrate()
        yield service
        service.engine.dispose()


@pytest.fixture
def app(service):
    return create_app(service)


@pytest.fixture
def as_reseller(app):
    """Demo Reseller's admin (admin, sales and billing roles), signed as the gateway signs."""
    return Api(app, testkit.RESELLER)


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
    token = service.payments.vault_card(tenant, number, "12/29", "123", "Pat Payer")
    return service.handle(AddCard(tenant, token, method_id=method_id)).id


@pytest.fixture
def kit():
    """The helpers above, for test modules (conftest cannot be imported under importlib mode)."""
    import types

    return types.SimpleNamespace(
        order_placed=order_placed,
        customer_buyer=customer_buyer,
        other_reseller_buyer=other_reseller_buyer,
        store_card=store_card,
        RESELLER_TENANT=RESELLER_TENANT,
    )
