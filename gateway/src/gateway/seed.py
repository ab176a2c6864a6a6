"""Demo resellers and portal users (API.md, "Demo data"); idempotent."""

from __future__ import annotations

from sqlalchemy import select

from gateway.models import PortalUser, Reseller
from portal_contracts import demo

RESELLERS = [
    {
        "id": demo.DEMO_RESELLER_ID,
        "name": demo.DEMO_RESELLER_NAME,
        "currency": demo.CURRENCY,
        "country": "US",
        "billing_address": {
            "name": demo.DEMO_RESELLER_NAME,
            "line1": "1 Demo Way",
            "city": "Springfield",
            "postal_code": "12345",
            "country": "US",
        },
    },
    {
        "id": demo.OTHER_RESELLER_ID,
        "name": demo.OTHER_RESELLER_NAME,
        "currency": demo.CURRENCY,
        "country": "US",
        "billing_address": {
            "name": demo.OTHER_RESELLER_NAME,
            "line1": "2 Other Street",
            "city": "Shelbyville",
            "postal_code": "54321",
            "country": "US",
        },
    },
]

ALL_ROLES = ["admin", "billing", "sales"]
DEMO_SALES_ONLY = "sales-only@demo-reseller.example"
DEMO_BILLING_ONLY = "billing@demo-reseller.example"

USERS = [
    {
        "email": demo.DEMO_RESELLER_USER,
        "name": "Demo Sales",
        "kind": "reseller_user",
        "reseller_id": demo.DEMO_RESELLER_ID,
        "roles": ALL_ROLES,
    },
    {
        "email": DEMO_SALES_ONLY,
        "name": "Demo Sales Only",
        "kind": "reseller_user",
        "reseller_id": demo.DEMO_RESELLER_ID,
        "roles": ["sales"],
    },
    {
        "email": DEMO_BILLING_ONLY,
        "name": "Demo Billing",
        "kind": "reseller_user",
        "reseller_id": demo.DEMO_RESELLER_ID,
        "roles": ["billing"],
    },
    {
        "email": demo.OTHER_RESELLER_USER,
        "name": "Other Sales",
        "kind": "reseller_user",
        "reseller_id": demo.OTHER_RESELLER_ID,
        "roles": ALL_ROLES,
    },
    {
        "email": demo.ACME_ADMIN,
        "name": "Acme Admin",
        "kind": "customer_admin",
        "customer_id": demo.ACME_ID,
        "roles": [],
    },
]


seed_user_id = demo.user_id_of


def seed(service) -> None:
    with service.sessions() as session:
        for data in RESELLERS:
            if session.get(Reseller, data["id"]) is None:
                session.add(Reseller(**data))
        session.flush()
        for data in USERS:
            exists = session.scalar(select(PortalUser.id).where(PortalUser.email == data["email"]))
            if exists is not None:
                continue
            session.add(
                PortalUser(
                    public_id=seed_user_id(data["email"]),
                    password_hash=service.passwords.hash(demo.DEMO_PASSWORD),
                    disabled=False,
                    created_at=service.clock.now(),
                    **data,
                )
            )
        session.commit()
