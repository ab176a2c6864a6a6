"""The consumer's handling of one event, on SQLite: what counts as a duplicate, what fails."""

from __future__ import annotations

import json
import random
import sys
import threading
import time
from pathlib import Path

import pytest
from kombu import Producer
from sqlalchemy import String, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

import portal_contracts
from portal_runtime.config import Config
from portal_runtime.consumer import Poison, decode
from portal_runtime.db import messaging_models
from portal_runtime.retry import RetrySchedule
from portal_runtime.service import Service
from portal_runtime.testing import event
from portal_runtime.topology import DELAY_STEPS_MS, Topology, connect

sys.path.insert(0, str(Path(__file__).parent))
import sample_service


class Base(DeclarativeBase):
    pass


MESSAGING = messaging_models(Base)


class Invoice(Base):
    """One invoice per order, enforced by the database."""

    __tablename__ = "invoices"

    order_number: Mapped[str] = mapped_column(String(40), primary_key=True)


def invoice_order(evt, uow) -> None:
    uow.session.add(Invoice(order_number=evt.payload["order_number"]))


HANDLERS = {"orders.order.placed": [invoice_order], "orders.order.cancelled": [lambda e, u: None]}


@pytest.fixture
def billing(tmp_path):
    config = Config.from_env(
        "billing", database_url=f"sqlite:///{tmp_path / 'billing.db'}", broker_url="memory://"
    )
    service = Service(config, "sample", MESSAGING, handlers=HANDLERS)
    Base.metadata.create_all(service.engine)
    yield service
    service.engine.dispose()


def placed(number: str):
    return event(
        "orders.order.placed",
        dict(portal_contracts.example("orders.order.placed"), order_number=number),
    )


def inbox(service) -> list[str]:
    with service.sessions() as session:
        return list(session.scalars(select(MESSAGING.ProcessedMessage.message_id)))


def test_a_handlers_own_constraint_violation_is_a_failure_not_a_duplicate(billing):
    """A second order event for an invoiced order number is not 'already handled'."""
    first, clash = placed("O-1"), placed("O-1")
    assert billing.consumer().handle(first) is True
    with pytest.raises(IntegrityError):
        billing.consumer().handle(clash)
    # Not marked as handled: it goes through the failure path (retried, then dead-lettered).
    assert inbox(billing) == [first.message_id]
    with billing.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Invoice)) == 1


def test_the_same_message_again_is_a_duplicate_with_no_second_effect(billing):
    evt = placed("O-2")
    assert billing.consumer().handle(evt) is True
    assert billing.consumer().handle(evt) is False
    assert inbox(billing) == [evt.message_id]


def test_an_envelope_whose_ids_do_not_fit_the_inbox_is_poison_at_once():
    """Retrying could never store it: it goes to the dead-letter queue, not round and round."""
    good = {
        "message_id": "m-1",
        "type": "orders.order.placed",
        "version": 1,
        "occurred_at": "2026-11-22T10:00:00+00:00",
        "producer": "orders",
        "correlation_id": "c",
        "causation_id": None,
        "payload": portal_contracts.example("orders.order.placed"),
    }
    assert decode("application/json", json.dumps(good), HANDLERS).message_id == "m-1"
    for field in ("message_id", "correlation_id", "causation_id"):
        with pytest.raises(Poison, match=field):
            decode("application/json", json.dumps(dict(good, **{field: "x" * 65})), HANDLERS)


def test_the_retry_schedule_starts_near_its_first_delay_doubles_and_is_capped():
    schedule = RetrySchedule(first_delay=1.0, max_delay=300.0, give_up_after=86400.0)
    rng = random.Random(7)
    delays = [[schedule.delay(attempt, rng) for attempt in range(1, 16)] for _ in range(200)]
    firsts = [d[0] for d in delays]
    assert 0.8 <= min(firsts) < max(firsts) <= 1.2  # about a second, spread
    assert all(0.8 * 2**3 <= d[3] <= 1.2 * 2**3 for d in delays)
    assert max(max(d) for d in delays) == 300.0 and all(d[-1] >= 240 for d in delays)
    assert not schedule.gives_up(failing_for=86400 - 400, next_delay=300)
    assert schedule.gives_up(failing_for=86400 - 200, next_delay=300)


def test_a_delay_between_two_delay_queues_takes_either_and_waits_right_on_average():
    rng = random.Random(3)
    steps = [Topology.delay_step(0.8, rng) for _ in range(4000)]
    assert set(steps) == {500, 1000}
    assert abs(sum(steps) / len(steps) - 800) < 20
    assert Topology.delay_step(0.01) == DELAY_STEPS_MS[0]
    assert Topology.delay_step(10**6) == DELAY_STEPS_MS[-1]


@pytest.mark.parametrize("number", ["FLAKY3-1", "NEVER-1"])
def test_on_the_embedded_bus_a_failure_waits_on_disk_and_only_a_permanent_one_is_dead_lettered(
    tmp_path, number
):
    bus = tmp_path / "bus"
    url = f"filesystem://{bus}"
    producer = sample_service.build("catalog", f"sqlite:///{tmp_path / 'p.db'}", url, "")
    consumer = sample_service.build("billing", f"sqlite:///{tmp_path / 'c.db'}", url, "")
    with producer.uow() as uow:
        for order in (number, "O-1"):
            payload = dict(portal_contracts.example("orders.order.placed"), order_number=order)
            uow.record("orders.order.placed", payload)
        uow.commit()
    assert producer.relay().run_once() == 2
    stop = threading.Event()
    thread = threading.Thread(target=consumer.consumer().run, args=(stop,), daemon=True)
    thread.start()
    try:
        wanted = ["O-1", number] if number.startswith("FLAKY") else ["O-1"]
        deadline = time.monotonic() + 30
        while sample_service.effects(consumer) != wanted and time.monotonic() < deadline:
            time.sleep(0.05)
        assert sample_service.effects(consumer) == wanted
        if number.startswith("NEVER"):
            [dead] = wait_for_files(bus / "data", "*.billing.dlq.msg")
            headers = json.loads(dead.read_bytes())["headers"]
            assert headers["x-failed-attempts"] == 1
            assert "Poison" in headers["x-dead-letter-reason"]
        else:
            assert sample_service.TRIES[number] == 4
            assert list((bus / "data").glob("*.billing.dlq.msg")) == []
    finally:
        stop.set()
        thread.join(timeout=10)
        producer.engine.dispose()
        consumer.engine.dispose()


def wait_for_files(folder, pattern: str, timeout: float = 10.0) -> list:
    deadline = time.monotonic() + timeout
    while not (found := sorted(folder.glob(pattern))) and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def test_a_message_that_is_not_due_yet_stays_on_disk_until_it_is(tmp_path):
    url = f"filesystem://{tmp_path / 'bus'}"
    topology = Topology(url)
    with connect(url) as conn:
        producer = Producer(conn.default_channel)
        topology.send_to_queue(producer, "billing", "later", delay=0.6, content_type="text/plain")
        topology.send_to_queue(producer, "billing", "now", content_type="text/plain")
        queue = topology.queue("billing")
        started = time.monotonic()
        first = queue(conn.default_channel).get()
        assert first.body == b"now"
        first.ack()
        while (later := queue(conn.default_channel).get()) is None:
            time.sleep(0.02)
        assert time.monotonic() - started >= 0.5 and later.body == b"later"
        later.ack()


# -- deliveries handled together: one transaction; a failure sends the others round again --


def invoice_and_announce(evt, uow) -> None:
    """Invoices the order and records an event; ``FAIL-`` orders fail after doing both, and
    ``MID-`` orders commit a first row on purpose (as billing commits a payment attempt)."""
    number = evt.payload["order_number"]
    if number.startswith("MID"):
        uow.session.add(Invoice(order_number=number + "-attempt"))
        uow.session.commit()
    uow.session.add(Invoice(order_number=number))
    uow.record(
        "billing.invoice.issued",
        dict(portal_contracts.example("billing.invoice.issued"), order_number=number),
    )
    if "FAIL" in number:
        raise RuntimeError(f"cannot cope with {number}")


def invoices(service) -> list[str]:
    with service.sessions() as session:
        return sorted(session.scalars(select(Invoice.order_number)))


def recorded_events(service) -> list[tuple[str, str, str]]:
    Outbox = MESSAGING.Outbox
    with service.sessions() as session:
        rows = session.execute(select(Outbox.payload, Outbox.causation_id, Outbox.correlation_id))
        return sorted((p["order_number"], cause, corr) for p, cause, corr in rows)


@pytest.fixture
def announcing(billing):
    billing.handlers = dict(billing.handlers, **{"orders.order.placed": [invoice_and_announce]})
    return billing


def test_a_failing_message_in_a_batch_leaves_no_trace_and_the_others_are_handled(announcing):
    batch = [placed("O-1"), placed("FAIL-2"), placed("O-3")]
    outcomes = announcing.consumer().handle_batch(batch)
    assert outcomes[0] is True and outcomes[2] is True
    assert isinstance(outcomes[1], RuntimeError)
    assert invoices(announcing) == ["O-1", "O-3"]
    # Each recorded event names the delivery that caused it, and carries its correlation id.
    assert recorded_events(announcing) == sorted(
        (e.payload["order_number"], e.message_id, e.correlation_id) for e in (batch[0], batch[2])
    )
    assert sorted(inbox(announcing)) == sorted([batch[0].message_id, batch[2].message_id])
    # Handled again, the failed one is the only one with an effect.
    assert announcing.consumer().handle_batch(batch)[:1] == [False]


def test_a_failing_message_in_a_batch_is_tried_once_and_the_others_still_have_one_effect(billing):
    """The batch shares one transaction: the failure rolls it back, and the messages that were
    rolled back with it are handled again, without the failing one (its attempt counts once
    on its retry schedule)."""
    calls: list[str] = []

    def counting(evt, uow):
        calls.append(evt.payload["order_number"])
        invoice_and_announce(evt, uow)

    billing.handlers = dict(billing.handlers, **{"orders.order.placed": [counting]})
    batch = [placed("O-21"), placed("O-22"), placed("FAIL-23"), placed("O-24")]
    outcomes = billing.consumer().handle_batch(batch)
    assert [o if isinstance(o, bool) else "failed" for o in outcomes] == [
        True,
        True,
        "failed",
        True,
    ]
    assert calls.count("FAIL-23") == 1
    assert invoices(billing) == ["O-21", "O-22", "O-24"]
    assert len(recorded_events(billing)) == 3 and len(inbox(billing)) == 3


def test_a_failing_message_alone_in_its_batch_leaves_no_trace_and_is_handled_later(announcing):
    """A batch of one runs without a savepoint: its failure still undoes all it did."""
    failing, fine = placed("FAIL-10"), placed("MID-FAIL-11")
    [outcome] = announcing.consumer().handle_batch([failing])
    assert isinstance(outcome, RuntimeError)
    [outcome] = announcing.consumer().handle_batch([fine])
    assert isinstance(outcome, RuntimeError)
    # Only what the handler committed on purpose before failing stays; no inbox row, no event.
    assert invoices(announcing) == ["MID-FAIL-11-attempt"]
    assert recorded_events(announcing) == [] and inbox(announcing) == []
    ok = placed("O-12")
    assert announcing.consumer().handle_batch([ok]) == [True]
    assert announcing.consumer().handle_batch([ok]) == [False]
    assert invoices(announcing) == ["MID-FAIL-11-attempt", "O-12"]
    assert recorded_events(announcing) == [("O-12", ok.message_id, ok.correlation_id)]
    assert inbox(announcing) == [ok.message_id]


def test_a_batch_with_a_duplicate_and_a_repeat_within_it_has_each_effect_once(announcing):
    first = placed("O-4")
    announcing.consumer().handle(first)
    again = placed("O-5")
    assert announcing.consumer().handle_batch([first, again, again]) == [False, True, False]
    assert invoices(announcing) == ["O-4", "O-5"]
    assert len(recorded_events(announcing)) == 2


def test_a_handler_committing_on_purpose_inside_a_batch_keeps_every_message_whole(announcing):
    """The commit takes the earlier, complete messages with their inbox rows and events; a
    failure after it undoes only what the failing message did since."""
    batch = [placed("O-6"), placed("MID-FAIL-7"), placed("MID-8"), placed("O-9")]
    outcomes = announcing.consumer().handle_batch(batch)
    assert [o if isinstance(o, bool) else "failed" for o in outcomes] == [
        True,
        "failed",
        True,
        True,
    ]
    assert invoices(announcing) == [
        "MID-8",
        "MID-8-attempt",
        "MID-FAIL-7-attempt",  # committed on purpose before the failure
        "O-6",
        "O-9",
    ]
    assert [number for number, _, _ in recorded_events(announcing)] == ["MID-8", "O-6", "O-9"]
    assert len(inbox(announcing)) == 3


def test_a_batch_without_its_database_fails_each_message_and_raises_nothing(tmp_path):
    """Each message then follows its retry schedule, as a failing handler's would. Raised out of
    the batch, the error sent all of them back to the queue at once, to come again at once, until
    RabbitMQ's delivery limit dead-lettered them (``make chaos`` with PostgreSQL stopped)."""
    (tmp_path / "billing.db").mkdir()  # a directory where the database file should be
    config = Config.from_env(
        "billing", database_url=f"sqlite:///{tmp_path / 'billing.db'}", broker_url="memory://"
    )
    service = Service(config, "sample", MESSAGING, handlers=HANDLERS)
    outcomes = service.consumer().handle_batch([placed("O-1"), placed("O-2")])
    assert len(outcomes) == 2 and all(isinstance(o, Exception) for o in outcomes)
    [alone] = service.consumer().handle_batch([placed("O-3")])
    assert isinstance(alone, Exception)
    service.engine.dispose()
