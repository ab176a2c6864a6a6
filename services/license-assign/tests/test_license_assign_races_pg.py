"""Races only PostgreSQL shows: each check-then-write below must end with exactly one winner.

Every concurrent request is held right after its check (``held_after``): without a lock they all
pass the check before any of them writes.
"""

from __future__ import annotations

import threading

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from license_assign_testkit import GATEWAY, Api, order_placed, person, place
from sqlalchemy import func, select

import license_assign.api
from license_assign.activation_codes import ActivationCodes
from license_assign.bootstrap import bootstrap
from license_assign.config import LicenseAssignConfig
from license_assign.models import License, Revocation
from license_assign.seed import seed
from portal_runtime.testing import held_after, postgres_database

pytestmark = pytest.mark.integration

CUSTOMER = "C-200001"


@pytest.fixture
def pg_api(clock):
    with postgres_database("license_assign") as url:
        config = LicenseAssignConfig.from_env(
            "license-assign", database_url=url, broker_url="memory://", handler_retry_delay=0.0
        )
        service = bootstrap(
            config, clock=clock, codes=ActivationCodes(Ed25519PrivateKey.generate())
        )
        service.migrate()
        seed(service)
        place(service, order_placed(customer=CUSTOMER, lines=[{"quantity": 5}]))
        try:
            yield Api(service)
        finally:
            service.engine.dispose()


def at_once(calls) -> list:
    """Run the calls in threads started together; their answers in order."""
    results = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def run(i):
        start.wait(timeout=20)
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def new_link(api: Api) -> str:
    teams = api.get(f"/customers/{CUSTOMER}/teams", GATEWAY).get_json()["items"]
    resp = api.post(
        f"/customers/{CUSTOMER}/invitation-links",
        GATEWAY,
        json={"product": "PC", "team_id": teams[0]["team_id"]},
    )
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["token"]


def test_one_person_claiming_two_links_of_one_product_at_once_gets_one_license(pg_api, monkeypatch):
    tokens = [new_link(pg_api), new_link(pg_api)]
    monkeypatch.setattr(
        license_assign.api, "holds_product", held_after(license_assign.api.holds_product)
    )
    # Apps are built before the threads start (a CPython 3.11 AST race in werkzeug's rules).
    clients = [Api(pg_api.service) for _ in tokens]
    same_person = person("twice")
    answers = at_once(
        [
            lambda c=c, t=t: c.post(f"/invitations/{t}/claim", None, json=same_person)
            for c, t in zip(clients, tokens, strict=True)
        ]
    )

    assert sorted(r.status_code for r in answers) == [201, 409], [r.get_json() for r in answers]
    with pg_api.service.sessions() as session:
        held = session.scalar(
            select(func.count(License.id)).where(
                License.customer_id == CUSTOMER, License.assignee_email == same_person["email"]
            )
        )
    assert held == 1


def test_revocations_beyond_the_monthly_cap_at_once_let_exactly_one_through(pg_api, monkeypatch):
    assigned = pg_api.post(
        f"/customers/{CUSTOMER}/assignments",
        GATEWAY,
        json={"product": "PC", "assignees": [person(n) for n in range(4)]},
    )
    assert assigned.status_code == 200, assigned.get_json()
    ids = [a["license_id"] for a in assigned.get_json()["assigned"]]
    pg_api.service.licensing.config.monthly_revocation_cap = 1
    monkeypatch.setattr(
        license_assign.api,
        "revocations_this_month",
        held_after(license_assign.api.revocations_this_month, parties=len(ids)),
    )
    clients = [Api(pg_api.service) for _ in ids]
    answers = at_once(
        [
            lambda c=c, lid=lid: c.post(f"/customers/{CUSTOMER}/licenses/{lid}/revoke", GATEWAY)
            for c, lid in zip(clients, ids, strict=True)
        ]
    )

    assert sorted(r.status_code for r in answers) == [200, 409, 409, 409], [
        r.get_json() for r in answers
    ]
    with pg_api.service.sessions() as session:
        assert session.scalar(select(func.count(Revocation.id))) == 1
