"""Tokens end when they should: a sign-out, a password change, a disabled and a removed user end
every token issued before (a token version per user, checked on every request)."""

from __future__ import annotations

from gateway_testkit import ACME_ADMIN, DEMO, PASSWORD, SALES_ONLY, forged_token

from gateway.seed import seed_user_id
from portal_contracts import demo

NEW_PASSWORD = "a-new-long-password"


def sign_in(gw, email, password=PASSWORD):
    resp = gw.client.post("/api/v1/auth/token", json={"email": email, "password": password})
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["access_token"]


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def me(gw, token):
    return gw.client.get("/api/v1/me", headers=bearer(token))


def set_password(gw, password, token="link-for-a-second-acme-admin"):
    """Bob's e-mailed password link (the fake license-assign redeems it as often as asked)."""
    return gw.call("POST", "/auth/password", json={"token": token, "password": password})


def test_signing_out_ends_that_token_and_every_other_of_the_user(gw):
    laptop, phone = sign_in(gw, SALES_ONLY), sign_in(gw, SALES_ONLY)
    colleague = sign_in(gw, DEMO)
    resp = gw.client.post("/api/v1/auth/logout", headers=bearer(laptop))
    assert resp.status_code == 204
    assert resp.get_data() == b""
    for token in (laptop, phone):
        gone = me(gw, token)
        assert gone.status_code == 401
        assert gone.headers["Content-Type"] == "application/problem+json"
    # Another user's session goes on; the one who signed out signs in again as usual.
    assert me(gw, colleague).status_code == 200
    assert me(gw, sign_in(gw, SALES_ONLY)).status_code == 200


def test_signing_out_needs_a_valid_token(gw):
    assert gw.client.post("/api/v1/auth/logout").status_code == 401
    token = sign_in(gw, ACME_ADMIN)
    assert gw.client.post("/api/v1/auth/logout", headers=bearer(token)).status_code == 204
    assert gw.client.post("/api/v1/auth/logout", headers=bearer(token)).status_code == 401


def test_a_password_change_ends_older_tokens_and_answers_a_new_one(gw):
    stolen, mine = sign_in(gw, SALES_ONLY), sign_in(gw, SALES_ONLY)
    resp = gw.client.post(
        "/api/v1/me/password",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
        headers=bearer(mine),
    )
    assert resp.status_code == 200
    assert resp.headers["Cache-Control"] == "no-store"
    body = resp.get_json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    # The session that changed it goes on with the new token; every older token is refused.
    assert me(gw, body["access_token"]).get_json()["email"] == SALES_ONLY
    assert me(gw, mine).status_code == 401
    assert me(gw, stolen).status_code == 401
    assert me(gw, sign_in(gw, SALES_ONLY, NEW_PASSWORD)).status_code == 200


def test_a_wrong_current_password_changes_nothing_and_ends_no_token(gw):
    token = sign_in(gw, SALES_ONLY)
    resp = gw.client.post(
        "/api/v1/me/password",
        json={"current_password": "not-it", "new_password": NEW_PASSWORD},
        headers=bearer(token),
    )
    assert resp.status_code == 422
    assert me(gw, token).status_code == 200


def test_disabling_a_user_ends_its_tokens_even_once_it_is_enabled_again(gw):
    token = sign_in(gw, SALES_ONLY)
    user_id = me(gw, token).get_json()["user_id"]
    assert gw.call("PATCH", f"/users/{user_id}", DEMO, json={"disabled": True}).status_code == 200
    assert gw.call("PATCH", f"/users/{user_id}", DEMO, json={"disabled": False}).status_code == 200
    assert me(gw, token).status_code == 401
    assert me(gw, sign_in(gw, SALES_ONLY)).status_code == 200


def test_a_removed_admin_invited_again_does_not_get_its_old_tokens_back(gw):
    set_password(gw, "a long new password")
    old = sign_in(gw, "bob@acme.example", "a long new password")
    path = f"/customers/{demo.ACME_ID}/admins/U-acme0second"
    assert gw.call("DELETE", path, ACME_ADMIN).status_code == 204
    assert me(gw, old).status_code == 401
    # The same person (same user id from license-assign) sets a password from a new link.
    again = set_password(gw, "another long password")
    assert again.status_code == 200
    assert me(gw, old).status_code == 401
    assert me(gw, sign_in(gw, "bob@acme.example", "another long password")).status_code == 200


def test_setting_a_password_from_an_emailed_link_ends_the_sessions_of_the_old_one(gw):
    set_password(gw, "a long new password")
    before = sign_in(gw, "bob@acme.example", "a long new password")
    set_password(gw, "a reset long password")
    assert me(gw, before).status_code == 401


def test_a_token_without_a_version_or_with_another_is_401(gw):
    user_id = seed_user_id(DEMO)
    assert me(gw, forged_token(user_id)).status_code == 401
    current = me(gw, sign_in(gw, DEMO)).get_json()["user_id"]
    assert current == user_id
    with gw.service.sessions() as session:
        from gateway.models import PortalUser

        version = session.query(PortalUser).filter_by(public_id=user_id).one().token_version
    assert me(gw, forged_token(user_id, ver=version)).status_code == 200
    assert me(gw, forged_token(user_id, ver=version + 1)).status_code == 401
    assert me(gw, forged_token(user_id, ver=str(version))).status_code == 401
