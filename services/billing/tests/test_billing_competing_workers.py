"""Two billing workers on one queue: one invoice per order, no gap in numbering (PostgreSQL)."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import defaultdict

import pytest
from kombu import Producer
from sqlalchemy import select

from billing.bootstrap import bootstrap
from billing.config import BillingConfig
from billing.models import EarlyCancellation, Invoice
from billing.sandbox import Sandbox
from portal_contracts import demo, example
from portal_runtime import testkit
from portal_runtime.testing import (
    broker_url,
    bus_prefix,
    deliver_until_handled,
    event,
    postgres_database,
    recorded,
)
from portal_runtime.topology import Topology, connect

pytestmark = pytest.mark.integration


def billing_on(database_url: str, tmp_path, broker: str = "memory://", prefix: str = ""):
    config = BillingConfig.from_env(
        "billing",
        database_url=database_url,
        broker_url=broker,
        bus_prefix=prefix,
        retry_first_delay=0.05,
    )
    clock = testkit.clock()
    sandbox = Sandbox(f"sqlite:///{tmp_path / 'sandbox.db'}", "http://portal.test", clock)
    return bootstrap(config, clock=clock, payments=sandbox)


def orders_for(kit, card_ids: dict[str, str], count: int) -> list[dict]:
    """``count`` orders alternating between two resellers and a customer, card and PO."""
    buyers = [
        (None, "reseller:RS-1001"),
        (kit.other_reseller_buyer(), "reseller:RS-1002"),
        (kit.customer_buyer(), "customer:C-100001"),
    ]
    payloads = []
    for i in range(count):
        buyer, tenant = buyers[i % len(buyers)]
        number = f"O-2026-{i + 1:06d}"
        if i % 2:
            payloads.append(kit.order_placed(number, kind="po", po_number=f"PO-{i}", buyer=buyer))
        else:
            payloads.append(kit.order_placed(number, method_id=card_ids[tenant], buyer=buyer))
    return payloads


def assert_one_invoice_per_order_and_no_gap(service, payloads):
    with service.sessions() as session:
        invoices = list(session.scalars(select(Invoice)))
    assert sorted(i.order_number for i in invoices) == sorted(p["order_number"] for p in payloads)
    per_owner = defaultdict(list)
    for invoice in invoices:
        prefix, _, seq = invoice.number.rpartition("-")
        per_owner[prefix].append(int(seq))
    for prefix, seqs in per_owner.items():
        assert sorted(seqs) == list(range(1, len(seqs) + 1)), prefix
    issued = recorded(service, "billing.invoice.issued")
    assert len(issued) == len(payloads)
    card_orders = sum(1 for p in payloads if p["payment"]["kind"] == "card")
    assert sum(1 for i in issued if i["status"] == "paid") == card_orders
    assert service.payments.charges() == card_orders


def stored_cards(service, kit) -> dict[str, str]:
    return {
        tenant: kit.store_card(service, tenant, demo.SUCCESS_CARD)
        for tenant in ("reseller:RS-1001", "reseller:RS-1002", "customer:C-100001")
    }


def in_two_workers(service, first: list, second: list) -> list[BaseException]:
    """Two consumer threads of one service, each handling its list; the errors left."""
    errors: list[BaseException] = []

    def worker(batch):
        consumer = service.consumer()
        for evt in batch:
            error = deliver_until_handled(consumer, evt)
            if error is not None:
                errors.append(error)

    threads = [threading.Thread(target=worker, args=(batch,)) for batch in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return errors


def test_two_threads_handling_the_same_orders_on_postgres(tmp_path, kit):
    with postgres_database("billing") as url:
        service = billing_on(url, tmp_path)
        service.migrate()
        payloads = orders_for(kit, stored_cards(service, kit), 24)
        # Every order twice under distinct message ids, once more under the same id.
        events = []
        for payload in payloads:
            first = event("orders.order.placed", payload)
            events += [first, event("orders.order.placed", payload), first]
        assert not in_two_workers(service, events, list(reversed(events)))
        assert_one_invoice_per_order_and_no_gap(service, payloads)
        service.engine.dispose()


def test_two_consumers_on_one_rabbitmq_queue(tmp_path, kit):
    broker, prefix = broker_url(), bus_prefix()
    with postgres_database("billing") as url:
        first = billing_on(url, tmp_path, broker, prefix)
        second = billing_on(url, tmp_path, broker, prefix)
        first.migrate()
        payloads = orders_for(kit, stored_cards(first, kit), 30)
        topology = Topology(broker, prefix)
        stop = threading.Event()
        handled = {"first": 0, "second": 0}
        for key, svc in (("first", first), ("second", second)):
            [issue] = svc.handlers["orders.order.placed"]

            def counting(evt, uow, issue=issue, key=key):
                handled[key] += 1
                issue(evt, uow)

            svc.handlers["orders.order.placed"] = [counting]
        threads = [
            threading.Thread(target=svc.consumer().run, args=(stop,), daemon=True)
            for svc in (first, second)
        ]
        try:
            with connect(broker) as conn:
                topology.declare(conn)
                producer = Producer(conn.channel(), exchange=topology.events)
                for payload in payloads:
                    message_id = str(uuid.uuid4())
                    # Each order published twice: a redelivery under the same message id.
                    for _ in range(2):
                        producer.publish(
                            json.dumps(
                                {
                                    "message_id": message_id,
                                    "type": "orders.order.placed",
                                    "version": 1,
                                    "occurred_at": testkit.NOW.isoformat(),
                                    "producer": "orders",
                                    "correlation_id": f"c-{payload['order_number']}",
                                    "causation_id": None,
                                    "payload": payload,
                                }
                            ),
                            routing_key="orders.order.placed",
                            content_type="application/json",
                            content_encoding="utf-8",
                            delivery_mode=2,
                            message_id=message_id,
                        )
            for t in threads:
                t.start()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                with first.sessions() as session:
                    done = len(list(session.scalars(select(Invoice.id))))
                if done == len(payloads) and _queue_empty(broker, topology):
                    break
                time.sleep(0.2)
            stop.set()
            for t in threads:
                t.join(timeout=15)
            assert_one_invoice_per_order_and_no_gap(first, payloads)
            assert all(handled.values()), f"both workers took a share: {handled}"
        finally:
            stop.set()
            with connect(broker) as conn:
                topology.delete(conn)
            first.engine.dispose()
            second.engine.dispose()


def _queue_empty(broker: str, topology: Topology) -> bool:
    with connect(broker) as conn:
        queue = topology.queue("billing")(conn.channel())
        _, count, _ = queue.queue_declare(passive=True)
        return count == 0


def test_overdue_job_in_two_workers_announces_each_invoice_once(tmp_path, kit):
    from billing.jobs import mark_overdue
    from portal_runtime.testing import deliver

    with postgres_database("billing") as url:
        first, second = billing_on(url, tmp_path), billing_on(url, tmp_path)
        first.migrate()
        for i in range(40):
            payload = kit.order_placed(f"O-2026-{i + 1:06d}", kind="po", po_number=f"PO-{i}")
            deliver(first, event("orders.order.placed", payload))
        for svc in (first, second):
            svc.clock.advance(days=31)
        counts: list[int] = []
        threads = [
            threading.Thread(target=lambda s=svc: counts.append(mark_overdue(s)))
            for svc in (first, second)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert sum(counts) == 40
        overdue = recorded(first, "billing.invoice.overdue")
        assert sorted(o["order_number"] for o in overdue) == [
            f"O-2026-{i + 1:06d}" for i in range(40)
        ]
        first.engine.dispose()
        second.engine.dispose()


def test_credit_notes_on_postgres_refund_paid_and_apply_unpaid(tmp_path, kit):
    import copy

    from portal_contracts import example
    from portal_runtime.testing import deliver

    with postgres_database("billing") as url:
        service = billing_on(url, tmp_path)
        service.migrate()
        card = kit.store_card(service, "reseller:RS-1001", demo.SUCCESS_CARD)
        deliver(service, event("orders.order.placed", kit.order_placed("O-1", method_id=card)))
        deliver(service, event("orders.order.placed", kit.order_placed("O-2", kind="po")))
        for number in ("O-1", "O-2"):
            cancelled = copy.deepcopy(example("orders.order.cancelled"))
            cancelled["order_number"] = number
            deliver(service, event("orders.order.cancelled", cancelled))
        notes = recorded(service, "billing.credit_note.issued")
        assert [(n["credit_note_number"], n["refunded"]) for n in notes] == [
            ("CN-PS-2026-000001", True),
            ("CN-PS-2026-000002", False),
        ]
        with service.sessions() as session:
            statuses = dict(session.execute(select(Invoice.order_number, Invoice.status)).all())
        assert statuses == {"O-1": "paid", "O-2": "applied"}
        service.engine.dispose()


def test_cancellations_racing_their_invoices_end_with_one_credit_note_each_on_postgres(
    tmp_path, kit
):
    """A worker handles the cancellation while another is still issuing the invoice."""
    with postgres_database("billing") as url:
        service = billing_on(url, tmp_path)
        service.migrate()
        card = kit.store_card(service, "reseller:RS-1001", demo.SUCCESS_CARD)
        numbers = [f"O-2026-{i + 1:06d}" for i in range(12)]
        placed = [
            event("orders.order.placed", kit.order_placed(n, method_id=card)) for n in numbers
        ]
        cancels = []
        for n in numbers:
            payload = dict(example("orders.order.cancelled"), order_number=n)
            cancels.append(event("orders.order.cancelled", payload))
        assert not in_two_workers(service, placed, cancels)
        notes = recorded(service, "billing.credit_note.issued")
        assert sorted(n["order_number"] for n in notes) == numbers
        assert all(n["refunded"] for n in notes)
        with service.sessions() as session:
            assert list(session.scalars(select(EarlyCancellation))) == []
        service.engine.dispose()


def test_a_cancellation_handled_while_its_invoice_is_being_committed_is_still_credited(
    tmp_path, kit
):
    """The narrow race: the invoice's worker has inserted the invoice and found no early
    cancellation, but not committed; the cancellation's worker looks for the invoice just then.
    Both look under the order's lock, so the cancellation waits for the invoice and credits it
    (before, it recorded an early cancellation that nobody would ever apply)."""
    number = "O-2026-000777"
    with postgres_database("billing") as url:
        service = billing_on(url, tmp_path)
        service.migrate()
        card = kit.store_card(service, "reseller:RS-1001", demo.SUCCESS_CARD)
        placed = event("orders.order.placed", kit.order_placed(number, method_id=card))
        cancelled = event(
            "orders.order.cancelled", dict(example("orders.order.cancelled"), order_number=number)
        )
        invoice_checked, cancellation_done = threading.Event(), threading.Event()
        errors: list[BaseException] = []

        def issue() -> None:
            try:
                with service.uow() as uow:
                    for handle in service.handlers["orders.order.placed"]:
                        handle(placed, uow)
                    invoice_checked.set()
                    # Hold the commit while the cancellation is handled, unless it waits for us.
                    cancellation_done.wait(timeout=2)
                    uow.commit()
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        def cancel() -> None:
            try:
                assert invoice_checked.wait(timeout=30)
                with service.uow() as uow:
                    for handle in service.handlers["orders.order.cancelled"]:
                        handle(cancelled, uow)
                    uow.commit()
                cancellation_done.set()
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=issue), threading.Thread(target=cancel)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert errors == []
        notes = recorded(service, "billing.credit_note.issued")
        assert [n["order_number"] for n in notes] == [number]
        assert notes[0]["refunded"]
        with service.sessions() as session:
            assert list(session.scalars(select(EarlyCancellation))) == []
        service.engine.dispose()
