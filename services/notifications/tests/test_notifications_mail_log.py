"""Operators (and tests) read the mail log: who was sent what, and how sending went."""

from __future__ import annotations

import pytest

import portal_contracts
from notifications.bootstrap import create_app
from notifications.sender import send_pending
from portal_runtime import identity as ids
from portal_runtime.testing import deliver, event
from portal_runtime.testkit import RESELLER, Api

# Operators' tooling signs as ``ops``, the one caller the mail log trusts.
OPS = ids.service_identity("ops")


@pytest.fixture
def client(service):
    return Api(create_app(service), OPS)


def test_the_mail_log_lists_a_recipients_mail_with_status_and_attempts(service, client, sink):
    sink.start()
    deliver(service, event("orders.order.placed", portal_contracts.example("orders.order.placed")))
    send_pending(service)

    resp = client.get("/internal/mail?recipient=SALES@demo-reseller.example")

    assert resp.status_code == 200
    [item] = resp.json["items"]
    assert item["status"] == "sent" and item["attempts"] == 1
    assert item["subject"].startswith("Order O-2026-000042 confirmed")
    assert item["message_id"] in {m["Message-ID"] for m in sink.mails()}
    assert resp.json["next_cursor"] is None


def test_the_mail_log_filters_by_status_and_pages(service, client):
    deliver(service, event("orders.order.placed", portal_contracts.example("orders.order.placed")))

    pending = client.get("/internal/mail?status=pending&limit=1")
    assert len(pending.json["items"]) == 1 and pending.json["next_cursor"]
    rest = client.get(f"/internal/mail?status=pending&limit=1&cursor={pending.json['next_cursor']}")
    assert len(rest.json["items"]) == 1
    assert rest.json["items"][0]["id"] != pending.json["items"][0]["id"]
    assert client.get("/internal/mail?status=sent").json["items"] == []
    bad = client.get("/internal/mail?status=lost")
    assert bad.status_code == 422 and "status" in bad.json["errors"]


def test_the_mail_log_is_not_for_portal_users_or_strangers(service, client):
    assert client.get("/internal/mail", identity=None).status_code == 401
    assert client.get("/internal/mail", identity=RESELLER).status_code == 403


def test_an_operator_can_give_a_failed_mail_another_round(make_service, sink, clock):
    service = make_service(send_max_attempts=1)
    client = Api(create_app(service), OPS)
    deliver(
        service,
        event("licensing.license.revoked", portal_contracts.example("licensing.license.revoked")),
    )
    send_pending(service)
    [failed] = client.get("/internal/mail?status=failed").json["items"]

    sink.start()
    resp = client.post(f"/internal/mail/{failed['id']}/retry")
    assert resp.status_code == 202 and resp.json["status"] == "pending"
    assert send_pending(service) == 1
    assert [m["Message-ID"] for m in sink.mails()] == [failed["message_id"]]

    again = client.post(f"/internal/mail/{failed['id']}/retry")
    assert again.status_code == 409
    assert client.post("/internal/mail/999/retry").status_code == 404
