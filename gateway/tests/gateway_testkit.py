"""The gateway on SQLite in front of a small fake of the services behind it, over real HTTP.

The fake upstream is one Flask app served on a free port: it answers the internal reads the
gateway makes (license-assign's customer directory and access check, cart-quote's quote claim)
and echoes every other request, with the identity it verified, so tests see what was forwarded.
"""

from __future__ import annotations

import datetime as dt
import socket
import threading
from dataclasses import dataclass, field

import jwt
import pytest
from flask import Flask, Response, jsonify, request
from werkzeug.serving import make_server

from gateway.bootstrap import bootstrap, create_app
from gateway.config import GatewayConfig
from gateway.seed import DEMO_BILLING_ONLY, DEMO_SALES_ONLY, seed
from portal_contracts import demo
from portal_runtime import identity as ids
from portal_runtime.clock import FixedClock
from portal_runtime.testing import dev_keys

SERVICES = ("catalog", "cart-quote", "orders", "billing", "license-assign")
SERVICE_KEYS = {name: dev_keys(name) for name in SERVICES}
TOKEN_SECRET = "test-token-secret-of-at-least-32-bytes!"
PASSWORD = demo.DEMO_PASSWORD

DEMO = demo.DEMO_RESELLER_USER
OTHER = demo.OTHER_RESELLER_USER
SALES_ONLY = DEMO_SALES_ONLY
BILLING_ONLY = DEMO_BILLING_ONLY
ACME_ADMIN = demo.ACME_ADMIN

CUSTOMERS = {
    demo.ACME_ID: {
        "id": demo.ACME_ID,
        "name": demo.ACME_NAME,
        "email": demo.ACME_CONTACT,
        "contacts": [demo.ACME_CONTACT],
        "admin_emails": [demo.ACME_ADMIN],
        "managing_reseller_ids": [],
        "packs": ["SP-1001"],
    },
    demo.GLOBEX_ID: {
        "id": demo.GLOBEX_ID,
        "name": demo.GLOBEX_NAME,
        "email": demo.GLOBEX_CONTACT,
        "contacts": [demo.GLOBEX_CONTACT, "shared@example.com"],
        "admin_emails": [],
        "managing_reseller_ids": [demo.DEMO_RESELLER_ID],
        "packs": ["SP-2001"],
    },
    "C-100003": {
        "id": "C-100003",
        "name": "Initech",
        "email": "it@initech.example",
        "contacts": ["it@initech.example", "shared@example.com"],
        "admin_emails": [],
        "managing_reseller_ids": [],
        "packs": [],
    },
}
NEW_CUSTOMER_ID = "C-100009"
# Password links the fake license-assign redeems: token -> the admin it is for.
PASSWORD_LINKS = {
    "link-for-the-new-admin-0001": {
        "user_id": "U-new0admin01",
        "customer_id": NEW_CUSTOMER_ID,
        "email": "peter@initech.example",
        "first_name": "Peter",
        "last_name": "Gibbons",
    },
    "link-for-a-second-acme-admin": {
        "user_id": "U-acme0second",
        "customer_id": demo.ACME_ID,
        "email": "bob@acme.example",
        "first_name": "Bob",
        "last_name": "Builder",
    },
    "link-for-a-reseller-email-01": {
        "user_id": "U-clash000001",
        "customer_id": demo.ACME_ID,
        "email": demo.DEMO_RESELLER_USER,
        "first_name": "Sam",
        "last_name": "Sales",
    },
}
HOLDER_LINKS = {"my-licenses-link-of-ada-0001": "ada@acme.example"}
DIRECT_QUOTES = {"Q-2026-000042": (demo.ACME_ID, demo.ACME_CONTACT)}


@dataclass
class FakeUpstream:
    """What the fake services received, and a switch to make them misbehave."""

    url: str
    received: list[dict] = field(default_factory=list)
    claimed: list[dict] = field(default_factory=list)
    # When set, the licensing report sends its first line, then waits for the event before the
    # rest (a report still being written while the caller reads it).
    report_gate: threading.Event | None = None

    def last(self) -> dict:
        return self.received[-1]


def fake_services(state: FakeUpstream) -> Flask:
    app = Flask("fake-upstream")

    def caller() -> ids.Identity | None:
        # One stand-in for every service: the identity must be meant for one of them.
        digest = ids.body_hash(request.get_data(cache=True))
        for audience in SERVICES:
            try:
                return ids.verify(
                    request.headers.get(ids.HEADER),
                    SERVICE_KEYS[audience],
                    method=request.method,
                    path=request.path,
                    query=request.query_string,
                    body_digest=digest,
                )
            except ids.Refused:
                continue
        return None

    @app.get("/internal/customers/<customer_id>")
    def customer(customer_id):
        who = caller()
        if who is None or not who.is_service:
            return jsonify(detail="service identity needed"), 401
        found = CUSTOMERS.get(customer_id)
        if found is None:
            return jsonify(detail="No such customer."), 404
        return jsonify({k: v for k, v in found.items() if k != "packs"})

    @app.get("/internal/customers")
    def customers():
        email = (request.args.get("contact_email") or "").lower()
        managed_by = request.args.get("managed_by")
        accounts = [
            {"customer_id": c["id"], "name": c["name"]}
            for c in CUSTOMERS.values()
            if (email and email in c["contacts"] + c["admin_emails"])
            or (managed_by and managed_by in c["managing_reseller_ids"])
        ]
        return jsonify(accounts=accounts)

    @app.post("/internal/customer-access/verify")
    def verify():
        body = request.get_json()
        email = body["email"].lower()
        for c in CUSTOMERS.values():
            matches = (body["by"] == "customer_id" and body["value"] == c["id"]) or (
                body["by"] == "subscription_pack" and body["value"] in c["packs"]
            )
            if matches and email in c["contacts"] + c["admin_emails"]:
                return jsonify(customer_id=c["id"], name=c["name"])
        return jsonify(detail="No such customer."), 404

    @app.post("/internal/quotes/claim")
    def claim():
        body = request.get_json()
        found = DIRECT_QUOTES.get(body["quote_number"])
        if found is None or found[1] != body["email"].lower():
            return jsonify(detail="No such quote."), 404
        state.claimed.append(body)
        customer = CUSTOMERS[found[0]]
        return jsonify(
            customer_id=customer["id"], name=customer["name"], quote_number=body["quote_number"]
        )

    @app.post("/internal/customers")
    def create_customer():
        who = caller()
        body = request.get_json()
        state.received.append({"path": "/internal/customers", "identity": who, "json": body})
        return jsonify(
            customer_id=NEW_CUSTOMER_ID,
            name=body["name"],
            country=body["country"],
            vat_id=body.get("vat_id"),
            contacts=[body["contact"]["email"].lower()],
            admin={"user_id": "U-new0admin01", "email": body["contact"]["email"].lower()},
        ), 201

    @app.post("/internal/password-links/redeem")
    def redeem():
        who = caller()
        token = request.get_json()["token"]
        state.received.append({"path": "/internal/password-links/redeem", "identity": who})
        if who is None or not who.is_service:
            return jsonify(detail="No such password link."), 404
        if token in PASSWORD_LINKS:
            return jsonify(PASSWORD_LINKS[token])
        if token.startswith("used-"):
            return jsonify(detail="This link has been used already. Ask for a new one."), 410
        return jsonify(detail="No such password link."), 404

    @app.post("/internal/holder-links")
    def holder_link():
        who = caller()
        body = request.get_json()
        state.received.append({"path": "/internal/holder-links", "identity": who, "json": body})
        if who is None or not who.is_service:
            return jsonify(detail="service identity needed"), 401
        return jsonify({}), 202

    @app.post("/internal/holder-links/redeem")
    def redeem_holder_link():
        who = caller()
        token = request.get_json()["token"]
        state.received.append({"path": "/internal/holder-links/redeem", "identity": who})
        if who is None or not who.is_service:
            return jsonify(detail="No such link."), 404
        if token in HOLDER_LINKS:
            return jsonify(email=HOLDER_LINKS[token])
        if token.startswith("used-"):
            return jsonify(detail="This link has been used already."), 410
        return jsonify(detail="No such link."), 404

    @app.route("/<path:path>", methods=["GET", "POST", "PATCH", "DELETE"], endpoint="echo")
    def echo(path):
        who = caller()
        record = {
            "method": request.method,
            "path": "/" + path,
            "query": request.query_string.decode(),
            "headers": dict(request.headers),
            "identity": who,
            "body": request.get_data(),
            "content_type": request.content_type,
        }
        state.received.append(record)
        if who is None:
            return jsonify(detail="no identity"), 401
        if path.endswith("licensing-report") and state.report_gate is not None:
            gate = state.report_gate

            def slow_report():
                yield "license_id,product\n"
                yield "L-1,II\n" if gate.wait(timeout=10) else "TIMED OUT\n"

            return Response(slow_report(), mimetype="text/csv")
        if path.endswith("licensing-report"):
            return Response(
                "license_id,product\nL-1,II\n",
                mimetype="text/csv",
                headers={"Content-Disposition": 'attachment; filename="report.csv"'},
            )
        if request.method == "POST" and path in ("orders", "payment-methods"):
            return jsonify(number="O-1"), 201, {"Location": f"/{path}/O-1"}
        if path == "boom":
            return jsonify(detail="boom"), 500
        return jsonify(path="/" + path, seen_as=who.kind)

    return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def upstream():
    state = FakeUpstream(url="")
    server = make_server("127.0.0.1", 0, fake_services(state), threaded=True)
    state.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()


@pytest.fixture
def clock():
    return FixedClock(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC))


class Gateway:
    """The gateway app under test, with helpers to sign in and call it."""

    def __init__(self, service, app):
        self.service = service
        self.app = app
        self.client = app.test_client()
        self._tokens: dict[str, str] = {}

    def token(self, email: str) -> str:
        if email not in self._tokens:
            resp = self.client.post(
                "/api/v1/auth/token", json={"email": email, "password": PASSWORD}
            )
            assert resp.status_code == 200, resp.get_json()
            self._tokens[email] = resp.get_json()["access_token"]
        return self._tokens[email]

    def call(self, method: str, path: str, as_: str | None = None, **kw):
        headers = kw.pop("headers", {})
        if as_ is not None:
            headers["Authorization"] = f"Bearer {self.token(as_)}"
        resp = self.client.open("/api/v1" + path, method=method, headers=headers, **kw)
        if path == "/auth/logout" and as_ is not None:
            self._tokens.pop(as_, None)  # signed out: that token no longer works
        return resp

    def enter(self, as_: str, customer_id: str, email: str):
        resp = self.call(
            "POST",
            "/customer-access",
            as_,
            json={"by": "customer_id", "value": customer_id, "email": email},
        )
        assert resp.status_code == 200, resp.get_json()
        return resp


def published(gw: Gateway, event_type: str) -> list[dict]:
    """The payloads of ``event_type`` the gateway has put in its outbox, oldest first."""
    outbox = gw.service.models.Outbox
    with gw.service.sessions() as session:
        rows = session.query(outbox).filter_by(type=event_type).order_by(outbox.id).all()
        return [row.payload for row in rows]


def make_gateway(tmp_path, clock, service_urls: dict[str, str], **overrides) -> Gateway:
    config = GatewayConfig.from_env(
        "gateway",
        database_url=f"sqlite:///{tmp_path / 'gateway.db'}",
        broker_url="memory://",
        token_secret=TOKEN_SECRET,
        # Cheap hashes keep the tests fast; production uses argon2-cffi's defaults.
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        connect_timeout=0.5,
        read_timeout=2.0,
        **overrides,
    )
    service = bootstrap(config, clock=clock, service_urls=service_urls)
    service.migrate()
    seed(service)
    return Gateway(service, create_app(service))


def all_services(url: str) -> dict[str, str]:
    return {name: url for name in ("catalog", "cart-quote", "orders", "billing", "license-assign")}


@pytest.fixture
def gw(tmp_path, clock, upstream):
    upstream.received.clear()
    return make_gateway(tmp_path, clock, all_services(upstream.url))


def forged_token(sub: str, *, secret: str = TOKEN_SECRET, alg: str = "HS256", **claims) -> str:
    now = int(dt.datetime.now(dt.UTC).timestamp())
    body = {"sub": sub, "iat": now, "exp": now + 600, **claims}
    return jwt.encode(body, secret, algorithm=alg)


@pytest.fixture(scope="module")
def shared_gw(tmp_path_factory, upstream):
    """One gateway for a module's read-only checks (route matrices): cheaper than one per test.
    The matrices probe customers their callers may not see on purpose, hundreds of times: the
    limit on such failures (tested in test_gateway_customer_access) is lifted here."""
    clock = FixedClock(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC))
    return make_gateway(
        tmp_path_factory.mktemp("gw"),
        clock,
        all_services(upstream.url),
        entry_failures_per_reseller=100_000,
    )
