"""Concurrent claims on the real PostgreSQL: 20 people, 5 free seats, exactly 5 assignments;
one person claiming through two links at once gets one license; revocations past the monthly cap
at once let exactly one through."""

from __future__ import annotations

import threading

import pytest
from license_assign_testkit import LicenseApi, person, pg_service
from sqlalchemy import func, select

from license_assign.handlers import invitations as invitation_handlers
from license_assign.handlers import licenses as license_handlers
from license_assign.models import InvitationClaim, License, Revocation
from portal_runtime.testing import held_after
from portal_runtime.testkit import customer_admin

pytestmark = pytest.mark.integration

CUSTOMER = "C-200001"
ADMIN = customer_admin(CUSTOMER, user_id="CA-9")


@pytest.fixture
def pg_api(clock):
    with pg_service(clock, CUSTOMER, seats=5) as api:
        yield api


def claim_concurrently(api: LicenseApi, tokens: list[str], people: int) -> list[int]:
    barrier = threading.Barrier(people)
    statuses: list[int] = [0] * people
    # One app per person, built here: building Flask apps in parallel threads trips a CPython
    # 3.11 race in the AST compiler that werkzeug uses for its URL rules.
    clients = [LicenseApi(api.service) for _ in range(people)]

    def run(n: int) -> None:
        client = clients[n]
        barrier.wait(timeout=20)
        resp = client.post(f"/invitations/{tokens[n % len(tokens)]}/claim", None, json=person(n))
        statuses[n] = resp.status_code

    threads = [threading.Thread(target=run, args=(n,)) for n in range(people)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return statuses


def new_links(api: LicenseApi, count: int) -> list[str]:
    admin = ADMIN
    teams = api.get(f"/customers/{CUSTOMER}/teams", admin).get_json()["items"]
    tokens = []
    for _ in range(count):
        resp = api.post(
            f"/customers/{CUSTOMER}/invitation-links",
            admin,
            json={"product": "PC", "team_id": teams[0]["team_id"]},
        )
        assert resp.status_code == 201, resp.get_json()
        tokens.append(resp.get_json()["token"])
    return tokens


def assigned_licenses(api: LicenseApi) -> list[tuple[str, str]]:
    with api.service.sessions() as session:
        return list(
            session.execute(
                select(License.license_id, License.assignee_email).where(
                    License.customer_id == CUSTOMER, License.assignee_email.is_not(None)
                )
            )
        )


def test_twenty_concurrent_claims_for_five_free_seats_assign_exactly_five(pg_api):
    statuses = claim_concurrently(pg_api, new_links(pg_api, 1), 20)

    assert statuses.count(201) == 5
    assert statuses.count(409) == 15
    held = assigned_licenses(pg_api)
    assert len(held) == 5
    assert len({lid for lid, _ in held}) == 5
    assert len({email for _, email in held}) == 5
    with pg_api.service.sessions() as session:
        assert session.scalar(select(func.count(InvitationClaim.id))) == 5


def test_claims_through_two_links_on_one_pool_never_share_a_license(pg_api):
    statuses = claim_concurrently(pg_api, new_links(pg_api, 2), 20)

    assert statuses.count(201) == 5
    held = assigned_licenses(pg_api)
    assert len(held) == 5 and len({lid for lid, _ in held}) == 5


# -- check-then-write races: each request is held right after its check (``held_after``) ----


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


def test_one_person_claiming_two_links_of_one_product_at_once_gets_one_license(pg_api, monkeypatch):
    tokens = new_links(pg_api, 2)
    monkeypatch.setattr(
        invitation_handlers, "holds_product", held_after(invitation_handlers.holds_product)
    )
    # Apps are built before the threads start (a CPython 3.11 AST race in werkzeug's rules).
    clients = [LicenseApi(pg_api.service) for _ in tokens]
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
        ADMIN,
        json={"product": "PC", "assignees": [person(n) for n in range(4)]},
    )
    assert assigned.status_code == 200, assigned.get_json()
    ids = [a["license_id"] for a in assigned.get_json()["assigned"]]
    pg_api.service.config.monthly_revocation_cap = 1
    monkeypatch.setattr(
        license_handlers,
        "revocations_this_month",
        held_after(license_handlers.revocations_this_month, parties=len(ids)),
    )
    clients = [LicenseApi(pg_api.service) for _ in ids]
    answers = at_once(
        [
            lambda c=c, lid=lid: c.post(f"/customers/{CUSTOMER}/licenses/{lid}/revoke", ADMIN)
            for c, lid in zip(clients, ids, strict=True)
        ]
    )

    assert sorted(r.status_code for r in answers) == [200, 409, 409, 409], [
        r.get_json() for r in answers
    ]
    with pg_api.service.sessions() as session:
        assert session.scalar(select(func.count(Revocation.id))) == 1


def test_a_my_licenses_link_opened_many_times_at_once_works_once(pg_api):
    from portal_runtime.testing import recorded
    from portal_runtime.testkit import GATEWAY

    path = f"/customers/{CUSTOMER}/assignments"
    assert (
        pg_api.post(path, ADMIN, json={"product": "PC", "assignees": [person(1)]}).status_code
        == 200
    )
    token = recorded(pg_api.service, "licensing.license.assigned")[-1]["my_licenses_token"]
    redeem = "/internal/holder-links/redeem"
    clients = [LicenseApi(pg_api.service) for _ in range(8)]
    answers = at_once([lambda c=c: c.post(redeem, GATEWAY, json={"token": token}) for c in clients])
    assert sorted(a.status_code for a in answers) == [200] + [410] * 7


def test_two_teams_merged_into_each_other_at_once_lose_no_license(pg_api):
    teams_path = f"/customers/{CUSTOMER}/teams"
    a = pg_api.post(teams_path, ADMIN, json={"name": "A"}).get_json()["team_id"]
    b = pg_api.post(teams_path, ADMIN, json={"name": "B"}).get_json()["team_id"]
    home = next(t for t in pg_api.get(teams_path, ADMIN).get_json()["items"] if t["is_default"])
    seats = [lic["license_id"] for lic in pg_api.licenses(ADMIN, customer=CUSTOMER)]
    for team, part in ((a, seats[:2]), (b, seats[2:4])):
        moved = pg_api.post(
            f"{teams_path}/{home['team_id']}/transfer",
            ADMIN,
            json={"license_ids": part, "to_team_id": team},
        )
        assert moved.status_code == 200
    one, other = LicenseApi(pg_api.service), LicenseApi(pg_api.service)
    answers = at_once(
        [
            lambda: one.post(f"{teams_path}/{a}/merge", ADMIN, json={"into_team_id": b}),
            lambda: other.post(f"{teams_path}/{b}/merge", ADMIN, json={"into_team_id": a}),
        ]
    )
    assert sorted(r.status_code for r in answers) in ([200, 404], [200, 422])
    left = {t["team_id"]: t for t in pg_api.get(teams_path, ADMIN).get_json()["items"]}
    survivor = a if a in left else b
    assert (a in left) != (b in left)
    assert left[survivor]["license_count"] == 4
    assert len(pg_api.licenses(ADMIN, customer=CUSTOMER)) == len(seats)
