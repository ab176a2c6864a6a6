"""A card number and CVC sent through the sandbox vault are stored, logged and sent nowhere.

The reseller vaults a test card through the gateway, stores it as a payment method and pays an
order with it; then every service's database (every table, every column), every process log,
every mail and every dead-lettered message of the run is searched for the number and the CVC.
"""

from __future__ import annotations

import re
import uuid

from sqlalchemy import create_engine, inspect, text

from portal_contracts import SUBSCRIPTIONS, demo
from portal_runtime.config import env_name
from portal_runtime.testing import queue_messages
from portal_system.client import wait_for
from portal_system.launcher import SERVICES
from portal_system.testing import login

CARD_NUMBER = demo.SUCCESS_CARD
# Searched for as a token of its own, so that a timestamp or an amount cannot pass for it.
CVC = "947"
CVC_TOKEN = re.compile(rf"(?<![0-9A-Za-z.:]){CVC}(?![0-9A-Za-z.])")


def leaks(text_: str) -> list[str]:
    found = []
    if CARD_NUMBER in text_ or CARD_NUMBER[-12:] in text_.replace(" ", "").replace("-", ""):
        found.append("card number")
    if CVC_TOKEN.search(text_):
        found.append("cvc")
    return found


def test_a_vaulted_card_number_and_cvc_appear_in_no_database_log_mail_or_message(system):
    client = login(system, demo.DEMO_RESELLER_USER)
    vaulted = client.post(
        "/vault/cards",
        json={
            "number": CARD_NUMBER,
            "expiry": "12/30",
            "cvc": CVC,
            "holder": "Card Scan",
        },
    )
    assert vaulted.status_code == 201, vaulted.text
    method = client.post(
        "/payment-methods", json={"kind": "card", "vault_token": vaulted.json()["vault_token"]}
    )
    assert method.status_code == 201, method.text
    stored = method.json()
    assert stored["last4"] == CARD_NUMBER[-4:]
    assert CARD_NUMBER not in method.text
    client.enter_customer(demo.ACME_ID, demo.ACME_CONTACT)
    tag = uuid.uuid4().hex[:8]
    placed = client.place_order(
        {
            "customer_id": demo.ACME_ID,
            "lines": [{"kind": "new", "product": "WS", "quantity": 1, "term_years": 1}],
            "payment_method_id": stored["id"],
            "end_user": {
                "first_name": "Card",
                "last_name": tag,
                "email": f"card.{tag}@acme.example",
            },
        }
    )
    assert placed.status_code == 201, placed.text
    number = placed.json()["number"]
    order = wait_for(
        lambda: (o := client.get(f"/orders/{number}").json())["invoice_number"] and o,
        what="the invoice of the card order",
    )
    assert client.get(f"/invoices/{order['invoice_number']}").json()["status"] == "paid"

    found: dict[str, list[str]] = {}
    for spec in SERVICES:
        for where, content in database_contents(system.env[f"{env_name(spec.name)}_DATABASE_URL"]):
            if hits := leaks(content):
                found[f"{spec.name} database, {where}"] = hits
    for log in sorted(system.log_dir.glob("*.log")):
        if hits := leaks(log.read_text(errors="replace")):
            found[f"log {log.name}"] = hits
    for mail in sorted(system.mail_dir.glob("*.eml")):
        if hits := leaks(mail.read_text(errors="replace")):
            found[f"mail {mail.name}"] = hits
    for consumer in SUBSCRIPTIONS:
        queue = f"{system.env['BUS_PREFIX']}{consumer}.dlq"
        for message in queue_messages(system.env["BROKER_URL"], queue):
            if hits := leaks(message.body.decode(errors="replace")):
                found[f"dead letter in {queue}"] = hits
    assert found == {}


def database_contents(url: str):
    """Every row of every table, as text, one table at a time."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            for table in inspect(conn).get_table_names():
                rows = conn.execute(text(f'SELECT t::text FROM "{table}" t')).scalars()
                yield table, "\n".join(rows)
    finally:
        engine.dispose()
