"""Signing in, bearer tokens and the sign-in rate limits."""

import base64
import json

import pytest
from gateway_testkit import (
    ACME_ADMIN,
    DEMO,
    PASSWORD,
    SALES_ONLY,
    all_services,
    forged_token,
    make_gateway,
    published,
)

from gateway.config import GatewayConfig
from gateway.seed import seed_user_id
from portal_contracts import demo


def login(gw, email, password=PASSWORD, **kw):
    return gw.client.post("/api/v1/auth/token", json={"email": email, "password": password}, **kw)


def me(gw, token):
    return gw.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})


def test_a_seeded_reseller_user_signs_in_and_sees_itself(gw):
    resp = login(gw, DEMO)
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    who = me(gw, body["access_token"]).get_json()
    assert who["kind"] == "reseller_user"
    assert who["reseller_id"] == demo.DEMO_RESELLER_ID
    assert sorted(who["roles"]) == ["admin", "billing", "sales"]


def test_a_customer_admin_signs_in_to_its_own_account(gw):
    who = me(gw, login(gw, ACME_ADMIN).get_json()["access_token"]).get_json()
    assert who["kind"] == "customer_admin"
    assert who["customer_id"] == demo.ACME_ID
    assert who["roles"] == []
    assert "reseller_id" not in who


def test_email_is_case_insensitive(gw):
    assert login(gw, DEMO.upper()).status_code == 200


def test_wrong_password_and_unknown_account_answer_the_same(gw):
    wrong = login(gw, DEMO, "not-the-password")
    unknown = login(gw, "nobody@example.com")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.get_json() == unknown.get_json()
    assert wrong.headers["Content-Type"] == "application/problem+json"


def test_unknown_fields_in_the_sign_in_body_are_rejected(gw):
    resp = gw.client.post(
        "/api/v1/auth/token", json={"email": DEMO, "password": PASSWORD, "roles": ["admin"]}
    )
    assert resp.status_code == 422
    assert "roles" in resp.get_json()["errors"]


def test_a_disabled_user_cannot_sign_in_and_its_tokens_stop_working(gw):
    token = gw.token(SALES_ONLY)
    user_id = me(gw, token).get_json()["user_id"]
    resp = gw.call("PATCH", f"/users/{user_id}", DEMO, json={"disabled": True})
    assert resp.status_code == 200
    assert me(gw, token).status_code == 401
    assert login(gw, SALES_ONLY).status_code == 401


def test_no_token_is_401_with_a_bearer_challenge(gw):
    resp = gw.client.get("/api/v1/me")
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")


def test_tampered_tokens_are_401(gw):
    good = gw.token(DEMO)
    header, payload, signature = good.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = seed_user_id(demo.OTHER_RESELLER_USER)
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    tampered = f"{header}.{forged_payload}.{signature}"
    flipped = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    user = seed_user_id(DEMO)
    expired = forged_token(user, iat=1_600_000_000, exp=1_600_000_600)
    other_key = forged_token(user, secret="some-other-secret-of-at-least-32-bytes")
    none_header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    alg_none = f"{none_header}.{payload}."
    no_exp = _unsigned_claims(user, {"iat": 1})
    for token in (tampered, flipped, expired, other_key, alg_none, no_exp, "garbage"):
        assert me(gw, token).status_code == 401, token


def _unsigned_claims(sub, extra):
    import jwt
    from gateway_testkit import TOKEN_SECRET

    return jwt.encode({"sub": sub, **extra}, TOKEN_SECRET, algorithm="HS256")


def test_a_token_for_a_user_that_does_not_exist_is_401(gw):
    assert me(gw, forged_token("U-000000000000")).status_code == 401


def test_failed_sign_ins_are_limited_per_account_with_retry_after(gw):
    for _ in range(5):
        assert login(gw, DEMO, "wrong").status_code == 401
    resp = login(gw, DEMO)  # even the right password waits now
    assert resp.status_code == 429
    assert 1 <= int(resp.headers["Retry-After"]) <= 900
    # Another account from the same address is not affected yet.
    assert login(gw, SALES_ONLY).status_code == 200


def test_the_account_limit_lifts_when_the_window_has_passed(gw, clock):
    for _ in range(5):
        login(gw, DEMO, "wrong")
    assert login(gw, DEMO).status_code == 429
    clock.advance(seconds=901)
    assert login(gw, DEMO).status_code == 200


def test_the_owner_signs_in_while_an_attacker_fails_on_the_same_account_elsewhere(gw):
    attacker, owner = {"REMOTE_ADDR": "10.6.6.6"}, {"REMOTE_ADDR": "10.0.0.1"}
    answers = [login(gw, DEMO, "guess", environ_base=attacker).status_code for _ in range(12)]
    assert answers[:5] == [401] * 5 and set(answers[5:]) == {429}
    resp = login(gw, DEMO, environ_base=owner)
    assert resp.status_code == 200
    assert me(gw, resp.get_json()["access_token"]).status_code == 200
    # The attacker's address is still slowed down, even with the right password.
    assert login(gw, DEMO, environ_base=attacker).status_code == 429


def test_failures_slow_an_address_down_with_growing_delays_not_a_lockout(gw, clock):
    attacker = {"REMOTE_ADDR": "10.6.6.7"}
    for _ in range(5):
        assert login(gw, DEMO, "guess", environ_base=attacker).status_code == 401
    waits = []
    for _ in range(4):
        resp = login(gw, DEMO, "guess", environ_base=attacker)
        assert resp.status_code == 429
        waits.append(int(resp.headers["Retry-After"]))
        clock.advance(seconds=waits[-1])
        assert login(gw, DEMO, "guess", environ_base=attacker).status_code == 401
    assert waits == [1, 2, 4, 8]
    # Once it has waited, the right password from there signs in and forgives the address.
    clock.advance(seconds=16)
    assert login(gw, DEMO, environ_base=attacker).status_code == 200
    assert login(gw, DEMO, "guess", environ_base=attacker).status_code == 401


def test_failed_sign_ins_are_limited_per_client_address(tmp_path, clock, upstream):
    gw = make_gateway(tmp_path, clock, all_services(upstream.url), login_failures_per_address=3)
    for i in range(3):
        login(gw, f"guess{i}@example.com", "x", environ_base={"REMOTE_ADDR": "10.0.0.9"})
    limited = login(gw, DEMO, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert login(gw, DEMO, environ_base={"REMOTE_ADDR": "10.0.0.10"}).status_code == 200


def test_behind_a_trusted_proxy_the_limit_is_per_forwarded_client(tmp_path, clock, upstream):
    gw = make_gateway(
        tmp_path,
        clock,
        all_services(upstream.url),
        login_failures_per_address=2,
        trusted_proxies=1,
    )
    proxy = {"REMOTE_ADDR": "10.1.1.1"}
    for i in range(2):
        login(
            gw, f"g{i}@example.com", "x", environ_base=proxy, headers={"X-Forwarded-For": "1.2.3.4"}
        )
    limited = login(gw, DEMO, environ_base=proxy, headers={"X-Forwarded-For": "1.2.3.4"})
    assert limited.status_code == 429
    other = login(gw, DEMO, environ_base=proxy, headers={"X-Forwarded-For": "5.6.7.8"})
    assert other.status_code == 200


def test_a_placeholder_or_short_token_secret_stops_the_gateway_at_start(monkeypatch):
    monkeypatch.setenv("GATEWAY_TOKEN_SECRET", "CHANGE-ME")
    with pytest.raises(ValueError, match="GATEWAY_TOKEN_SECRET is a placeholder"):
        GatewayConfig.from_env()
    monkeypatch.setenv("GATEWAY_TOKEN_SECRET", "x" * 31)
    with pytest.raises(ValueError, match="GATEWAY_TOKEN_SECRET must be at least 32 bytes"):
        GatewayConfig.from_env()
    monkeypatch.setenv("GATEWAY_TOKEN_SECRET", "x" * 32)
    assert GatewayConfig.from_env().token_secret == "x" * 32


def test_a_body_nested_too_deeply_is_a_422_before_any_sign_in(gw):
    deep = "[" * 5000
    for path in ("/api/v1/auth/token", "/api/v1/activation-codes/verify"):
        resp = gw.client.post(path, data=deep, content_type="application/json")
        assert resp.status_code == 422, path
        assert resp.content_type == "application/problem+json"


def test_the_owner_is_told_once_when_its_sign_in_gets_throttled(gw, clock):
    attacker, elsewhere = {"REMOTE_ADDR": "203.0.113.5"}, {"REMOTE_ADDR": "203.0.113.6"}
    for _ in range(4):
        login(gw, DEMO, "guess", environ_base=attacker)
    assert published(gw, "gateway.sign_in.throttled") == []  # not throttled yet
    login(gw, DEMO, "guess", environ_base=attacker)
    [notice] = published(gw, "gateway.sign_in.throttled")
    assert notice["email"] == DEMO
    assert notice["user_id"] == seed_user_id(DEMO)
    assert (notice["client_address"], notice["failures"]) == ("203.0.113.5", 5)
    assert notice["window_minutes"] == 15
    # The same episode: more attempts, and another address being throttled, tell nobody again.
    for _ in range(3):
        clock.advance(seconds=60)
        login(gw, DEMO, "guess", environ_base=attacker)
    for _ in range(5):
        login(gw, DEMO, "guess", environ_base=elsewhere)
    assert len(published(gw, "gateway.sign_in.throttled")) == 1
    # A new episode once the window has passed.
    clock.advance(seconds=901)
    for _ in range(5):
        login(gw, DEMO, "guess", environ_base=attacker)
    assert len(published(gw, "gateway.sign_in.throttled")) == 2


def test_failures_on_an_unknown_account_tell_nobody(gw):
    for _ in range(6):
        login(gw, "nobody@example.com", "guess")
    assert published(gw, "gateway.sign_in.throttled") == []
