"""No charge without a record: a crash or a failed commit around the provider call loses nothing.

The provider below is the real sandbox behind a fault hook that "kills the process" (raises a
``BaseException`` nothing in billing catches) right after, or right before, the provider call.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from billing.bootstrap import bootstrap
from billing.config import BillingConfig
from billing.jobs import settle_unknown_payments
from billing.models import Invoice, Payment
from billing.sandbox import Sandbox, SandboxCharge
from portal_contracts import demo
from portal_runtime.testing import (
    deliver,
    event,
    postgres_database,
    recorded,
    service_on_sqlite,
)
from portal_runtime.testkit import RESELLER, Api


class Killed(BaseException):
    """The worker process died here (SIGKILL): no except clause of ours runs."""


class FaultyProvider:
    """The sandbox, with a one-shot fault right ``after`` (or ``before``) the next charge."""

    def __init__(self, sandbox: Sandbox):
        self.sandbox = sandbox
        self.fault: str | None = None

    def __getattr__(self, name):
        return getattr(self.sandbox, name)

    def charge(self, *args, **kwargs):
        fault, self.fault = self.fault, None
        if fault == "before":
            raise Killed("killed before the provider call")
        result = self.sandbox.charge(*args, **kwargs)
        if fault == "after":
            raise Killed("killed after the provider call, before the commit")
        return result


@pytest.fixture
def provider(tmp_path, clock):
    return FaultyProvider(
        Sandbox(f"sqlite:///{tmp_path / 'sandbox.db'}", "http://portal.test", clock)
    )


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def service(request, tmp_path, clock, provider):
    """Billing on SQLite, and on the real PostgreSQL (its locks and commits differ)."""
    if request.param == "sqlite":
        service = service_on_sqlite(
            bootstrap, BillingConfig, "billing", tmp_path, clock=clock, payments=provider
        )
        service.config.portal_base_url = "http://portal.test"
        yield service
        return
    with postgres_database("billing") as url:
        config = BillingConfig.from_env(
            "billing", database_url=url, broker_url="memory://", retry_first_delay=0.0
        )
        config.portal_base_url = "http://portal.test"
        service = bootstrap(config, clock=clock, payments=provider)
        service.migrate()
        yield service
        service.engine.dispose()


def approved_charges(provider) -> int:
    with provider.sandbox.sessions() as session:
        return len(
            list(
                session.scalars(select(SandboxCharge.id).where(SandboxCharge.outcome == "approved"))
            )
        )


def attempts(service) -> list[tuple[str, str, bool]]:
    with service.sessions() as session:
        return [
            (p.idempotency_key, p.status, p.invoice_id is not None)
            for p in session.scalars(select(Payment).order_by(Payment.id))
        ]


def invoice_of(service, order_number: str) -> Invoice | None:
    with service.sessions() as session:
        return session.scalar(select(Invoice).where(Invoice.order_number == order_number))


def past_the_settle_window(service, clock) -> None:
    clock.advance(seconds=service.config.payment_settle_after_seconds + 1)


def card_order(service, kit, number="O-2026-000001"):
    method = kit.store_card(service, kit.RESELLER_TENANT, demo.SUCCESS_CARD)
    return event("orders.order.placed", kit.order_placed(number, method_id=method))


def assert_paid_once(service, provider, number="O-2026-000001"):
    invoice = invoice_of(service, number)
    assert invoice is not None and invoice.status == "paid"
    assert approved_charges(provider) == 1
    # What makes the order show paid in orders: the invoice issued as paid, once (a charge
    # approved at issuance has no payment.captured of its own).
    issued = recorded(service, "billing.invoice.issued")
    assert [(i["order_number"], i["status"]) for i in issued] == [(number, "paid")]
    assert recorded(service, "billing.payment.captured") == []


def test_a_worker_killed_between_the_charge_and_the_commit_charges_once_and_pays_the_invoice(
    service, provider, kit, clock, tmp_path
):
    placed = card_order(service, kit)
    provider.fault = "after"
    with pytest.raises(Killed):
        deliver(service, placed)
    # The money moved, the invoice did not commit: the attempt was on record before the call.
    assert approved_charges(provider) == 1
    assert invoice_of(service, "O-2026-000001") is None
    assert attempts(service) == [("O-2026-000001", "pending", False)]

    # The reconciliation job asks the provider by key and records the capture...
    assert settle_unknown_payments(service) == 0  # too young: it may still be in flight
    past_the_settle_window(service, clock)
    assert settle_unknown_payments(service) == 1
    assert attempts(service) == [("O-2026-000001", "captured", False)]
    # ...and the order's event, delivered again after the restart, issues the invoice paid.
    assert deliver(service, placed)
    assert_paid_once(service, provider)
    assert attempts(service) == [("O-2026-000001", "captured", True)]
    assert settle_unknown_payments(service) == 0
    # The card number reached neither billing's database nor a message.
    if (tmp_path / "billing.db").exists():
        assert demo.SUCCESS_CARD.encode() not in (tmp_path / "billing.db").read_bytes()
    assert all(demo.SUCCESS_CARD not in str(payload) for payload in recorded(service))


def test_the_redelivered_order_alone_settles_a_charge_cut_short(service, provider, kit):
    placed = card_order(service, kit)
    provider.fault = "after"
    with pytest.raises(Killed):
        deliver(service, placed)
    assert deliver(service, placed)
    assert_paid_once(service, provider)


def test_a_failed_commit_after_a_successful_charge_charges_once_and_pays_the_invoice(
    service, provider, kit
):
    placed = card_order(service, kit)
    failures = []

    def note_a_flushed_invoice(session, flush_context):
        # The identity map holds flushed objects weakly: by commit time a flushed invoice may be
        # gone from it, so remember the flush instead.
        if any(isinstance(obj, Invoice) for obj in session.new):
            session.info["invoice_flushed"] = True

    def fail_the_invoice_commit_once(session):
        has_invoice = session.info.pop("invoice_flushed", False) or any(
            isinstance(obj, Invoice) for obj in session.new
        )
        if not failures and has_invoice:
            failures.append(True)
            raise OperationalError("COMMIT", {}, Exception("server closed the connection"))

    sa_event.listen(service.sessions, "after_flush", note_a_flushed_invoice)
    sa_event.listen(service.sessions, "before_commit", fail_the_invoice_commit_once)
    with pytest.raises(OperationalError):
        deliver(service, placed)
    assert failures and approved_charges(provider) == 1
    assert invoice_of(service, "O-2026-000001") is None
    assert attempts(service) == [("O-2026-000001", "pending", False)]
    # The consumer tries the message again: the provider answers the same key with the same charge.
    assert deliver(service, placed)
    assert_paid_once(service, provider)
    assert attempts(service) == [("O-2026-000001", "captured", True)]


def test_an_attempt_the_provider_never_received_is_abandoned_and_charged_once_on_redelivery(
    service, provider, kit, clock
):
    placed = card_order(service, kit)
    provider.fault = "before"
    with pytest.raises(Killed):
        deliver(service, placed)
    past_the_settle_window(service, clock)
    assert settle_unknown_payments(service) == 1
    assert attempts(service) == [("O-2026-000001", "abandoned", False)]
    assert approved_charges(provider) == 0
    assert deliver(service, placed)
    assert_paid_once(service, provider)


def pay_killed_after_the_charge(service, provider, kit, app):
    """An unpaid invoice (its card declined), then a good card's payment cut short by a crash."""
    declined = kit.store_card(service, kit.RESELLER_TENANT, demo.DECLINED_CARD)
    deliver(
        service, event("orders.order.placed", kit.order_placed("O-2026-000001", method_id=declined))
    )
    number = invoice_of(service, "O-2026-000001").number
    good = kit.store_card(service, kit.RESELLER_TENANT, demo.SUCCESS_CARD)
    as_billing = Api(app, RESELLER)
    provider.fault = "after"
    with pytest.raises(Killed):
        as_billing.post(f"/invoices/{number}/pay", json={"payment_method_id": good})
    return number, good, as_billing


def test_paying_an_invoice_killed_after_the_charge_is_settled_by_the_reconciliation_job(
    service, provider, kit, clock, app
):
    number, good, as_billing = pay_killed_after_the_charge(service, provider, kit, app)
    assert approved_charges(provider) == 1
    assert invoice_of(service, "O-2026-000001").status == "not_paid"
    # Paying again while the first answer is unknown could take the money twice: 409.
    again = as_billing.post(f"/invoices/{number}/pay", json={"payment_method_id": good})
    assert again.status_code == 409, again.get_json()
    assert again.mimetype == "application/problem+json"

    past_the_settle_window(service, clock)
    assert settle_unknown_payments(service) == 1
    invoice = invoice_of(service, "O-2026-000001")
    assert invoice.status == "paid"
    assert [c["invoice_number"] for c in recorded(service, "billing.payment.captured")] == [number]
    assert approved_charges(provider) == 1
    paid = as_billing.post(f"/invoices/{number}/pay", json={"payment_method_id": good})
    assert paid.status_code == 409
    assert approved_charges(provider) == 1


def test_paying_again_after_a_crash_asks_the_provider_first_and_does_not_charge_twice(
    service, provider, kit, clock, app
):
    number, good, as_billing = pay_killed_after_the_charge(service, provider, kit, app)
    past_the_settle_window(service, clock)
    # The user tries again before the job ran: the earlier charge is found and counts.
    resp = as_billing.post(f"/invoices/{number}/pay", json={"payment_method_id": good})
    assert resp.status_code == 409
    assert "paid" in resp.get_json()["detail"]
    assert invoice_of(service, "O-2026-000001").status == "paid"
    assert approved_charges(provider) == 1
    assert len(recorded(service, "billing.payment.captured")) == 1
