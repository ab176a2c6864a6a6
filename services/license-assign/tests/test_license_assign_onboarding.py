"""Onboarding: a reseller creates a customer account; its admins, password links, managing
resellers and requests to manage it."""

from __future__ import annotations

import dataclasses
import datetime as dt

from license_assign_testkit import ACME

from portal_contracts import demo, validate_payload
from portal_runtime.testing import recorded
from portal_runtime.testkit import ACME_ADMIN, GATEWAY, RESELLER

NEW_RESELLER = dataclasses.replace(RESELLER, customer_scope=None)
NEW_CUSTOMER = {
    "name": "Initech",
    "country": "de",
    "vat_id": "de123456789",
    "contact": {"first_name": "Peter", "last_name": "Gibbons", "email": "Peter@Initech.example"},
}


def events_of(service, event_type: str) -> list[dict]:
    return recorded(service, event_type)


def create(api, body=None):
    resp = api.post("/internal/customers", NEW_RESELLER, json=body or NEW_CUSTOMER)
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def scoped(identity, customer_id):
    return dataclasses.replace(identity, customer_scope=customer_id)


def admin_of(customer_id: str, user_id: str, email: str):
    return dataclasses.replace(
        ACME_ADMIN, user_id=user_id, email=email, customer_id=customer_id,
        customer_scope=customer_id,
    )  # fmt: skip


def test_a_reseller_creates_an_account_whose_contact_is_invited_as_its_first_admin(api, service):
    body = create(api)
    assert body["customer_id"] == "C-100003"  # one past the demo accounts
    assert (body["name"], body["country"], body["vat_id"]) == ("Initech", "DE", "DE123456789")
    assert body["contacts"] == ["peter@initech.example"]
    assert body["admin"]["status"] == "invited"
    invited = events_of(service, "licensing.admin.invited")
    assert len(invited) == 1
    assert invited[0]["admin"]["email"] == "peter@initech.example"
    assert invited[0]["reason"] == "new_account"
    assert invited[0]["invited_by"]["email"] == demo.DEMO_RESELLER_USER
    validate_payload("licensing.admin.invited", invited[0])
    expires = dt.datetime.fromisoformat(str(invited[0]["expires_at"]))
    assert expires - service.clock.now() == dt.timedelta(days=7)
    # The contact's email enters the new account like any other, and the next one is numbered on.
    found = api.post(
        "/internal/customer-access/verify",
        GATEWAY,
        json={"by": "customer_id", "value": "C-100003", "email": "peter@initech.example"},
    )
    assert found.status_code == 200
    assert create(api, dict(NEW_CUSTOMER, name="Initrode"))["customer_id"] == "C-100004"


def test_bad_account_details_are_refused_per_field_and_create_nothing(api, service):
    resp = api.post(
        "/internal/customers",
        NEW_RESELLER,
        json={"name": "", "country": "Germany", "contact": {"email": "not-an-email"}},
    )
    assert resp.status_code == 422
    assert resp.content_type == "application/problem+json"
    errors = resp.get_json()["errors"]
    assert {"name", "country", "contact"} <= set(errors)
    assert events_of(service, "licensing.admin.invited") == []
    # Customer admins and service callers do not create accounts.
    assert api.post("/internal/customers", ACME_ADMIN, json=NEW_CUSTOMER).status_code == 404


def test_a_password_link_works_once_and_only_the_latest_one_works(api, service):
    body = create(api)
    cid, user_id = body["customer_id"], body["admin"]["user_id"]
    first = events_of(service, "licensing.admin.invited")[0]["token"]
    resent = api.post(f"/customers/{cid}/admins/{user_id}/resend", scoped(RESELLER, cid))
    assert resent.status_code == 202
    second = events_of(service, "licensing.admin.invited")[1]["token"]
    redeem = "/internal/password-links/redeem"
    old = api.post(redeem, GATEWAY, json={"token": first})
    assert old.status_code == 410
    assert "newer link" in old.get_json()["detail"]
    ok = api.post(redeem, GATEWAY, json={"token": second})
    assert ok.status_code == 200
    assert ok.get_json() == {
        "user_id": user_id,
        "customer_id": cid,
        "email": "peter@initech.example",
        "first_name": "Peter",
        "last_name": "Gibbons",
    }
    assert api.post(redeem, GATEWAY, json={"token": second}).status_code == 410
    assert api.post(redeem, GATEWAY, json={"token": "x" * 43}).status_code == 404
    # Only the gateway redeems links.
    assert api.post(redeem, RESELLER, json={"token": second}).status_code == 404
    admins = api.get(f"/customers/{cid}/admins", scoped(RESELLER, cid)).get_json()["items"]
    assert [(a["email"], a["status"]) for a in admins] == [("peter@initech.example", "active")]


def test_a_password_link_expires_after_seven_days(api, service, clock):
    create(api)
    token = events_of(service, "licensing.admin.invited")[0]["token"]
    clock.advance(days=7, seconds=1)
    resp = api.post("/internal/password-links/redeem", GATEWAY, json={"token": token})
    assert resp.status_code == 410
    assert "expired" in resp.get_json()["detail"]


def test_an_admin_invites_another_and_cannot_remove_the_last_one_who_signs_in(api, service):
    admin = ACME_ADMIN
    resp = api.post(
        f"{ACME}/admins",
        admin,
        json={"first_name": "Bob", "last_name": "Builder", "email": "bob@acme.example"},
    )
    assert resp.status_code == 202, resp.get_json()
    bob = resp.get_json()
    assert bob["status"] == "invited" and bob["link_expires_at"]
    again = api.post(
        f"{ACME}/admins",
        admin,
        json={"first_name": "Bob", "last_name": "B", "email": "BOB@acme.example"},
    )
    assert again.status_code == 409
    listed = api.get(f"{ACME}/admins", admin).get_json()["items"]
    assert [a["email"] for a in listed] == [demo.ACME_ADMIN, "bob@acme.example"]
    acme_admin_id = listed[0]["user_id"]
    assert acme_admin_id == demo.user_id_of(demo.ACME_ADMIN)
    # Bob has not set a password yet: the demo admin is the last one who can sign in.
    last = api.delete(f"{ACME}/admins/{acme_admin_id}", admin)
    assert last.status_code == 409
    assert api.delete(f"{ACME}/admins/{bob['user_id']}", admin).status_code == 204
    listed = api.get(f"{ACME}/admins", admin).get_json()["items"]
    assert [a["email"] for a in listed] == [demo.ACME_ADMIN]
    # A reseller (even with access) neither invites nor removes admins.
    assert api.post(f"{ACME}/admins", RESELLER, json=bob | {}).status_code in (403, 422)
    assert api.delete(f"{ACME}/admins/{acme_admin_id}", RESELLER).status_code == 403


def test_admins_of_another_account_are_not_found(api):
    body = create(api)
    cid = body["customer_id"]
    assert api.get(f"/customers/{cid}/admins", ACME_ADMIN).status_code == 404
    foreign = api.delete(f"{ACME}/admins/{body['admin']['user_id']}", ACME_ADMIN)
    assert foreign.status_code == 404


def test_an_admin_adds_and_removes_a_managing_reseller(api):
    path = f"/internal/customers/{demo.ACME_ID}/managing-resellers"
    body = {"reseller_id": demo.OTHER_RESELLER_ID, "reseller_name": demo.OTHER_RESELLER_NAME}
    added = api.post(path, ACME_ADMIN, json=body)
    assert added.status_code == 201
    assert api.post(path, ACME_ADMIN, json=body).status_code == 200
    listed = api.get(f"{ACME}/managing-resellers", ACME_ADMIN).get_json()["items"]
    assert [(m["reseller_id"], m["name"]) for m in listed] == [
        (demo.OTHER_RESELLER_ID, demo.OTHER_RESELLER_NAME)
    ]
    managed = api.get(
        "/internal/customers", GATEWAY, query_string={"managed_by": demo.OTHER_RESELLER_ID}
    ).get_json()["accounts"]
    assert [a["customer_id"] for a in managed] == [demo.ACME_ID]
    assert api.post(path, RESELLER, json=body).status_code == 403
    gone = api.delete(f"{ACME}/managing-resellers/{demo.OTHER_RESELLER_ID}", ACME_ADMIN)
    assert gone.status_code == 204
    assert api.get(f"{ACME}/managing-resellers", ACME_ADMIN).get_json()["items"] == []
    again = api.delete(f"{ACME}/managing-resellers/{demo.OTHER_RESELLER_ID}", ACME_ADMIN)
    assert again.status_code == 404


def test_a_request_to_manage_changes_nothing_until_an_admin_approves(api, service):
    resp = api.post(f"{ACME}/management-requests", RESELLER)
    assert resp.status_code == 202, resp.get_json()
    assert resp.get_json()["status"] == "pending"
    sent = events_of(service, "licensing.management.requested")
    assert sent[0]["admin_emails"] == [demo.ACME_ADMIN]
    assert sent[0]["reseller_name"] == demo.DEMO_RESELLER_NAME
    validate_payload("licensing.management.requested", sent[0])
    token = sent[0]["token"]
    directory = api.get(f"/internal/customers/{demo.ACME_ID}", GATEWAY).get_json()
    assert directory["managing_reseller_ids"] == []
    shown = api.get(f"/management-requests/{token}", None).get_json()
    assert (shown["customer_name"], shown["status"]) == ("Acme Corp", "pending")
    approved = api.post(f"/management-requests/{token}/approve", None)
    assert approved.status_code == 200
    directory = api.get(f"/internal/customers/{demo.ACME_ID}", GATEWAY).get_json()
    assert directory["managing_reseller_ids"] == [demo.DEMO_RESELLER_ID]
    assert api.post(f"/management-requests/{token}/decline", None).status_code == 409
    assert api.post(f"{ACME}/management-requests", RESELLER).status_code == 409
    assert api.post("/management-requests/nope-nope/approve", None).status_code == 404


def test_a_declined_or_expired_request_adds_no_manager(api, service, clock):
    api.post(f"{ACME}/management-requests", RESELLER)
    api.post(f"{ACME}/management-requests", RESELLER)  # asking again replaces the first link
    first, second = (e["token"] for e in events_of(service, "licensing.management.requested"))
    assert api.post(f"/management-requests/{first}/approve", None).status_code == 404
    declined = api.post(f"/management-requests/{second}/decline", None)
    assert declined.get_json()["status"] == "declined"
    api.post(f"{ACME}/management-requests", RESELLER)
    third = events_of(service, "licensing.management.requested")[-1]["token"]
    clock.advance(days=15)
    assert api.post(f"/management-requests/{third}/approve", None).status_code == 410
    directory = api.get(f"/internal/customers/{demo.ACME_ID}", GATEWAY).get_json()
    assert directory["managing_reseller_ids"] == []
    # A customer admin does not ask to manage its own account.
    assert api.post(f"{ACME}/management-requests", ACME_ADMIN).status_code == 403


def test_the_new_accounts_first_admin_acts_on_it_and_on_no_other(api):
    body = create(api)
    cid = body["customer_id"]
    directory = api.get(f"/internal/customers/{cid}", GATEWAY).get_json()
    assert (directory["name"], directory["admin_emails"]) == ("Initech", ["peter@initech.example"])
    new_admin = admin_of(cid, body["admin"]["user_id"], "peter@initech.example")
    assert api.get(f"/customers/{cid}/licenses", new_admin).get_json()["items"] == []
    assert api.get(f"{ACME}/admins", new_admin).status_code == 404


def test_an_invitation_link_shows_its_offer_or_says_why_it_no_longer_works(api):
    team = api.get(f"{ACME}/teams").get_json()["items"][0]["team_id"]
    link = api.post(
        f"{ACME}/invitation-links", json={"product": "PC", "team_id": team, "max_claims": 1}
    ).get_json()
    assert link["url"].endswith(f"/portal/invitations/{link['token']}")
    offer = api.get(f"/invitations/{link['token']}", None)
    assert offer.status_code == 200
    assert (offer.get_json()["product"], offer.get_json()["customer_name"]) == ("PC", "Acme Corp")
    who = {"first_name": "Kim", "last_name": "Claim", "email": "kim@acme.example"}
    assert api.post(f"/invitations/{link['token']}/claim", None, json=who).status_code == 201
    full = api.get(f"/invitations/{link['token']}", None)
    assert full.status_code == 410
    assert "No license is left" in full.get_json()["detail"]
    other = api.post(f"{ACME}/invitation-links", json={"product": "PC", "team_id": team})
    token = other.get_json()["token"]
    api.delete(f"{ACME}/invitation-links/{other.get_json()['id']}")
    disabled = api.get(f"/invitations/{token}", None)
    assert disabled.status_code == 410
    assert "disabled" in disabled.get_json()["detail"]
    assert api.get("/invitations/not-a-token-at-all", None).status_code == 404
