"""My licenses at the gateway: asking for a link answers the same 202 for everyone and is
rate-limited; an e-mailed link opens a license_holder token that reads /my/licenses only."""

from __future__ import annotations

from gateway_testkit import ACME_ADMIN, DEMO, forged_token

from portal_contracts import demo


def ask(gw, email: str, **kw):
    return gw.call("POST", "/auth/my-licenses-link", json={"email": email}, **kw)


def open_link(gw, token: str):
    return gw.call("POST", "/auth/my-licenses-session", json={"token": token})


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_asking_for_a_link_answers_the_same_whoever_asks(gw, upstream):
    known = ask(gw, "Ada@Acme.example")
    unknown = ask(gw, "nobody@nowhere.example")
    assert known.status_code == unknown.status_code == 202
    assert known.get_json() == unknown.get_json()
    assert "If this email address holds a license" in known.get_json()["detail"]
    sent = [r for r in upstream.received if r["path"] == "/internal/holder-links"]
    assert [r["json"]["email"] for r in sent] == ["ada@acme.example", "nobody@nowhere.example"]
    assert all(r["identity"].is_service for r in sent)


def test_a_bad_email_is_a_422_and_reaches_no_service(gw, upstream):
    for body in ({"email": "not an email"}, {}, {"email": "a@b.example", "extra": 1}):
        resp = gw.call("POST", "/auth/my-licenses-link", json=body)
        assert resp.status_code == 422, body
        assert resp.content_type == "application/problem+json"
    resp = gw.call("POST", "/auth/my-licenses-link", json={"email": "a@b.example\r\nBcc: x@y"})
    assert resp.status_code == 422
    assert not any(r["path"] == "/internal/holder-links" for r in upstream.received)


def test_links_are_rate_limited_per_email_and_per_address(tmp_path, clock, upstream):
    from gateway_testkit import all_services, make_gateway

    gw = make_gateway(
        tmp_path, clock, all_services(upstream.url), holder_links_per_email=2,
        holder_links_per_address=3,
    )  # fmt: skip
    assert ask(gw, "ada@acme.example").status_code == 202
    assert ask(gw, "ADA@acme.example").status_code == 202
    third = ask(gw, "ada@acme.example")
    assert third.status_code == 429 and int(third.headers["Retry-After"]) > 0
    # Another email from the same address: one more, then the address is done too.
    assert ask(gw, "bob@acme.example").status_code == 202
    assert ask(gw, "carol@acme.example").status_code == 429
    # An unknown email is counted the same: the limit says nothing about who holds a license.
    clock.advance(seconds=3601)
    assert ask(gw, "nobody@acme.example").status_code == 202


def test_an_emailed_link_opens_a_token_that_reads_only_my_licenses(gw, upstream):
    resp = open_link(gw, "my-licenses-link-of-ada-0001")
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert (body["kind"], body["email"], body["token_type"]) == (
        "license_holder",
        "ada@acme.example",
        "Bearer",
    )
    assert resp.headers["Cache-Control"] == "no-store"
    headers = bearer(body["access_token"])

    mine = gw.client.get("/api/v1/my/licenses", headers=headers)
    assert mine.status_code == 200
    forwarded = upstream.last()
    assert forwarded["path"] == "/my/licenses"
    assert forwarded["identity"].kind == "license_holder"
    assert forwarded["identity"].email == "ada@acme.example"
    assert forwarded["identity"].customer_scope is None
    code = gw.client.get("/api/v1/my/licenses/L-1/activation-code", headers=headers)
    assert code.status_code == 200

    # Nothing else: not the account, not /me, not another customer, not a reseller route.
    before = len(upstream.received)
    for path in (
        f"/customers/{demo.ACME_ID}/licenses",
        f"/customers/{demo.ACME_ID}/users",
        f"/customers/{demo.ACME_ID}/teams",
        "/me",
        "/customers",
        "/orders",
        "/invoices",
        "/products",
    ):
        resp = gw.client.get("/api/v1" + path, headers=headers)
        assert resp.status_code == 403, path
        assert "only its holder's own licenses" in resp.get_json()["detail"]
    assert len(upstream.received) == before  # none of it reached a service


def test_my_licenses_routes_are_for_a_license_holder_token_only(gw):
    assert gw.client.get("/api/v1/my/licenses").status_code == 401
    for who in (DEMO, ACME_ADMIN):
        resp = gw.call("GET", "/my/licenses", who)
        assert resp.status_code == 403
        assert "license holder" in resp.get_json()["detail"]
    # A holder token must be the gateway's own, with its email.
    forged = forged_token("license_holder:ada@acme.example", kind="license_holder",
                          email="ada@acme.example", secret="x" * 40)  # fmt: skip
    assert gw.client.get("/api/v1/my/licenses", headers=bearer(forged)).status_code == 401
    no_email = forged_token("license_holder:", kind="license_holder")
    assert gw.client.get("/api/v1/my/licenses", headers=bearer(no_email)).status_code == 401


def test_a_used_or_unknown_link_opens_nothing(gw):
    used = open_link(gw, "used-my-licenses-link-0000001")
    assert used.status_code == 410 and "used already" in used.get_json()["detail"]
    assert open_link(gw, "never-a-my-licenses-link-000001").status_code == 404
    assert open_link(gw, "short").status_code == 422
