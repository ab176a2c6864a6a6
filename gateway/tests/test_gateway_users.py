"""A reseller admin manages its own portal users, and only those."""

from gateway_testkit import ACME_ADMIN, BILLING_ONLY, DEMO, OTHER, PASSWORD, SALES_ONLY, published

from gateway.models import PortalUser
from gateway.seed import seed_user_id
from portal_contracts import demo


def emails(resp):
    return sorted(u["email"] for u in resp.get_json()["items"])


def test_an_admin_lists_only_its_own_resellers_users(gw):
    resp = gw.call("GET", "/users", DEMO)
    assert resp.status_code == 200
    assert emails(resp) == sorted([DEMO, SALES_ONLY, BILLING_ONLY])
    assert emails(gw.call("GET", "/users", OTHER)) == [OTHER]


def test_an_invited_user_gets_its_temporary_password_by_mail_and_signs_in_with_its_roles(gw):
    resp = gw.call(
        "POST", "/users", DEMO, json={"email": "New@Demo-Reseller.example", "roles": ["billing"]}
    )
    assert resp.status_code == 202
    body = resp.get_json()
    assert body == {"email": "new@demo-reseller.example", "name": None, "roles": ["billing"]}
    # The temporary password goes to the person (notifications mails it), never to the inviter.
    [invited] = published(gw, "gateway.user.invited")
    assert invited["email"] == "new@demo-reseller.example"
    assert invited["reseller_name"] == demo.DEMO_RESELLER_NAME
    assert invited["invited_by"]["email"] == DEMO
    login = gw.client.post(
        "/api/v1/auth/token",
        json={"email": "new@demo-reseller.example", "password": invited["temporary_password"]},
    )
    assert login.status_code == 200
    token = login.get_json()["access_token"]
    who = gw.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).get_json()
    assert who["reseller_id"] == demo.DEMO_RESELLER_ID
    assert who["roles"] == ["billing"]
    listed = gw.call("GET", "/users", DEMO).get_json()["items"]
    assert "new@demo-reseller.example" in [u["email"] for u in listed]
    assert all("temporary_password" not in u for u in listed)


def test_inviting_an_address_that_signs_in_elsewhere_answers_as_for_a_new_one(gw):
    """No oracle: another reseller's user and a customer admin look like anybody new."""
    new = gw.call("POST", "/users", DEMO, json={"email": "fresh@example.com", "roles": ["sales"]})
    for taken in (OTHER, ACME_ADMIN):
        resp = gw.call("POST", "/users", DEMO, json={"email": taken, "roles": ["sales"]})
        assert resp.status_code == new.status_code == 202
        assert resp.get_json() == dict(new.get_json(), email=taken)
        assert set(resp.headers.keys()) == set(new.headers.keys())
    # Nothing changed for them; each address is told what happened, the new one is invited.
    assert [p["email"] for p in published(gw, "gateway.user.invited")] == ["fresh@example.com"]
    refused = published(gw, "gateway.invitation.refused")
    assert [(p["email"], p["invited_as"]) for p in refused] == [
        (OTHER, "reseller_user"),
        (ACME_ADMIN, "reseller_user"),
    ]
    assert refused[0]["account_name"] == demo.DEMO_RESELLER_NAME
    with gw.service.sessions() as session:
        other = session.query(PortalUser).filter_by(email=OTHER).one()
        assert other.reseller_id == demo.OTHER_RESELLER_ID
    assert (
        gw.client.post(
            "/api/v1/auth/token", json={"email": OTHER, "password": PASSWORD}
        ).status_code
        == 200
    )


def test_inviting_one_of_the_resellers_own_users_again_is_a_conflict(gw):
    resp = gw.call("POST", "/users", DEMO, json={"email": SALES_ONLY, "roles": ["sales"]})
    assert resp.status_code == 409
    assert published(gw, "gateway.invitation.refused") == []


def test_server_owned_fields_cannot_be_set_when_inviting(gw):
    for extra in (
        {"id": "U-mine"},
        {"reseller_id": demo.OTHER_RESELLER_ID},
        {"disabled": False},
        {"password_hash": "x"},
        {"kind": "customer_admin"},
    ):
        body = {"email": "mass@demo-reseller.example", "roles": ["sales"], **extra}
        resp = gw.call("POST", "/users", DEMO, json=body)
        assert resp.status_code == 422, extra
        assert set(resp.get_json()["errors"]) == set(extra)
    with gw.service.sessions() as session:
        assert session.query(PortalUser).filter_by(email="mass@demo-reseller.example").count() == 0


def test_unknown_roles_are_rejected(gw):
    resp = gw.call(
        "POST", "/users", DEMO, json={"email": "x@demo-reseller.example", "roles": ["root"]}
    )
    assert resp.status_code == 422


def test_changing_roles_takes_effect_on_tokens_already_issued(gw):
    token = gw.token(SALES_ONLY)
    headers = {"Authorization": f"Bearer {token}"}
    assert gw.client.get("/api/v1/invoices", headers=headers).status_code == 403
    user_id = seed_user_id(SALES_ONLY)
    resp = gw.call("PATCH", f"/users/{user_id}", DEMO, json={"roles": ["sales", "billing"]})
    assert resp.status_code == 200
    assert resp.get_json()["roles"] == ["billing", "sales"]
    assert gw.client.get("/api/v1/invoices", headers=headers).status_code == 200


def test_a_disabled_user_can_be_enabled_again(gw):
    user_id = seed_user_id(SALES_ONLY)
    gw.call("PATCH", f"/users/{user_id}", DEMO, json={"disabled": True})
    resp = gw.client.post("/api/v1/auth/token", json={"email": SALES_ONLY, "password": PASSWORD})
    assert resp.status_code == 401
    gw.call("PATCH", f"/users/{user_id}", DEMO, json={"disabled": False})
    resp = gw.client.post("/api/v1/auth/token", json={"email": SALES_ONLY, "password": PASSWORD})
    assert resp.status_code == 200


def test_an_admin_cannot_remove_its_own_admin_role_or_disable_itself(gw):
    me = seed_user_id(DEMO)
    assert gw.call("PATCH", f"/users/{me}", DEMO, json={"roles": ["sales"]}).status_code == 409
    assert gw.call("PATCH", f"/users/{me}", DEMO, json={"disabled": True}).status_code == 409
    assert gw.call("GET", "/me", DEMO).status_code == 200
    assert sorted(gw.call("GET", "/me", DEMO).get_json()["roles"]) == ["admin", "billing", "sales"]


def test_another_resellers_user_answers_like_a_missing_one(gw):
    foreign = gw.call("PATCH", f"/users/{seed_user_id(OTHER)}", DEMO, json={"disabled": True})
    missing = gw.call("PATCH", "/users/U-doesnotexist", DEMO, json={"disabled": True})
    assert foreign.status_code == missing.status_code == 404
    assert foreign.get_json() == missing.get_json()
    assert gw.call("GET", "/me", OTHER).status_code == 200
    # Nor can a customer admin be reached through /users.
    acme = gw.call("PATCH", f"/users/{seed_user_id(ACME_ADMIN)}", DEMO, json={"disabled": True})
    assert acme.status_code == 404


def test_only_reseller_admins_manage_users(gw):
    for who in (SALES_ONLY, BILLING_ONLY, ACME_ADMIN):
        assert gw.call("GET", "/users", who).status_code == 403, who
        resp = gw.call("POST", "/users", who, json={"email": "z@z.example", "roles": ["sales"]})
        assert resp.status_code == 403, who
    assert gw.call("GET", "/users").status_code == 401


def test_the_user_list_is_paged(gw):
    for i in range(3):
        gw.call(
            "POST",
            "/users",
            DEMO,
            json={"email": f"p{i}@demo-reseller.example", "roles": ["sales"]},
        )
    first = gw.call("GET", "/users?limit=4", DEMO).get_json()
    assert len(first["items"]) == 4 and first["next_cursor"]
    rest = gw.call("GET", f"/users?limit=4&cursor={first['next_cursor']}", DEMO).get_json()
    assert len(rest["items"]) == 2 and rest["next_cursor"] is None
    assert gw.call("GET", "/users?limit=101", DEMO).status_code == 422


def test_an_invited_user_replaces_its_temporary_password(gw):
    invite = {"email": "temp@demo-reseller.example", "roles": ["sales"]}
    assert gw.call("POST", "/users", DEMO, json=invite).status_code == 202
    [invited] = published(gw, "gateway.user.invited")
    email, temporary = invited["email"], invited["temporary_password"]
    token = gw.client.post(
        "/api/v1/auth/token", json={"email": email, "password": temporary}
    ).get_json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    wrong = gw.client.post(
        "/api/v1/me/password",
        json={"current_password": "nope", "new_password": "a-new-long-password"},
        headers=headers,
    )
    assert wrong.status_code == 422
    assert "current_password" in wrong.get_json()["errors"]
    short = gw.client.post(
        "/api/v1/me/password",
        json={"current_password": temporary, "new_password": "short"},
        headers=headers,
    )
    assert short.status_code == 422
    done = gw.client.post(
        "/api/v1/me/password",
        json={"current_password": temporary, "new_password": "a-new-long-password"},
        headers=headers,
    )
    assert done.status_code == 200
    assert done.get_json()["access_token"]

    def sign_in(password):
        return gw.client.post("/api/v1/auth/token", json={"email": email, "password": password})

    assert sign_in(temporary).status_code == 401
    assert sign_in("a-new-long-password").status_code == 200


def test_wrong_current_passwords_are_limited_without_locking_sign_in(gw):
    body = {"current_password": "wrong", "new_password": "a-new-long-password"}
    statuses = [
        gw.call("POST", "/me/password", SALES_ONLY, json=body).status_code for _ in range(6)
    ]
    assert statuses == [422] * 5 + [429]
    resp = gw.client.post("/api/v1/auth/token", json={"email": SALES_ONLY, "password": PASSWORD})
    assert resp.status_code == 200
