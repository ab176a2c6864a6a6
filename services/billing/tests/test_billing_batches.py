"""Orders handled together in one consumer batch (one transaction), as a busy
worker handles them: numbered consecutively in the batch's order, each charged once and its
attempt tied to its invoice, and a cancellation that overtook its order still credited. On SQLite
and on the real PostgreSQL (its advisory and row locks differ)."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import select

from billing.models import EarlyCancellation, Invoice, Payment
from portal_contracts import demo, example
from portal_runtime.testing import deliver, event, recorded


@pytest.fixture
def service(service_on_both):
    return service_on_both


def cancelled(number: str) -> dict:
    payload = copy.deepcopy(example("orders.order.cancelled"))
    payload["order_number"] = number
    return payload


def test_orders_in_one_batch_get_consecutive_numbers_and_each_its_own_outcome(service, kit):
    card = kit.store_card(service, kit.RESELLER_TENANT, demo.SUCCESS_CARD)
    declined = kit.store_card(service, kit.RESELLER_TENANT, demo.DECLINED_CARD)
    # The last order's cancellation arrives first (a competing worker, a retried invoice).
    assert deliver(service, event("orders.order.cancelled", cancelled("O-2026-000005")))
    batch = [
        event("orders.order.placed", kit.order_placed("O-2026-000001", method_id=card)),
        event("orders.order.placed", kit.order_placed("O-2026-000002", kind="po")),
        event("orders.order.placed", kit.order_placed("O-2026-000003", method_id=declined)),
        event("orders.order.placed", kit.order_placed("O-2026-000004", method_id=card)),
        event("orders.order.placed", kit.order_placed("O-2026-000005", method_id=card)),
    ]
    assert service.consumer().handle_batch(batch) == [True] * 5

    with service.sessions() as session:
        invoices = list(session.scalars(select(Invoice).order_by(Invoice.id)))
        paid_by = dict(session.execute(select(Payment.idempotency_key, Payment.invoice_id)).all())
        early = list(session.scalars(select(EarlyCancellation)))
    assert [(i.order_number, i.number, i.status) for i in invoices] == [
        ("O-2026-000001", "INV-PS-2026-000001", "paid"),
        ("O-2026-000002", "INV-PS-2026-000002", "not_paid"),
        ("O-2026-000003", "INV-PS-2026-000003", "not_paid"),
        ("O-2026-000004", "INV-PS-2026-000004", "paid"),
        ("O-2026-000005", "INV-PS-2026-000005", "paid"),
    ]
    by_order = {i.order_number: i.id for i in invoices}
    # Each card order's attempt pays its own invoice; the early-cancelled one was refunded.
    assert paid_by == {
        "O-2026-000001": by_order["O-2026-000001"],
        "O-2026-000003": by_order["O-2026-000003"],
        "O-2026-000004": by_order["O-2026-000004"],
        "O-2026-000005": by_order["O-2026-000005"],
        "refund:O-2026-000005": by_order["O-2026-000005"],
    }
    assert service.payments.charges() == 4
    issued = recorded(service, "billing.invoice.issued")
    assert [(i["invoice_number"], i["status"]) for i in issued] == [
        ("INV-PS-2026-000001", "paid"),
        ("INV-PS-2026-000002", "not_paid"),
        ("INV-PS-2026-000003", "not_paid"),
        ("INV-PS-2026-000004", "paid"),
        ("INV-PS-2026-000005", "paid"),
    ]
    [failed] = recorded(service, "billing.payment.failed")
    assert failed["invoice_number"] == "INV-PS-2026-000003"
    [note] = recorded(service, "billing.credit_note.issued")
    assert (note["credit_note_number"], note["invoice_number"], note["refunded"]) == (
        "CN-PS-2026-000001",
        "INV-PS-2026-000005",
        True,
    )
    assert early == []

    # The same orders again, under new message ids: nothing more is issued or charged.
    again = [event("orders.order.placed", e.payload) for e in batch]
    assert service.consumer().handle_batch(again) == [True] * 5
    assert len(recorded(service, "billing.invoice.issued")) == 5
    assert service.payments.charges() == 4
