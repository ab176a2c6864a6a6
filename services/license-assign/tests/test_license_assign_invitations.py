"""Invitation links: claims by anyone with the URL, within the link's limits."""

from __future__ import annotations

import datetime as dt

from license_assign_testkit import ACME, order_placed, person, place

from portal_runtime.testing import recorded
from portal_runtime.testkit import NOW


def default_team(api) -> str:
    return next(t for t in api.get(f"{ACME}/teams").get_json()["items"] if t["is_default"])[
        "team_id"
    ]


def new_link(api, **extra) -> dict:
    body = {"product": "PC", "team_id": default_team(api), **extra}
    resp = api.post(f"{ACME}/invitation-links", json=body)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def claim(api, token: str, who: dict):
    return api.post(f"/invitations/{token}/claim", None, json=who)


def test_anyone_with_the_url_claims_a_free_license_and_the_admins_are_told(api):
    link = new_link(api)
    assert link["url"].endswith(f"/portal/invitations/{link['token']}")

    resp = claim(api, link["token"], person(1))
    assert resp.status_code == 201, resp.get_json()
    got = resp.get_json()
    assert got["product"] == "PC" and got["assignee"]["email"] == "user1@acme.example"
    assert got["activation_code"]
    assert api.license(got["license_id"])["status"] == "assigned"

    told = recorded(api.service, "licensing.invitation.claimed")[-1]
    assert told["admin_emails"] == ["admin@acme.example"]
    assert told["claimant"]["email"] == "user1@acme.example"
    mailed = recorded(api.service, "licensing.license.assigned")[-1]
    assert (mailed["reason"], mailed["license_id"]) == ("claimed", got["license_id"])
    listed = api.get(f"{ACME}/invitation-links").get_json()["items"]
    assert listed[0]["claims"] == 1 and "token" not in listed[0]


def test_each_person_claims_once_per_link(api):
    link = new_link(api)
    assert claim(api, link["token"], person(1)).status_code == 201
    again = claim(api, link["token"], dict(person(1), email="USER1@acme.example"))
    assert again.status_code == 409


def test_max_claims_and_free_seats_limit_a_link(api):
    link = new_link(api, max_claims=1)
    assert claim(api, link["token"], person(1)).status_code == 201
    assert claim(api, link["token"], person(2)).status_code == 409

    unlimited = new_link(api)
    # Acme has 3 PC seats: one held by Ada, one just claimed, one left.
    assert claim(api, unlimited["token"], person(3)).status_code == 201
    last = claim(api, unlimited["token"], person(4))
    assert last.status_code == 409
    assert "No free license" in last.get_json()["detail"]


def test_regenerating_makes_the_old_url_say_it_was_replaced(api):
    link = new_link(api)
    resp = api.post(f"{ACME}/invitation-links/{link['id']}/regenerate")
    assert resp.status_code == 200
    fresh = resp.get_json()
    assert fresh["token"] != link["token"] and fresh["id"] == link["id"]
    refused = claim(api, link["token"], person(1))
    assert refused.status_code == 410
    assert "replaced by a new one" in refused.get_json()["detail"]
    shown = api.get(f"/invitations/{link['token']}", None)
    assert shown.status_code == 410 and "replaced by a new one" in shown.get_json()["detail"]
    # Regenerated twice: the first URL still says so; a token that never was one is a 404.
    again = api.post(f"{ACME}/invitation-links/{link['id']}/regenerate").get_json()
    assert api.get(f"/invitations/{fresh['token']}", None).status_code == 410
    assert api.get(f"/invitations/{link['token']}", None).status_code == 410
    assert api.get("/invitations/never-a-token-of-any-link", None).status_code == 404
    assert claim(api, again["token"], person(1)).status_code == 201


def test_a_disabled_link_stops_working(api):
    link = new_link(api)
    assert api.delete(f"{ACME}/invitation-links/{link['id']}").status_code == 204
    assert claim(api, link["token"], person(1)).status_code == 404


def test_an_expired_link_is_refused(api, clock):
    past = api.post(
        f"{ACME}/invitation-links",
        json={"product": "PC", "team_id": default_team(api), "expires_at": NOW.isoformat()},
    )
    assert past.status_code == 422
    link = new_link(api, expires_at=(NOW + dt.timedelta(days=1)).isoformat())
    clock.advance(days=1, seconds=1)
    resp = claim(api, link["token"], person(1))
    assert resp.status_code == 410


def test_a_domain_restriction_admits_only_those_domains(api):
    link = new_link(api, allowed_domains=["acme.example"])
    outsider = claim(api, link["token"], person(1, domain="gmail.example"))
    assert outsider.status_code == 422
    assert "email" in outsider.get_json()["errors"]
    assert claim(api, link["token"], person(2)).status_code == 201


def test_a_link_draws_only_from_its_team(api):
    created = api.post(f"{ACME}/teams", json={"name": "Interns"}).get_json()
    place(api.service, order_placed(lines=[{"quantity": 1, "team_id": created["team_id"]}]))
    link = new_link(api, team_id=created["team_id"])
    got = claim(api, link["token"], person(1)).get_json()
    assert api.license(got["license_id"])["team_id"] == created["team_id"]
    assert claim(api, link["token"], person(2)).status_code == 409


def test_a_link_for_an_unknown_team_is_rejected(api):
    resp = api.post(f"{ACME}/invitation-links", json={"product": "PC", "team_id": "T-999"})
    assert resp.status_code == 422
    assert "team_id" in resp.get_json()["errors"]


def test_a_link_for_a_product_the_account_holds_no_licenses_of_is_rejected(api):
    for product in ("XX", "RM"):
        resp = api.post(
            f"{ACME}/invitation-links", json={"product": product, "team_id": default_team(api)}
        )
        assert resp.status_code == 422, product
        assert "No such product in this account" in " ".join(resp.get_json()["errors"]["product"])
    assert api.get(f"{ACME}/invitation-links").get_json()["items"] == []


def test_a_claim_never_gives_a_second_license_of_a_product_the_person_holds(api):
    place(api.service, order_placed(lines=[{"product": "WS", "quantity": 2}]))
    bob = {"first_name": "Bob", "last_name": "Builder", "email": "bob@acme.example"}
    direct = api.post(f"{ACME}/assignments", json={"product": "WS", "assignees": [bob]})
    assert len(direct.get_json()["assigned"]) == 1
    link = new_link(api, product="WS")

    resp = claim(api, link["token"], dict(bob, email="Bob@Acme.example"))
    assert resp.status_code == 409
    assert "already hold a WS license" in resp.get_json()["detail"]
    assert len(api.licenses(assignee_email="bob@acme.example")) == 1
    assert len(api.licenses(product="WS", status="available")) == 1
    assert api.get(f"{ACME}/invitation-links").get_json()["items"][0]["claims"] == 0
    # Someone else still claims the free seat.
    assert claim(api, link["token"], person(1)).status_code == 201


def test_allowed_domains_must_be_domain_names(api):
    for bad in ("@@bad", "not a domain", "@@bad.com", "a..b.com", "-x.com", "x_y.com", "com"):
        resp = api.post(
            f"{ACME}/invitation-links",
            json={"product": "PC", "team_id": default_team(api), "allowed_domains": [bad]},
        )
        assert resp.status_code == 422, bad
        assert "allowed_domains" in resp.get_json()["errors"], bad
    link = new_link(api, allowed_domains=["@Acme.example", "mail.acme-corp.example"])
    assert link["allowed_domains"] == ["acme.example", "mail.acme-corp.example"]


def test_a_claim_with_a_line_break_in_a_name_is_refused_naming_the_field(api):
    link = new_link(api)
    sneaky = {**person(1), "last_name": "Tester\r\nBcc: victim@elsewhere.example"}
    resp = claim(api, link["token"], sneaky)
    assert resp.status_code == 422
    assert resp.mimetype == "application/problem+json"
    assert list(resp.get_json()["errors"]) == ["last_name"]
    assert api.licenses(assignee_email=sneaky["email"]) == []
