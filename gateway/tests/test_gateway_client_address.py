"""Sign-ins relayed by the portal count against the person's address, which the portal vouches
for with its own key (``X-Portal-Client``), not against the portal's own address."""

from __future__ import annotations

import json

from gateway_testkit import DEMO, PASSWORD, SALES_ONLY, all_services, make_gateway

from portal_runtime import identity as ids
from portal_runtime.testing import dev_keys

PORTAL_ADDRESS = {"REMOTE_ADDR": "127.0.0.1"}
PATH = "/api/v1/auth/token"


def vouched(client: str, body: bytes, signer: str = "portal", path: str = PATH) -> str:
    who = ids.Identity(kind="service", name=signer, client_address=client)
    return ids.sign(who, dev_keys(signer), audience="gateway", method="POST", path=path, body=body)


def sign_in(gw, email, password, client: str | None = None, header: str | None = None):
    body = json.dumps({"email": email, "password": password}).encode()
    headers = {"Content-Type": "application/json"}
    if client is not None or header is not None:
        headers["X-Portal-Client"] = header or vouched(client, body)
    return gw.client.post(PATH, data=body, headers=headers, environ_base=PORTAL_ADDRESS)


def test_two_people_signing_in_through_the_portal_are_throttled_apart(tmp_path, clock, upstream):
    gw = make_gateway(tmp_path, clock, all_services(upstream.url), login_failures_per_address=3)
    for i in range(3):
        assert sign_in(gw, f"guess{i}@example.com", "x", client="203.0.113.7").status_code == 401
    assert sign_in(gw, DEMO, PASSWORD, client="203.0.113.7").status_code == 429
    # Someone else on the same portal process, from another address, is not slowed down.
    assert sign_in(gw, SALES_ONLY, PASSWORD, client="198.51.100.9").status_code == 200
    # Without the portal's word, the portal's own address is the one counted: not yet limited.
    assert sign_in(gw, DEMO, PASSWORD).status_code == 200


def test_an_address_not_signed_by_the_portal_is_refused(gw):
    body = json.dumps({"email": DEMO, "password": PASSWORD}).encode()
    for header in (
        vouched("198.51.100.1", body, signer="orders"),  # another signer's key
        vouched("198.51.100.1", b'{"email": "x@example.com", "password": "y"}'),  # other body
        vouched("198.51.100.1", body, path="/api/v1/me"),  # another request
        "not-a-signed-header",
    ):
        resp = sign_in(gw, DEMO, PASSWORD, header=header)
        assert resp.status_code == 401, header
        assert resp.headers["Content-Type"] == "application/problem+json"
        assert "X-Portal-Client" in resp.get_json()["detail"]


def test_a_vouched_address_counts_once(gw):
    body = json.dumps({"email": DEMO, "password": PASSWORD}).encode()
    header = vouched("198.51.100.2", body)
    assert sign_in(gw, DEMO, PASSWORD, header=header).status_code == 200
    assert sign_in(gw, DEMO, PASSWORD, header=header).status_code == 401
