"""The orders service's tests' kit: the service on SQLite with fakes of its read ports.

The fakes stand in for what orders reads from other services (customers from license-assign,
pricing, carts and quotes from cart-quote, payment methods from billing); each answers per caller
tenant, as the real services do. The identities, ``NOW`` and the signed client underneath
``OrdersApi`` are ``portal_runtime.testkit``'s.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from types import SimpleNamespace

import pytest

from orders.bootstrap import bootstrap, create_app
from orders.config import OrdersConfig
from portal_contracts import demo
from portal_runtime import testkit
from portal_runtime.testing import event, service_on_sqlite
from portal_runtime.testkit import ACME_ADMIN, NOW, OTHER_RESELLER, RESELLER, TODAY

END_USER = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@acme.example"}
ADDRESS = {
    "name": "Demo Reseller Inc.",
    "line1": "1 Main St",
    "city": "Springfield",
    "country": "US",
}


class FakeCustomers:
    def __init__(self):
        self.accounts = {
            demo.ACME_ID: {
                "id": demo.ACME_ID,
                "name": demo.ACME_NAME,
                "email": demo.ACME_CONTACT,
                "contacts": [demo.ACME_CONTACT],
                "admin_emails": [demo.ACME_ADMIN],
                "managing_reseller_ids": [],
            },
            demo.GLOBEX_ID: {
                "id": demo.GLOBEX_ID,
                "name": demo.GLOBEX_NAME,
                "email": demo.GLOBEX_CONTACT,
                "contacts": [demo.GLOBEX_CONTACT],
                "admin_emails": [],
                "managing_reseller_ids": [demo.DEMO_RESELLER_ID],
            },
        }

    def get(self, customer_id: str) -> dict | None:
        return self.accounts.get(customer_id)


class FakePricing:
    """100.00 a year per license, prorated by day; renewals 75.00."""

    def __init__(self, today: dt.date):
        self.today = today
        self.calls = []

    def price(self, identity, customer_id, lines, billing_address=None):
        self.calls.append((identity.tenant, customer_id, lines))
        priced = []
        for number, line in enumerate(lines, start=1):
            term = line.get("term_years") or 1
            start = self.today
            end = line.get("end_date") or start.replace(year=start.year + term)
            yearly = Decimal("75.00") if line["kind"] == "renewal" else Decimal("100.00")
            unit = (yearly * (end - start).days / 365).quantize(Decimal("0.01"))
            quantity = line.get("quantity") or len(line.get("license_ids") or [])
            priced.append(
                {
                    "line_no": number,
                    "kind": line["kind"],
                    "product": line.get("product") or "PC",
                    "quantity": quantity,
                    "term_years": term,
                    "start_date": start.isoformat(),
                    "end_date": end.isoformat(),
                    "fallback_eligible": (end - start).days >= 365,
                    "team_id": line.get("team_id"),
                    "subscription_pack": line.get("subscription_pack"),
                    "license_ids": line.get("license_ids") or [],
                    "unit_price": str(unit),
                    "amount": str(unit * quantity),
                }
            )
        total = sum(Decimal(p["amount"]) for p in priced)
        return {"currency": "USD", "total": str(total), "lines": priced}


class FakePaymentMethods:
    def __init__(self):
        self.methods = {
            (RESELLER.tenant, demo.DEMO_CARD_METHOD_ID): {
                "id": demo.DEMO_CARD_METHOD_ID,
                "kind": "card",
                "status": "active",
            },
            (OTHER_RESELLER.tenant, "pm-other-card"): {
                "id": "pm-other-card",
                "kind": "card",
                "status": "active",
            },
            (ACME_ADMIN.tenant, "pm-acme-paypal"): {
                "id": "pm-acme-paypal",
                "kind": "paypal",
                "status": "active",
            },
        }

    def get(self, identity, method_id):
        return self.methods.get((identity.tenant, method_id))


class FakeCarts:
    """Carts per (tenant, customer) and quotes per (tenant, number), as cart-quote keeps them."""

    def __init__(self):
        self.carts: dict[tuple[str, str], dict] = {}
        self.quotes: dict[tuple[str, str], dict] = {}
        self._next_item = 1

    def cart(self, identity, customer_id, billing_address=None):
        return self.carts.get((identity.tenant, customer_id))

    def quote(self, identity, number):
        return self.quotes.get((identity.tenant, number))

    def item(
        self,
        product="PC",
        quantity=2,
        kind="new",
        license_ids=(),
        team_id=None,
        team_name=None,
        subscription_pack=None,
        start=TODAY,
        end=None,
        unit_price="224.10",
    ) -> dict:
        end = end or start.replace(year=start.year + 1)
        item = {
            "id": f"item-{self._next_item}",
            "kind": kind,
            "product": product,
            "quantity": quantity,
            "term_years": 1,
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
            "default_end_date": start.replace(year=start.year + 1).isoformat(),
            "custom_end_date": end != start.replace(year=start.year + 1),
            "fallback_eligible": (end - start).days >= 365,
            "team_id": team_id,
            "team_name": team_name,
            "subscription_pack": subscription_pack,
            "license_ids": list(license_ids),
            "unit_price": unit_price,
            "amount": str(Decimal(unit_price) * quantity),
        }
        self._next_item += 1
        return item

    def fill(self, identity, customer_id, *items, cart_id="cart-1", **extra) -> dict:
        items = list(items) or [self.item()]
        cart = {
            "id": cart_id,
            "items": items,
            "total": str(sum(Decimal(i["amount"]) for i in items)),
            "currency": "USD",
            "expires_at": (NOW + dt.timedelta(days=7)).isoformat(),
            **extra,
        }
        self.carts[(identity.tenant, customer_id)] = cart
        return cart

    def issue_quote(self, identity, number="Q-2026-000123", customer_id=demo.ACME_ID, **extra):
        items = extra.pop("lines", None) or [self.item(product="II", quantity=3)]
        quote = {
            "number": number,
            "status": "open",
            "customer": {"id": customer_id, "name": demo.ACME_NAME, "email": demo.ACME_CONTACT},
            "end_user": dict(END_USER),
            "billing_address": dict(ADDRESS),
            "po_number": "PO-777",
            "lines": items,
            "total": str(sum(Decimal(i["amount"]) for i in items)),
            "currency": "USD",
            "valid_until": (TODAY + dt.timedelta(days=30)).isoformat(),
            **extra,
        }
        self.quotes[(identity.tenant, number)] = quote
        return quote


def licenses_issued(number: str, *license_ids: str, customer_id: str = demo.ACME_ID):
    """license-assign's ``licensing.licenses.issued`` for an order."""
    return event(
        "licensing.licenses.issued",
        {
            "order_number": number,
            "customer_id": customer_id,
            "licenses": [
                {
                    "license_id": lid,
                    "product": "PC",
                    "valid_from": "2026-11-22",
                    "valid_until": "2027-11-22",
                    "team_id": "T-1",
                    "subscription_pack": "SP-1",
                }
                for lid in license_ids
            ],
        },
    )


@pytest.fixture
def clock():
    return testkit.clock()


@pytest.fixture
def fakes():
    return SimpleNamespace(
        customers=FakeCustomers(),
        pricing=FakePricing(TODAY),
        payment_methods=FakePaymentMethods(),
        carts=FakeCarts(),
    )


@pytest.fixture
def orders(tmp_path, clock, fakes):
    service = service_on_sqlite(
        bootstrap,
        OrdersConfig,
        "orders",
        tmp_path,
        clock=clock,
        customers=fakes.customers,
        pricing=fakes.pricing,
        payment_methods=fakes.payment_methods,
        carts=fakes.carts,
    )
    yield service
    service.engine.dispose()


class OrdersApi(testkit.Api):
    """The orders app called as the gateway calls it, with what placing an order needs.

    A POST carries an Idempotency-Key: ``key=None`` (the default) sends a fresh one, as a new
    request from a careful client would; ``key=False`` sends none."""

    def __init__(self, service, identity=RESELLER):
        super().__init__(create_app(service), identity)
        self.service = service

    def call(self, method, path, *identity, key=None, **kw):
        if method == "POST":
            key = str(uuid.uuid4()) if key is None else key
            if key:
                kw["headers"] = {**(kw.get("headers") or {}), "Idempotency-Key": key}
        return super().call(method, path, *identity, **kw)

    def checkout(self, identity, customer_id=demo.ACME_ID, key=None, **body):
        payload = {
            "payment_method_id": demo.DEMO_CARD_METHOD_ID,
            "billing_address": ADDRESS,
            "end_user": END_USER,
            **body,
        }
        return self.post(f"/customers/{customer_id}/cart/checkout", identity, json=payload, key=key)


@pytest.fixture
def api(orders):
    return OrdersApi(orders)
