"""The gateway forwards /portal/* to the portal's web process, unchanged both ways."""

from __future__ import annotations

import socket
import threading

import pytest
from flask import Flask, Response, jsonify, request
from werkzeug.serving import make_server

from gateway import portal_pages


def fake_portal() -> Flask:
    app = Flask("fake-portal")

    @app.route("/portal/<path:rest>", methods=["GET", "POST"])
    def page(rest):
        if rest == "go":
            return Response(status=302, headers={"Location": "/portal/there"})
        resp = jsonify(
            path=request.full_path,
            method=request.method,
            form=request.form.to_dict(),
            cookie=request.headers.get("Cookie"),
            forwarded_for=request.headers.get("X-Forwarded-For"),
            forwarded_proto=request.headers.get("X-Forwarded-Proto"),
            forwarded_host=request.headers.get("X-Forwarded-Host"),
        )
        resp.set_cookie("portal_session", "abc", httponly=True, samesite="Lax", path="/portal")
        resp.set_cookie("second", "two", path="/portal")
        return resp

    return app


@pytest.fixture
def portal_url():
    server = make_server("127.0.0.1", 0, fake_portal(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def front(portal_url: str) -> Flask:
    app = Flask("gateway-front")
    portal_pages.register(app, portal_url)
    return app


def test_pages_forms_and_cookies_pass_through(portal_url):
    client = front(portal_url).test_client()
    client.set_cookie("portal_session", "xyz", path="/portal")
    resp = client.post("/portal/orders/O-1?x=1%202", data={"email": "a@b.example"})
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["path"] == "/portal/orders/O-1?x=1%202"
    assert body["method"] == "POST"
    assert body["form"] == {"email": "a@b.example"}
    assert body["cookie"] == "portal_session=xyz"
    assert body["forwarded_for"] == "127.0.0.1"
    assert body["forwarded_proto"] == "http"
    assert body["forwarded_host"] == "localhost"
    cookies = resp.headers.getlist("Set-Cookie")
    assert len(cookies) == 2
    assert any("HttpOnly" in c and "SameSite=Lax" in c for c in cookies)


def test_a_cookie_the_portal_sets_goes_to_that_browser_only(portal_url):
    app = front(portal_url)
    first = app.test_client().get("/portal/a")
    assert first.headers.getlist("Set-Cookie")
    # Another browser, without cookies, must not be sent the first one's session.
    assert app.test_client().get("/portal/b").get_json()["cookie"] is None


def test_redirects_are_relayed_not_followed(portal_url):
    resp = front(portal_url).test_client().get("/portal/go")
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/portal/there"


def test_the_root_opens_the_portal(portal_url):
    resp = front(portal_url).test_client().get("/")
    assert resp.status_code == 302
    assert resp.headers["Location"] == "/portal/"


def test_a_portal_that_is_down_is_a_503_page():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    resp = front(f"http://127.0.0.1:{port}").test_client().get("/portal/")
    assert resp.status_code == 503
    assert resp.headers["Retry-After"] == "5"
    assert b"not available" in resp.data
