"""Invoices from placed orders: one per order, numbered gapless, charged or due by PO."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from billing.jobs import mark_overdue
from billing.models import Invoice
from portal_contracts import demo
from portal_runtime.testing import deliver, event, recorded
from portal_runtime.testkit import NOW


def invoices(service) -> list[Invoice]:
    with service.sessions() as session:
        return list(
            session.scalars(
                select(Invoice).options(selectinload(Invoice.lines)).order_by(Invoice.id)
            )
        )


def test_card_order_is_charged_and_its_invoice_paid_at_once(service, kit):
    method = kit.store_card(service, kit.RESELLER_TENANT, demo.SUCCESS_CARD)
    deliver(
        service, event("orders.order.placed", kit.order_placed("O-2026-000001", method_id=method))
    )

    [invoice] = invoices(service)
    assert invoice.number == "INV-PS-2026-000001"
    assert (invoice.status, invoice.payment_type) == ("paid", "online")
    assert invoice.paid_at == NOW
    assert str(invoice.amount) == "448.20"
    [issued] = recorded(service, "billing.invoice.issued")
    assert issued["status"] == "paid" and issued["order_number"] == "O-2026-000001"
    # The invoice's status says the charge went through: no separate payment.captured.
    assert recorded(service, "billing.payment.captured") == []
    assert service.payments.charges() == 1


def test_one_invoice_and_one_charge_per_order_under_duplicate_delivery(service, kit):
    method = kit.store_card(service, kit.RESELLER_TENANT, demo.SUCCESS_CARD)
    payload = kit.order_placed("O-2026-000001", method_id=method)
    first = event("orders.order.placed", payload)
    assert deliver(service, first) is True
    assert deliver(service, first) is False  # same message again: the inbox says no
    # The same order under another message id (a republished event) changes nothing either.
    assert deliver(service, event("orders.order.placed", payload)) is True

    assert len(invoices(service)) == 1
    assert len(recorded(service, "billing.invoice.issued")) == 1
    assert service.payments.charges() == 1


def test_a_redelivered_charge_is_not_taken_twice_by_the_provider(service, kit):
    method = kit.store_card(service, kit.RESELLER_TENANT, demo.SUCCESS_CARD)
    with service.sessions() as session:
        from billing.models import PaymentMethod

        token = session.scalar(
            select(PaymentMethod.provider_token).where(PaymentMethod.id == method)
        )
    first = service.payments.charge("card", token, 10, "USD", "O-2026-000009")
    again = service.payments.charge("card", token, 10, "USD", "O-2026-000009")
    assert first == again
    assert service.payments.charges() == 1


def test_invoice_numbers_are_one_gapless_series_per_seller_and_year(service, kit, clock):
    reseller_card = kit.store_card(service, kit.RESELLER_TENANT, demo.SUCCESS_CARD)
    other_card = kit.store_card(service, f"reseller:{demo.OTHER_RESELLER_ID}", demo.SUCCESS_CARD)
    acme_card = kit.store_card(service, f"customer:{demo.ACME_ID}", demo.SUCCESS_CARD)
    orders = [
        kit.order_placed("O-2026-000001", method_id=reseller_card),
        kit.order_placed("O-2026-000002", kind="po", po_number="PO-1"),
        kit.order_placed("O-2026-000003", method_id=other_card, buyer=kit.other_reseller_buyer()),
        kit.order_placed("O-2026-000004", method_id=acme_card, buyer=kit.customer_buyer()),
        kit.order_placed("O-2026-000005", method_id=reseller_card),
    ]
    for payload in orders:
        deliver(service, event("orders.order.placed", payload))

    numbers = {i.order_number: i.number for i in invoices(service)}
    assert numbers == {
        "O-2026-000001": "INV-PS-2026-000001",
        "O-2026-000002": "INV-PS-2026-000002",
        "O-2026-000003": "INV-PS-2026-000003",
        "O-2026-000004": "INV-PS-2026-000004",
        "O-2026-000005": "INV-PS-2026-000005",
    }
    # A new year starts the seller's series again.
    clock.advance(days=45)
    deliver(service, event("orders.order.placed", kit.order_placed("O-2027-000001", kind="po")))
    assert {i.order_number: i.number for i in invoices(service)}["O-2027-000001"] == (
        "INV-PS-2027-000001"
    )


def test_po_order_is_not_paid_and_due_in_30_days(service, kit):
    deliver(
        service,
        event(
            "orders.order.placed", kit.order_placed("O-2026-000001", kind="po", po_number="PO-77")
        ),
    )
    [invoice] = invoices(service)
    assert (invoice.status, invoice.payment_type) == ("not_paid", "postpaid")
    assert invoice.due_date == NOW.date() + dt.timedelta(days=30)
    assert invoice.po_number == "PO-77"
    assert recorded(service, "billing.payment.captured") == []
    assert service.payments.charges() == 0


def test_po_invoice_becomes_overdue_after_its_due_date_once(service, kit, clock):
    deliver(
        service,
        event(
            "orders.order.placed", kit.order_placed("O-2026-000001", kind="po", po_number="PO-1")
        ),
    )
    clock.advance(days=30)  # the due date itself: not overdue yet
    assert mark_overdue(service) == 0
    clock.advance(days=1)
    assert mark_overdue(service) == 1
    assert mark_overdue(service) == 0  # marked once, announced once
    clock.advance(days=5)
    assert mark_overdue(service) == 0

    [overdue] = recorded(service, "billing.invoice.overdue")
    assert overdue["invoice_number"] == "INV-PS-2026-000001"
    assert overdue["due_date"] == "2026-12-22"
    assert invoices(service)[0].overdue is True


def test_the_overdue_job_runs_with_the_service_clock(service, kit, clock):
    deliver(
        service,
        event(
            "orders.order.placed", kit.order_placed("O-2026-000001", kind="po", po_number="PO-1")
        ),
    )
    [job] = [job for job in service.jobs if job.name == "mark-overdue-invoices"]
    clock.advance(days=45)
    job.run(service)
    assert len(recorded(service, "billing.invoice.overdue")) == 1


def test_paid_invoices_never_become_overdue(service, kit, clock):
    method = kit.store_card(service, kit.RESELLER_TENANT, demo.SUCCESS_CARD)
    deliver(
        service, event("orders.order.placed", kit.order_placed("O-2026-000001", method_id=method))
    )
    clock.advance(days=90)
    assert mark_overdue(service) == 0


def test_declined_card_leaves_invoice_unpaid_with_a_grace_period(service, kit):
    method = kit.store_card(service, kit.RESELLER_TENANT, demo.DECLINED_CARD)
    deliver(
        service, event("orders.order.placed", kit.order_placed("O-2026-000001", method_id=method))
    )

    [invoice] = invoices(service)
    assert (invoice.status, invoice.payment_type) == ("not_paid", "online")
    assert invoice.payment_failure_reason == "card_declined"
    [failed] = recorded(service, "billing.payment.failed")
    assert failed["reason"] == "card_declined"
    assert failed["grace_until"] == "2026-11-29"
    assert recorded(service, "billing.invoice.issued")[0]["status"] == "not_paid"
    assert recorded(service, "billing.payment.captured") == []


def test_a_removed_method_fails_the_charge_instead_of_losing_the_order(service, kit):
    deliver(
        service,
        event("orders.order.placed", kit.order_placed("O-2026-000001", method_id="pm-gone")),
    )
    [invoice] = invoices(service)
    assert invoice.status == "not_paid"
    [failed] = recorded(service, "billing.payment.failed")
    assert failed["reason"] == "payment_method_unavailable"


def test_lines_carry_product_quantity_and_new_or_renewal(service, kit):
    lines = kit.order_placed("x")["lines"]
    renewal = dict(
        lines[0],
        line_no=2,
        kind="renewal",
        product="II",
        quantity=3,
        license_ids=["L-1", "L-2", "L-3"],
        amount="300.00",
        unit_price="100.00",
    )
    payload = kit.order_placed("O-2026-000001", kind="po", lines=[lines[0], renewal])
    deliver(service, event("orders.order.placed", payload))
    [invoice] = invoices(service)
    assert [(ln.product, ln.quantity, ln.kind) for ln in invoice.lines] == [
        ("PC", 2, "new"),
        ("II", 3, "renewal"),
    ]
    assert str(invoice.amount) == "748.20"


def test_every_issued_event_matches_its_contract_and_the_customer(service, kit):
    deliver(
        service,
        event(
            "orders.order.placed", kit.order_placed("O-2026-000001", kind="po", po_number="PO-1")
        ),
    )
    [issued] = recorded(service, "billing.invoice.issued")
    assert issued["customer"] == {"id": "C-100001", "name": "Acme Corp", "email": "it@acme.example"}
    assert issued["po_number"] == "PO-1"
    with service.sessions() as session:
        assert session.scalar(select(func.count(Invoice.id))) == 1


def test_an_issued_invoice_cannot_be_edited(service, kit):
    import pytest

    from billing import queries
    from billing.documents import invoice_document
    from billing.models import InvoiceDocument, IssuedDocumentChanged

    deliver(
        service,
        event("orders.order.placed", kit.order_placed("O-2026-000001", kind="po", po_number="P")),
    )
    with service.sessions() as session:
        invoice = session.scalar(select(Invoice))
        invoice.amount = invoice.amount + 1
        with pytest.raises(IssuedDocumentChanged):
            session.commit()
    with service.sessions() as session:
        invoice = session.scalar(select(Invoice).options(selectinload(Invoice.lines)))
        invoice.lines[0].quantity = 99
        with pytest.raises(IssuedDocumentChanged):
            session.commit()
    with service.sessions() as session:
        invoice = queries.invoice(session, None, "INV-PS-2026-000001")
    invoice_document(service, invoice)  # its first download stores it
    with service.sessions() as session:
        session.delete(session.scalar(select(InvoiceDocument)))
        with pytest.raises(IssuedDocumentChanged):
            session.commit()
    with service.sessions() as session:
        invoice = session.scalar(select(Invoice))
        invoice.status = "paid"  # the payment state may change
        session.commit()


def test_a_paid_invoice_takes_no_second_payment_and_no_applied_credit_note():
    import pytest

    from billing.models import InvoiceStatus
    from portal_runtime.errors import Conflict

    invoice = Invoice(number="INV-PS-2026-000001", status=InvoiceStatus.paid)
    with pytest.raises(Conflict, match="is paid"):
        invoice.mark_paid(NOW, "pm-1")
    with pytest.raises(Conflict):
        invoice.apply_credit_note()
    assert invoice.status == "paid" and invoice.payment_type is None
