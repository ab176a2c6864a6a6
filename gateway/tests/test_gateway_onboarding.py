"""Onboarding at the gateway: creating a customer account lets the reseller in; a password link
makes a customer admin who signs in; admins and managing resellers are changed only by the
account's own admins."""

from __future__ import annotations

from gateway_testkit import ACME_ADMIN, DEMO, NEW_CUSTOMER_ID, OTHER, SALES_ONLY, published

from gateway.models import PortalUser
from portal_contracts import demo

NEW = {
    "name": "Initech",
    "country": "de",
    "vat_id": "DE123456789",
    "contact": {"first_name": "Peter", "last_name": "Gibbons", "email": "peter@initech.example"},
}


def set_password(gw, token: str, password: str = "a long new password"):
    return gw.call("POST", "/auth/password", json={"token": token, "password": password})


def sign_in(gw, email: str, password: str):
    return gw.client.post("/api/v1/auth/token", json={"email": email, "password": password})


def test_a_reseller_creates_a_customer_and_is_inside_it_at_once(gw, upstream):
    resp = gw.call("POST", "/customers", SALES_ONLY, json=NEW)
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert body["customer_id"] == NEW_CUSTOMER_ID
    assert (body["name"], body["country"]) == ("Initech", "DE")
    assert body["expires_at"]
    assert resp.headers["Location"] == f"/api/v1/customers/{NEW_CUSTOMER_ID}"
    created = next(r for r in upstream.received if r["path"] == "/internal/customers")
    assert created["identity"].reseller_id == demo.DEMO_RESELLER_ID
    assert created["json"]["country"] == "DE"
    # The grant: the account's routes are open to this reseller, and it is among its customers.
    licenses = gw.call("GET", f"/customers/{NEW_CUSTOMER_ID}/licenses", SALES_ONLY)
    assert licenses.status_code == 200
    listed = gw.call("GET", "/customers", DEMO).get_json()["items"]
    assert NEW_CUSTOMER_ID in [c["customer_id"] for c in listed]
    # Another reseller is not let in.
    assert gw.call("GET", f"/customers/{NEW_CUSTOMER_ID}/licenses", OTHER).status_code == 404


def test_bad_customer_details_are_a_422_per_field_and_reach_no_service(gw, upstream):
    resp = gw.call(
        "POST",
        "/customers",
        DEMO,
        json={"name": "", "country": "Deutschland", "contact": {"email": "x"}, "id": "C-1"},
    )
    assert resp.status_code == 422
    assert resp.content_type == "application/problem+json"
    assert {"name", "country", "contact", "id"} <= set(resp.get_json()["errors"])
    taken = dict(NEW, contact=dict(NEW["contact"], email=demo.OTHER_RESELLER_USER))
    resp = gw.call("POST", "/customers", DEMO, json=taken)
    assert resp.status_code == 422
    assert "another account" in str(resp.get_json()["errors"]["contact"])
    assert not any(r["path"] == "/internal/customers" for r in upstream.received)
    assert gw.call("POST", "/customers", ACME_ADMIN, json=NEW).status_code == 403


def test_a_password_link_makes_a_customer_admin_who_signs_in(gw):
    short = set_password(gw, "link-for-the-new-admin-0001", "short")
    assert short.status_code == 422
    assert "password" in short.get_json()["errors"]
    resp = set_password(gw, "link-for-the-new-admin-0001")
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json() == {
        "email": "peter@initech.example",
        "kind": "customer_admin",
        "customer_id": NEW_CUSTOMER_ID,
    }
    token = sign_in(gw, "peter@initech.example", "a long new password")
    assert token.status_code == 200
    me = gw.client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {token.get_json()['access_token']}"}
    ).get_json()
    assert (me["kind"], me["customer_id"], me["name"]) == (
        "customer_admin", NEW_CUSTOMER_ID, "Peter Gibbons",
    )  # fmt: skip


def test_a_spent_or_unknown_link_says_so_and_changes_no_password(gw):
    used = set_password(gw, "used-link-000000000000000")
    assert used.status_code == 410
    assert "used already" in used.get_json()["detail"]
    assert set_password(gw, "never-a-link-00000000000000").status_code == 404
    # A link can never take over a reseller user's sign-in.
    clash = set_password(gw, "link-for-a-reseller-email-01")
    assert clash.status_code == 409
    assert sign_in(gw, demo.DEMO_RESELLER_USER, demo.DEMO_PASSWORD).status_code == 200


def test_only_the_accounts_own_admins_invite_and_remove_admins(gw, upstream):
    bob = {"first_name": "Bob", "last_name": "Builder", "email": "bob@acme.example"}
    gw.enter(DEMO, demo.ACME_ID, demo.ACME_CONTACT)
    assert gw.call("POST", f"/customers/{demo.ACME_ID}/admins", DEMO, json=bob).status_code == 403
    resp = gw.call("POST", f"/customers/{demo.ACME_ID}/admins", ACME_ADMIN, json=bob)
    assert resp.status_code == 200  # the fake answers 200; the service's 202 is relayed as is
    assert upstream.last()["identity"].customer_scope == demo.ACME_ID
    foreign = gw.call("POST", f"/customers/{demo.GLOBEX_ID}/admins", ACME_ADMIN, json=bob)
    assert foreign.status_code == 404

    assert set_password(gw, "link-for-a-second-acme-admin").status_code == 200
    assert sign_in(gw, "bob@acme.example", "a long new password").status_code == 200
    path = f"/customers/{demo.ACME_ID}/admins/U-acme0second"
    assert gw.call("DELETE", path, DEMO).status_code == 403
    assert gw.call("DELETE", path, ACME_ADMIN).status_code == 204
    assert upstream.last()["method"] == "DELETE"
    # The removed admin's sign-in is gone.
    assert sign_in(gw, "bob@acme.example", "a long new password").status_code == 401
    with gw.service.sessions() as session:
        assert session.query(PortalUser).filter_by(email="bob@acme.example").count() == 0


def test_inviting_an_admin_whose_address_signs_in_elsewhere_answers_as_license_assign_does(
    gw, upstream
):
    """No oracle: the inviter gets the 202 of an invitation; the address's owner is e-mailed
    that nothing changed, and license-assign never hears of it."""
    assert set_password(gw, "link-for-the-new-admin-0001").status_code == 200  # Initech's admin
    path = f"/customers/{demo.ACME_ID}/admins"
    before = len(upstream.received)
    for taken in (demo.OTHER_RESELLER_USER, "peter@initech.example"):
        person = {"first_name": "Sam", "last_name": "Sales", "email": taken}
        resp = gw.call("POST", path, ACME_ADMIN, json=person)
        assert resp.status_code == 202
        body = resp.get_json()
        assert set(body) == {
            "user_id", "first_name", "last_name", "email", "status", "invited_at",
            "link_expires_at",
        }  # fmt: skip
        assert (body["email"], body["status"], body["first_name"]) == (taken, "invited", "Sam")
        assert body["user_id"].startswith("U-") and len(body["user_id"]) == 14
        assert body["link_expires_at"].startswith("2026-03-09")  # 7 days, as license-assign's
        assert resp.headers["Location"] == f"/api/v1{path}/{body['user_id']}"
    assert upstream.received[before:] == []  # nothing forwarded to license-assign
    refused = published(gw, "gateway.invitation.refused")
    assert [r["email"] for r in refused] == [demo.OTHER_RESELLER_USER, "peter@initech.example"]
    assert {r["invited_as"] for r in refused} == {"customer_admin"}
    assert refused[0]["account_name"] == demo.ACME_NAME
    assert refused[0]["invited_by"]["email"] == ACME_ADMIN


def test_an_admin_adds_a_reseller_by_one_of_its_users_email(gw, upstream):
    path = f"/customers/{demo.ACME_ID}/managing-resellers"
    unknown = gw.call("POST", path, ACME_ADMIN, json={"email": "nobody@nowhere.example"})
    assert unknown.status_code == 422
    assert "No reseller" in str(unknown.get_json()["errors"]["email"])
    resp = gw.call("POST", path, ACME_ADMIN, json={"email": demo.OTHER_RESELLER_USER.upper()})
    assert resp.status_code == 200  # relayed from the (fake) service
    sent = upstream.last()
    assert sent["path"] == f"/internal/customers/{demo.ACME_ID}/managing-resellers"
    assert b'"reseller_id": "RS-1002"' in sent["body"]
    gw.enter(DEMO, demo.ACME_ID, demo.ACME_CONTACT)
    assert gw.call("POST", path, DEMO, json={"email": DEMO}).status_code == 403


def test_a_managed_account_is_entered_by_its_customer_id_alone(gw):
    managed = gw.call(
        "POST", "/customer-access", DEMO, json={"by": "customer_id", "value": demo.GLOBEX_ID}
    )
    assert managed.status_code == 200
    assert managed.get_json()["customer_id"] == demo.GLOBEX_ID
    not_managed = gw.call(
        "POST", "/customer-access", DEMO, json={"by": "customer_id", "value": demo.ACME_ID}
    )
    assert not_managed.status_code == 404
    assert not_managed.get_json()["detail"] == "No customer matches these details."
