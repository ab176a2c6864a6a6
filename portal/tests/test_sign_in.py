"""Sign-in, sign-out, the session cookie, CSRF and the way back to the page asked for."""

from __future__ import annotations

import pytest
import requests
from portal_testkit import Pages

from gateway.seed import DEMO_SALES_ONLY
from portal.app import create_app
from portal_contracts import demo

pytestmark = pytest.mark.e2e


def test_a_page_asks_to_sign_in_first_then_goes_straight_back(pages):
    resp = pages.get("/portal/customers/")
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/portal/sign-in?next=/portal/customers/"
    pages.get(resp.headers["Location"])
    resp = pages.post(
        "/portal/sign-in",
        {
            "email": demo.DEMO_RESELLER_USER,
            "password": "demo-password",
            "next": "/portal/customers/",
        },
    )
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/portal/customers/"
    assert "Globex" in pages.get("/portal/customers/").get_data(as_text=True)


def test_the_session_cookie_is_httponly_and_samesite_lax(pages):
    resp = pages.sign_in(demo.DEMO_RESELLER_USER)
    cookie = resp.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Path=/portal" in cookie


def test_a_wrong_password_says_so_next_to_the_field_and_signs_nobody_in(pages):
    pages.get("/portal/sign-in")
    resp = pages.post("/portal/sign-in", {"email": demo.DEMO_RESELLER_USER, "password": "nope"})
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert 'id="password-error"' in html
    assert "The email address or password is not right." in html
    assert "nope" not in html
    assert pages.get("/portal/").status_code == 302


def test_empty_fields_are_named(pages):
    pages.get("/portal/sign-in")
    html = pages.post("/portal/sign-in", {"email": "", "password": ""}).get_data(as_text=True)
    assert "Enter your email address." in html
    assert "Enter your password." in html


def test_a_form_without_its_csrf_token_is_refused(pages):
    resp = pages.post(
        "/portal/sign-in",
        {"email": demo.DEMO_RESELLER_USER, "password": "demo-password"},
        csrf=False,
    )
    assert resp.status_code == 400
    assert "The form expired" in resp.get_data(as_text=True)
    assert pages.get("/portal/").status_code == 302


def test_sign_out_ends_the_session(reseller_pages):
    assert reseller_pages.get("/portal/").status_code == 200
    resp = reseller_pages.post("/portal/sign-out")
    assert resp.headers["Location"] == "/portal/sign-in"
    assert reseller_pages.get("/portal/").status_code == 302


def test_next_never_leaves_the_portal(pages):
    pages.get("/portal/sign-in")
    resp = pages.post(
        "/portal/sign-in",
        {"email": demo.DEMO_RESELLER_USER, "password": "demo-password", "next": "//evil.example/"},
    )
    assert resp.headers["Location"] == "/portal/"


def test_pages_allow_only_the_portals_own_assets_and_are_not_sniffed(pages):
    resp = pages.get("/portal/sign-in")
    assert resp.status_code == 200
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "same-origin"
    policy = resp.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "'unsafe-inline'" not in policy


def test_signing_out_ends_the_token_at_the_gateway_too(pages, portal_system):
    pages.sign_in(DEMO_SALES_ONLY)
    with pages.client.session_transaction("/portal/") as cookie:
        token = cookie["token"]
    me = portal_system.gateway_url + "/me"
    assert requests.get(me, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    pages.get("/portal/")  # the signed-in page, with its sign-out form
    assert pages.post("/portal/sign-out").headers["Location"] == "/portal/sign-in"
    # A copy of the cookie's token (a shared computer, a stolen cookie) no longer works.
    assert requests.get(me, headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_people_signing_in_from_different_addresses_are_throttled_apart(pages, portal_config):
    attacker = {"REMOTE_ADDR": "203.0.113.66"}
    pages.get("/portal/sign-in", environ_base=attacker)
    for i in range(25):  # past the gateway's 20 free failures per address
        html = pages.post(
            "/portal/sign-in",
            {"email": f"guess{i}@example.com", "password": "wrong"},
            environ_base=attacker,
        ).get_data(as_text=True)
    assert "Too many failed sign-ins" in html
    # Through the same portal process, someone at another address signs in at once.
    owner = Pages(create_app(portal_config))
    owner.get("/portal/sign-in", environ_base={"REMOTE_ADDR": "198.51.100.23"})
    resp = owner.post(
        "/portal/sign-in",
        {"email": demo.DEMO_RESELLER_USER, "password": "demo-password"},
        environ_base={"REMOTE_ADDR": "198.51.100.23"},
    )
    assert resp.status_code == 302
