"""Cart-quote on SQLite with fakes of its ports (customers, licenses, orders) and a fixed clock."""

from __future__ import annotations

import pytest

from cart_quote.bootstrap import bootstrap, create_app
from cart_quote.config import CartQuoteConfig
from portal_contracts import demo
from portal_runtime import testkit
from portal_runtime.testing import deliver, event, postgres_database, service_on_sqlite
from portal_runtime.testkit import ACME_ADMIN, RESELLER, Api, reseller

# Demo Reseller's admin in Acme's account; Other Reseller's in Globex's; Acme's own admin.
DEMO_SALES = RESELLER
OTHER_SALES = reseller(
    demo.OTHER_RESELLER_ID, roles=("admin", "sales"), customer_scope=demo.GLOBEX_ID
)

# Round list prices (USD): yearly new II 100.00, so Demo Reseller (10%) pays 90.00.
PRICE_LIST = {
    "currency": "USD",
    "effective_at": "2026-11-01T00:00:00+00:00",
    "products": [
        {
            "code": code,
            "name": name,
            "includes": ["II", "PC"] if code == "ALL" else [],
            "prices": [
                {"term_years": 1, "kind": "new", "amount": yearly},
                {"term_years": 1, "kind": "renewal", "amount": renewal},
                {"term_years": 2, "kind": "new", "amount": two_years},
                {"term_years": 2, "kind": "renewal", "amount": two_renewal},
            ],
        }
        for code, name, yearly, renewal, two_years, two_renewal in [
            ("II", "IntelliJ IDEA Ultimate", "100.00", "80.00", "180.00", "144.00"),
            ("PC", "PyCharm Professional", "50.00", "40.00", "90.00", "72.00"),
            ("ALL", "All Products Pack", "300.00", "240.00", "540.00", "432.00"),
        ]
    ],
}


class FakeCustomers:
    def __init__(self):
        self.accounts = {
            demo.ACME_ID: {"id": demo.ACME_ID, "name": demo.ACME_NAME, "email": demo.ACME_CONTACT},
            demo.GLOBEX_ID: {
                "id": demo.GLOBEX_ID,
                "name": demo.GLOBEX_NAME,
                "email": demo.GLOBEX_CONTACT,
            },
        }

    def get(self, customer_id):
        return self.accounts.get(customer_id)


class FakeLicenses:
    def __init__(self):
        self.by_customer: dict[str, list[dict]] = {}
        # What license-assign's seed gives the demo accounts.
        self.teams = {(demo.ACME_ID, "T-1"), (demo.ACME_ID, "T-3"), (demo.GLOBEX_ID, "T-2")}
        self.packs = {(demo.ACME_ID, "SP-000001"), (demo.GLOBEX_ID, "SP-000002")}

    def has_team(self, customer_id, team_id):
        return (customer_id, team_id) in self.teams

    def has_pack(self, customer_id, number):
        return (customer_id, number) in self.packs

    def add(self, customer_id, license_id, product, valid_until, status="assigned", **extra):
        self.by_customer.setdefault(customer_id, []).append(
            {
                "license_id": license_id,
                "product": product,
                "status": status,
                "valid_from": "2025-12-01",
                "valid_until": valid_until,
                "team_id": extra.get("team_id", "T-1"),
                "subscription_pack": extra.get("subscription_pack", "SP-000001"),
                "assignee_email": None,
                "pending_product": extra.get("pending_product"),
            }
        )

    def get(self, customer_id, license_ids):
        return [
            lic for lic in self.by_customer.get(customer_id, []) if lic["license_id"] in license_ids
        ]


class FakeOrders:
    def __init__(self):
        self.orders: dict[str, dict] = {}

    def get(self, identity, number):
        order = self.orders.get(number)
        if order is None or order["reseller_id"] != identity.reseller_id:
            return None
        return order

    def of_quote(self, identity, quote_number):
        return next(
            (
                order
                for order in self.orders.values()
                if order["reseller_id"] == identity.reseller_id
                and (order.get("source") or {}).get("reference") == quote_number
            ),
            None,
        )


@pytest.fixture
def clock():
    return testkit.clock()


@pytest.fixture
def customers():
    return FakeCustomers()


@pytest.fixture
def licenses():
    return FakeLicenses()


@pytest.fixture
def orders():
    return FakeOrders()


@pytest.fixture
def cart_quote(tmp_path, clock, customers, licenses, orders):
    service = service_on_sqlite(
        bootstrap,
        CartQuoteConfig,
        "cart-quote",
        tmp_path,
        clock=clock,
        customers=customers,
        licenses=licenses,
        orders=orders,
    )
    deliver(service, event("catalog.price_list.published", PRICE_LIST))
    deliver(
        service,
        event(
            "catalog.partner_discount.changed",
            {"reseller_id": "RS-1001", "percent": "10", "effective_at": "2026-11-01T00:00:00Z"},
        ),
    )
    return service


@pytest.fixture
def on_postgres(clock, customers, licenses, orders):
    """cart-quote on a fresh PostgreSQL database, migrated, with the same fakes (for the
    ``integration`` tests that replace ``cart_quote`` with it)."""
    with postgres_database("cart_quote") as url:
        service = bootstrap(
            CartQuoteConfig.from_env("cart-quote", database_url=url, broker_url="memory://"),
            clock=clock,
            customers=customers,
            licenses=licenses,
            orders=orders,
        )
        service.migrate()
        try:
            yield service
        finally:
            service.engine.dispose()


@pytest.fixture
def app(cart_quote):
    return create_app(cart_quote)


@pytest.fixture
def demo_client(app):
    return Api(app, DEMO_SALES)


@pytest.fixture
def other_client(app):
    return Api(app, OTHER_SALES)


@pytest.fixture
def acme_client(app):
    return Api(app, ACME_ADMIN)


@pytest.fixture
def client_for(app):
    """Make a client calling as any identity."""
    return lambda identity: Api(app, identity)


@pytest.fixture
def people():
    """The demo identities, by name."""
    return {"demo": DEMO_SALES, "other": OTHER_SALES, "acme": ACME_ADMIN}


@pytest.fixture
def price_list():
    return PRICE_LIST
