"""A card number and CVC sent through the vault end up in no table, log line or message."""

from __future__ import annotations

import json
import re

from sqlalchemy import inspect, select, text

from portal_contracts import demo
from portal_runtime import logs
from portal_runtime.testing import deliver, event

NUMBER = demo.SUCCESS_CARD
CVC = "737"


def leaks(haystack: str) -> list[str]:
    found = []
    if NUMBER in re.sub(r"[ -]", "", haystack):
        found.append("number")
    # The CVC as a token of its own (not three digits inside a uuid, token or timestamp).
    if re.search(rf"(?<![0-9A-Za-z.]){CVC}(?![0-9A-Za-z])", haystack):
        found.append("cvc")
    return found


def text_values(engine) -> list[tuple[str, str, str]]:
    """Every text-ish value of every table: (table, column, value)."""
    values = []
    with engine.connect() as conn:
        inspector = inspect(conn)
        for table in inspector.get_table_names():
            for column in inspector.get_columns(table):
                name = column["name"]
                rows = conn.execute(text(f'SELECT "{name}" FROM "{table}"')).scalars()
                for value in rows:
                    if value is None:
                        continue
                    if isinstance(value, bytes):
                        value = value.decode("latin-1")
                    values.append(
                        (
                            table,
                            name,
                            value if isinstance(value, str) else json.dumps(value, default=str),
                        )
                    )
    return values


def test_card_number_and_cvc_are_nowhere_but_gone(app, service, kit, as_reseller, capsys):
    logs.configure("billing", "DEBUG")  # everything that could be logged, is
    vaulted = as_reseller.post(
        "/vault/cards",
        json={"number": "4111 1111 1111 1111", "expiry": "12/29", "cvc": CVC, "holder": "Pat"},
    )
    assert vaulted.status_code == 201
    token = vaulted.get_json()["vault_token"]
    rejected = as_reseller.post(
        "/vault/cards", json={"number": NUMBER, "expiry": "01/20", "cvc": CVC, "holder": "Pat"}
    )
    assert rejected.status_code == 422
    assert not leaks(rejected.get_data(as_text=True))
    method = as_reseller.post("/payment-methods", json={"kind": "card", "vault_token": token})
    assert not leaks(method.get_data(as_text=True))
    method_id = method.get_json()["id"]
    deliver(
        service,
        event("orders.order.placed", kit.order_placed("O-2026-000001", method_id=method_id)),
    )
    assert as_reseller.get("/invoices/INV-PS-2026-000001").get_json()["status"] == "paid"
    pdf = as_reseller.get("/invoices/INV-PS-2026-000001/pdf").data

    billing_values = text_values(service.engine)
    sandbox_values = text_values(service.payments.engine)
    # The scan does see the data: what may be kept is there.
    assert any(v == "1111" for t, c, v in billing_values if (t, c) == ("payment_methods", "last4"))
    assert any(v == token for t, c, v in sandbox_values if t == "sandbox_vault_cards")
    for table, column, value in billing_values + sandbox_values:
        assert not leaks(value), f"{table}.{column} holds card data"

    with service.sessions() as session:
        payloads = [row.payload for row in session.scalars(select(service.models.Outbox))]
    assert payloads, "the order produced events"
    for payload in payloads:
        assert not leaks(json.dumps(payload))
    assert not leaks(pdf.decode("latin-1"))

    captured = capsys.readouterr()
    output = captured.out + captured.err
    assert "invoice.issued" in output  # the log was captured
    assert not leaks(output)


def test_the_scan_would_notice_a_leak():
    assert leaks(f'{{"card": "{NUMBER}"}}') == ["number"]
    assert leaks('{"cvc": "737"}') == ["cvc"]
    assert leaks("4111-1111-1111-1111") == ["number"]
    assert leaks("request_id=1c737a9e ts=2026-11-22T10:00:00.737123") == []
