"""Teams at the gateway: rename and merge are forwarded for the account's admins and managing
resellers; a bad body is a 422 that reaches no service."""

from __future__ import annotations

from gateway_testkit import ACME_ADMIN

from portal_contracts import demo

TEAMS = f"/customers/{demo.ACME_ID}/teams"


def test_rename_and_merge_reach_license_assign_as_the_customer_admin(gw, upstream):
    resp = gw.call("PATCH", f"{TEAMS}/T-7", ACME_ADMIN, json={"name": "Platform"})
    assert resp.status_code == 200
    sent = upstream.last()
    assert (sent["method"], sent["path"]) == ("PATCH", f"{TEAMS}/T-7")
    assert sent["identity"].customer_scope == demo.ACME_ID
    resp = gw.call("POST", f"{TEAMS}/T-7/merge", ACME_ADMIN, json={"into_team_id": "T-1"})
    assert resp.status_code == 200
    assert upstream.last()["path"] == f"{TEAMS}/T-7/merge"


def test_bad_team_bodies_are_422_naming_the_field_and_reach_no_service(gw, upstream):
    cases = [
        ("PATCH", f"{TEAMS}/T-7", {"name": "Two\nlines"}, "name"),
        ("PATCH", f"{TEAMS}/T-7", {"name": "x" * 101}, "name"),
        ("PATCH", f"{TEAMS}/T-7", {}, "name"),
        ("POST", f"{TEAMS}/T-7/merge", {}, "into_team_id"),
        ("POST", f"{TEAMS}/T-7/merge", {"into_team_id": ""}, "into_team_id"),
    ]
    for method, path, body, field in cases:
        before = len(upstream.received)
        resp = gw.call(method, path, ACME_ADMIN, json=body)
        assert resp.status_code == 422, (path, body)
        assert resp.content_type == "application/problem+json"
        assert field in resp.get_json()["errors"], resp.get_json()
        assert len(upstream.received) == before
