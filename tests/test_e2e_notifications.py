"""Email end to end: the SMTP server down for a while, and the emails a reseller asks for again.

Driven through the gateway, the mail sink and the notifications service's mail log (an internal
route for operators, read with a service identity).
"""

from __future__ import annotations

import time
import uuid

import pytest

from portal_contracts import demo
from portal_system.client import wait_for
from portal_system.testing import as_operator, login, mails_to, text_of


def order_body(tag: str) -> dict:
    return {
        "customer_id": demo.ACME_ID,
        "lines": [{"kind": "new", "product": "WS", "quantity": 2, "term_years": 1}],
        "payment_method_id": demo.DEMO_CARD_METHOD_ID,
        "end_user": {
            "first_name": "Mae",
            "last_name": f"Mailer-{tag}",
            "email": f"mae.{tag}@acme.example",
        },
        "send_activation_email": True,
    }


def mail_log(system, recipient: str) -> list[dict]:
    resp = as_operator(
        system, "GET", "notifications", "/internal/mail", params={"recipient": recipient}
    )
    assert resp.status_code == 200, resp.text
    return resp.json()["items"]


def confirmations(system, number: str):
    return [
        m
        for m in mails_to(system, demo.DEMO_RESELLER_USER)
        if number in m["Subject"] and "confirmed" in m["Subject"]
    ]


def test_emails_sent_while_smtp_is_down_arrive_once_it_is_back_none_twice(system):
    if not system.embedded_mail:
        pytest.skip("needs the local mail sink this harness starts")
    client = login(system, demo.DEMO_RESELLER_USER)
    client.enter_customer(demo.ACME_ID, demo.ACME_CONTACT)
    tag = uuid.uuid4().hex[:8]
    end_user = order_body(tag)["end_user"]["email"]

    system.stop_process("mailsink")
    try:
        resp = client.place_order(order_body(tag))
        assert resp.status_code == 201, resp.text
        number = resp.json()["number"]
        failed_try = wait_for(
            lambda: [m for m in mail_log(system, end_user) if m["attempts"] >= 1],
            what="a failed try while the SMTP server is down",
        )
        assert failed_try[0]["status"] == "pending" and failed_try[0]["last_error"]
        assert mails_to(system, end_user) == []
    finally:
        system.start_process("mailsink")

    activation = wait_for(lambda: mails_to(system, end_user), timeout=90, what="activation")
    wait_for(lambda: confirmations(system, number), timeout=90, what="order confirmation")
    wait_for(
        lambda: all(m["status"] == "sent" for m in mail_log(system, end_user)), what="all sent"
    )
    time.sleep(2)  # more sender runs: nothing arrives twice
    assert len(mails_to(system, end_user)) == 1
    assert len(confirmations(system, number)) == 1
    [row] = mail_log(system, end_user)
    assert row["attempts"] >= 2
    assert activation[0]["Message-ID"] == row["message_id"]
    assert "How to activate" in text_of(activation[0])


def test_the_reseller_sends_the_activation_email_and_the_licenses_again(system):
    client = login(system, demo.DEMO_RESELLER_USER)
    client.enter_customer(demo.ACME_ID, demo.ACME_CONTACT)
    tag = uuid.uuid4().hex[:8]
    body = dict(order_body(tag), send_activation_email=False)
    end_user = body["end_user"]["email"]
    resp = client.place_order(body)
    assert resp.status_code == 201, resp.text
    number = resp.json()["number"]
    order = wait_for(
        lambda: (o := client.get(f"/orders/{number}").json())["license_ids"] and o,
        timeout=90,
        what="the order's licenses",
    )
    wait_for(lambda: confirmations(system, number), timeout=90, what="order confirmation")
    assert mails_to(system, end_user) == [], "no activation e-mail unless asked for"

    assert client.post(f"/orders/{number}/activation-email").status_code == 202
    activation = wait_for(lambda: mails_to(system, end_user), timeout=60, what="activation")
    assert "Activate" in activation[0]["Subject"]

    assert client.post(f"/orders/{number}/resend-licenses").status_code == 202
    mails = wait_for(
        lambda: len(mails_to(system, end_user)) >= 2 and mails_to(system, end_user),
        timeout=60,
        what="the licenses again",
    )
    details = text_of(mails[-1])
    assert number in details
    for license_id in order["license_ids"]:
        assert license_id in details
    assert "WebStorm" in details
