"""Signed identities: only the gateway vouches for users, every identity is for one request of
one service, good for 30 seconds and once, and a service is accepted only where it is listed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from flask import jsonify
from sqlalchemy.orm import DeclarativeBase

from portal_runtime import identity as ids
from portal_runtime.config import Config
from portal_runtime.db import messaging_models
from portal_runtime.keys import IdentityKeys
from portal_runtime.service import Service
from portal_runtime.testing import dev_keys
from portal_runtime.web import create_app, current_identity, trust_callers

USER = ids.Identity(
    kind="reseller_user",
    user_id="U-1",
    email="sales@demo-reseller.example",
    roles=("admin",),
    reseller_id="RS-1",
    customer_scope="C-1",
)
GATEWAY = dev_keys("gateway")
ORDERS = dev_keys("orders")
BILLING = dev_keys("billing")


def signed(identity=USER, keys=GATEWAY, audience="billing", method="GET", path="/things", **kw):
    return ids.sign(identity, keys, audience=audience, method=method, path=path, **kw)


def check(header, keys=BILLING, method="GET", path="/things", **kw):
    return ids.verify(header, keys, method=method, path=path, **kw)


def old_style_header(identity: ids.Identity, secret: str) -> str:
    """The HMAC header every service accepted before, with the public development secret."""
    body = json.dumps(
        dict(kind=identity.kind, user_id=identity.user_id, roles=[], iat=int(time.time()))
    ).encode()
    encoded = base64.urlsafe_b64encode(body).rstrip(b"=").decode()
    mac = hmac.new(secret.encode(), encoded.encode(), hashlib.sha256).hexdigest()
    return f"{encoded}.{mac}"


def test_the_gateways_identity_of_a_user_is_accepted_by_its_audience():
    who = check(signed())
    assert who == USER and who.customer_scope == "C-1"
    assert who.proof  # kept, so this service can show it when reading on the user's behalf


def test_an_identity_signed_with_the_old_development_secret_is_refused():
    for kind in ("service", "reseller_user"):
        header = old_style_header(ids.Identity(kind=kind), "dev-identity-secret-change-me")
        with pytest.raises(ids.Refused):
            check(header)


def test_an_identity_signed_with_a_key_other_than_the_gateways_is_refused():
    guessed = IdentityKeys("gateway", Ed25519PrivateKey.generate())
    with pytest.raises(ids.Refused, match="signature"):
        check(signed(keys=guessed))


def test_an_identity_is_good_for_30_seconds_and_once():
    replays = ids.ReplayCache()
    now = time.time()
    header = signed(now=now)
    assert check(header, replays=replays, now=now + 5) == USER
    with pytest.raises(ids.Refused, match="used already"):
        check(header, replays=replays, now=now + 6)
    late = signed(now=now)
    with pytest.raises(ids.Refused, match="older than 30 seconds"):
        check(late, replays=ids.ReplayCache(), now=now + 31)
    # Replayed after its 30 seconds it is stale, whatever the cache has forgotten since.
    with pytest.raises(ids.Refused, match="older than 30 seconds"):
        check(header, replays=ids.ReplayCache(), now=now + 31)


def test_a_service_cannot_mint_a_user():
    with pytest.raises(ids.Refused, match="Only the gateway vouches for users"):
        check(signed(keys=ORDERS))


def test_a_service_signs_only_as_itself():
    with pytest.raises(ids.Refused, match="only its own identity"):
        check(signed(ids.service_identity("gateway"), keys=ORDERS))


@pytest.mark.parametrize(
    "change",
    [
        {"keys": dev_keys("catalog")},  # another audience
        {"method": "POST"},
        {"path": "/other-things"},
        {"query": "customer_id=C-2"},
        {"body_digest": ids.body_hash(b'{"amount": "1000000"}')},
    ],
)
def test_an_identity_is_bound_to_its_audience_method_path_query_and_body(change):
    header = signed(body=b"")
    with pytest.raises(ids.Refused):
        check(header, **change)


class Base(DeclarativeBase):
    pass


MESSAGING = messaging_models(Base)


@pytest.fixture
def catalog(tmp_path):
    """A service that lists one caller (orders) on one route."""
    config = Config.from_env("catalog", database_url=f"sqlite:///{tmp_path / 'catalog.db'}")
    app = create_app(Service(config, "sample", MESSAGING, handlers={}))

    @app.get("/internal/methods/<method_id>")
    def method(method_id):
        who = current_identity()
        return jsonify(kind=who.kind, user_id=who.user_id, via=who.via, name=who.name)

    @app.get("/internal/everything")
    def everything():
        return jsonify(kind=current_identity().kind)

    trust_callers(app, {"orders": ["GET /internal/methods/<method_id>"]})
    return app


def call(app, path, header):
    with app.test_client() as client:
        return client.get(path, headers={ids.HEADER: header})


def test_a_service_is_accepted_only_from_listed_callers_on_listed_routes(catalog):
    ok = signed(
        ids.service_identity("orders"), ORDERS, audience="catalog", path="/internal/methods/M-1"
    )
    assert call(catalog, "/internal/methods/M-1", ok).json == {
        "kind": "service",
        "user_id": None,
        "via": None,
        "name": "orders",
    }
    elsewhere = signed(
        ids.service_identity("orders"), ORDERS, audience="catalog", path="/internal/everything"
    )
    refused = call(catalog, "/internal/everything", elsewhere)
    assert refused.status_code == 401
    assert refused.mimetype == "application/problem+json"
    assert "does not accept calls from orders" in refused.json["detail"]
    not_listed = signed(
        ids.service_identity("notifications"),
        dev_keys("notifications"),
        audience="catalog",
        path="/internal/methods/M-1",
    )
    assert call(catalog, "/internal/methods/M-1", not_listed).status_code == 401


def test_a_service_acts_for_a_user_only_with_the_gateways_identity_of_that_users_request(catalog):
    path = "/internal/methods/M-1"
    to_orders = signed(audience="orders", method="POST", path="/orders")
    relayed = signed(
        ids.service_identity("orders"), ORDERS, audience="catalog", path=path, on_behalf=to_orders
    )
    resp = call(catalog, path, relayed)
    assert resp.status_code == 200, resp.json
    assert resp.json == {"kind": "reseller_user", "user_id": "U-1", "via": "orders", "name": None}

    # The gateway's identity of a user's request to another service is no proof for orders.
    to_billing = signed(audience="billing", path="/products")
    stolen = signed(
        ids.service_identity("orders"), ORDERS, audience="catalog", path=path, on_behalf=to_billing
    )
    assert call(catalog, path, stolen).status_code == 401
    # Nor is one orders made up, nor one that is stale.
    made_up = signed(keys=ORDERS, audience="orders", path="/orders")
    forged = signed(
        ids.service_identity("orders"), ORDERS, audience="catalog", path=path, on_behalf=made_up
    )
    assert call(catalog, path, forged).status_code == 401
    old = signed(audience="orders", path="/orders", now=time.time() - 31)
    stale = signed(
        ids.service_identity("orders"), ORDERS, audience="catalog", path=path, on_behalf=old
    )
    assert call(catalog, path, stale).status_code == 401


def test_a_request_without_an_identity_gets_a_401_problem(catalog):
    with catalog.test_client() as client:
        resp = client.get("/internal/methods/M-1")
    assert resp.status_code == 401
    assert resp.mimetype == "application/problem+json"


def test_listing_a_route_that_does_not_exist_stops_the_app_at_start(catalog):
    with pytest.raises(ValueError, match="do not exist"):
        trust_callers(catalog, {"orders": ["GET /internal/nothing"]})
