"""My licenses: a single-use, expiring e-mailed link to a holder's own licenses, and what a
``license_holder`` identity can (and cannot) read."""

from __future__ import annotations

from license_assign_testkit import ACME, person

from portal_runtime.testing import recorded
from portal_runtime.testkit import ACME_ADMIN, GATEWAY, RESELLER, license_holder


def assign(api, n: int, product: str = "PC") -> dict:
    resp = api.post(f"{ACME}/assignments", json={"product": product, "assignees": [person(n)]})
    assert resp.status_code == 200 and resp.get_json()["assigned"], resp.get_json()
    return resp.get_json()["assigned"][0]


def ask(api, email: str):
    return api.post("/internal/holder-links", GATEWAY, json={"email": email})


def redeem(api, token: str):
    return api.post("/internal/holder-links/redeem", GATEWAY, json={"token": token})


def test_the_assignment_email_carries_a_single_use_link_to_my_licenses(api):
    lic = assign(api, 1)
    sent = recorded(api.service, "licensing.license.assigned")[-1]
    token = sent["my_licenses_token"]
    assert token and sent["my_licenses_expires_at"]
    first = redeem(api, token)
    assert first.status_code == 200 and first.get_json() == {"email": "user1@acme.example"}
    again = redeem(api, token)
    assert again.status_code == 410 and "used already" in again.get_json()["detail"]
    assert redeem(api, "not-a-token-anyone-was-given").status_code == 404
    mine = api.get("/my/licenses", license_holder("user1@acme.example")).get_json()["items"]
    assert [m["license_id"] for m in mine] == [lic["license_id"]]


def test_a_link_is_sent_only_to_a_holder_and_the_answer_is_the_same(api):
    assign(api, 1)
    known = ask(api, "USER1@acme.example")
    unknown = ask(api, "nobody@acme.example")
    assert known.status_code == unknown.status_code == 202
    assert known.get_json() == unknown.get_json() == {}
    issued = recorded(api.service, "licensing.holder_link.issued")
    assert [e["holder"]["email"] for e in issued] == ["user1@acme.example"]
    assert issued[0]["license_count"] == 1
    assert ask(api, "not an email").status_code == 422


def test_a_link_expires_after_seven_days(api, clock):
    assign(api, 1)
    ask(api, "user1@acme.example")
    token = recorded(api.service, "licensing.holder_link.issued")[-1]["token"]
    clock.advance(days=7, seconds=1)
    resp = redeem(api, token)
    assert resp.status_code == 410 and "expired" in resp.get_json()["detail"]


def test_a_holder_reads_only_their_own_licenses_and_codes(api):
    mine = assign(api, 1)
    theirs = assign(api, 2)
    me = license_holder("user1@acme.example")
    page = api.get("/my/licenses", me).get_json()
    assert page["email"] == "user1@acme.example"
    (item,) = page["items"]
    assert item["license_id"] == mine["license_id"]
    assert item["customer_name"] == "Acme Corp" and item["product"] == "PC"
    assert item["valid_until"] and "fallback_version" in item

    code = api.get(f"/my/licenses/{mine['license_id']}/activation-code", me)
    assert code.status_code == 200
    body = code.get_json()
    payload = api.service.codes.verify(body["activation_code"])
    assert payload["license_id"] == mine["license_id"]
    assert body["licensee"]["email"] == "user1@acme.example"

    # Another holder's license is missing to me, and the account is not mine to read.
    assert api.get(f"/my/licenses/{theirs['license_id']}/activation-code", me).status_code == 404
    for path in ("licenses", "users", "teams", "invitation-links", "licensing-report"):
        assert api.get(f"{ACME}/{path}", me).status_code == 404, path
    assert api.post(f"{ACME}/teams", me, json={"name": "Mine"}).status_code == 404
    assert api.get("/internal/customers/C-100001", me).status_code == 404


def test_the_my_licenses_routes_answer_only_a_license_holder(api):
    lic = assign(api, 1)
    code = f"/my/licenses/{lic['license_id']}/activation-code"
    for who in (RESELLER, ACME_ADMIN):
        assert api.get("/my/licenses", who).status_code == 404
        assert api.get(code, who).status_code == 404
    # A service is not let in at all (it is not listed as a caller of these routes).
    assert api.get("/my/licenses", GATEWAY).status_code == 401
    # Only the gateway asks for and redeems links.
    assert api.post(
        "/internal/holder-links", RESELLER, json={"email": "a@b.example"}
    ).status_code == (404)
    assert api.post(
        "/internal/holder-links/redeem", RESELLER, json={"token": "x" * 30}
    ).status_code == (404)


def test_a_revoked_license_leaves_my_licenses(api):
    lic = assign(api, 1)
    assert api.post(f"{ACME}/licenses/{lic['license_id']}/revoke").status_code == 200
    me = license_holder("user1@acme.example")
    assert api.get("/my/licenses", me).get_json()["items"] == []
    resp = api.get(f"/my/licenses/{lic['license_id']}/activation-code", me)
    assert resp.status_code == 404
