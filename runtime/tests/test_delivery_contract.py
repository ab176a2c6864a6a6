"""The delivery contract on the real RabbitMQ and PostgreSQL (ARCHITECTURE.md).

Outbox, relay, inbox and dead letters: an event is never lost, its effect happens once, a
message that cannot be handled ends in the dead-letter queue while the rest keeps flowing.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
from kombu import Producer
from sqlalchemy import func, insert, select, text, update

import portal_contracts
from portal_runtime import logs
from portal_runtime.testing import (
    broker_url,
    bus_prefix,
    delete_bus,
    event,
    postgres_database,
    queue_messages,
)
from portal_runtime.topology import Topology, connect

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
import sample_service  # noqa: E402

pytestmark = pytest.mark.integration


@pytest.fixture
def bus():
    url, prefix = broker_url(), bus_prefix()
    yield url, prefix
    delete_bus(url, prefix)


@pytest.fixture
def services(bus):
    url, prefix = bus
    with postgres_database("producer") as producer_db, postgres_database("consumer") as consumer_db:
        producer = sample_service.build("catalog", producer_db, url, prefix)
        consumer = sample_service.build("billing", consumer_db, url, prefix)
        yield producer, consumer
        producer.engine.dispose()
        consumer.engine.dispose()


@pytest.fixture
def running():
    """Start a service's consumer in a thread; stopped at the end of the test."""
    stops = []

    def start(service):
        stop = threading.Event()
        thread = threading.Thread(target=service.consumer().run, args=(stop,), daemon=True)
        thread.start()
        stops.append((stop, thread))

    yield start
    for stop, thread in stops:
        stop.set()
        thread.join(timeout=10)


def place(producer, number: str) -> str:
    with producer.uow() as uow:
        message_id = uow.record(
            "orders.order.placed",
            dict(portal_contracts.example("orders.order.placed"), order_number=number),
        )
        uow.commit()
    return message_id


def wait_for(condition, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def unpublished(producer) -> int:
    Outbox = producer.models.Outbox
    with producer.sessions() as session:
        return session.scalar(select(func.count()).where(Outbox.published_at.is_(None)))


def inbox_rows(consumer) -> int:
    Processed = consumer.models.ProcessedMessage
    with consumer.sessions() as session:
        return session.scalar(select(func.count()).select_from(Processed))


def test_an_event_published_before_its_consumer_starts_waits_and_is_handled(services, running):
    producer, consumer = services
    place(producer, "O-1")
    assert producer.relay().run_once() == 1
    assert unpublished(producer) == 0
    running(consumer)
    assert wait_for(lambda: sample_service.effects(consumer)) == ["O-1"]


def test_the_same_event_delivered_twice_has_one_effect(services, running):
    producer, consumer = services
    place(producer, "O-2")
    relay = producer.relay()
    relay.run_once()
    # Publish the same outbox row again, as a relay does after losing its "published" mark.
    with producer.sessions() as session, session.begin():
        session.execute(update(producer.models.Outbox).values(published_at=None))
    assert relay.run_once() == 1
    running(consumer)
    wait_for(lambda: inbox_rows(consumer) == 1)
    time.sleep(1.0)  # room for the second copy to be (not) applied
    assert sample_service.effects(consumer) == ["O-2"]
    assert queue_messages(*_queue(consumer, "billing")) == []


def test_a_relay_killed_after_publishing_republishes_and_the_effect_stays_single(
    services, running, bus
):
    producer, consumer = services
    url, prefix = bus
    place(producer, "O-3")
    env = dict(os.environ, RELAY_FAULT="exit_after_publish")
    result = subprocess.run(
        [
            sys.executable,
            str(HERE / "sample_service.py"),
            "relay",
            str(producer.engine.url.render_as_string(hide_password=False)),
            url,
            prefix,
        ],
        env=env,
        timeout=60,
        capture_output=True,
    )
    assert result.returncode == 17, result.stderr.decode()[-2000:]
    assert unpublished(producer) == 1  # published, but never marked
    assert producer.relay().run_once() == 1  # the restarted relay publishes it again
    running(consumer)
    wait_for(lambda: sample_service.effects(consumer))
    time.sleep(1.0)
    assert sample_service.effects(consumer) == ["O-3"]
    assert inbox_rows(consumer) == 1


def test_a_competing_worker_committing_the_same_message_first_leaves_one_effect(services):
    """Its inbox row wins the race; this worker's commit clashes on it and counts as a duplicate."""
    _, consumer = services
    evt = event(
        "orders.order.placed",
        dict(portal_contracts.example("orders.order.placed"), order_number="O-8"),
    )
    competitor, this = consumer.consumer(), consumer.consumer()

    def overtaken(evt_, uow):
        worker = threading.Thread(target=competitor.handle, args=(evt,))
        worker.start()
        worker.join(timeout=30)
        sample_service.record_effect(evt_, uow)

    this.handlers = dict(this.handlers, **{"orders.order.placed": [overtaken]})
    assert this.handle(evt) is False
    assert sample_service.effects(consumer) == ["O-8"]
    assert inbox_rows(consumer) == 1


def test_a_handler_that_keeps_failing_is_dead_lettered_and_others_keep_flowing(services, running):
    producer, consumer = services
    failing_id = place(producer, "FAIL-1")
    place(producer, "O-4")
    place(producer, "O-5")
    producer.relay().run_once()
    running(consumer)
    assert wait_for(lambda: sample_service.effects(consumer) == ["O-4", "O-5"])
    dead = wait_for(lambda: queue_messages(*_queue(consumer, "billing.dlq")))
    assert [m.properties["message_id"] for m in dead] == [failing_id]
    # Tried again and again on the schedule (from 50 ms, up to 0.4 s apart) for its 2 s.
    assert dead[0].headers["x-failed-attempts"] == sample_service.TRIES["FAIL-1"] > 3
    assert "still failing after" in dead[0].headers["x-dead-letter-reason"]
    assert "cannot cope with FAIL-1" in dead[0].headers["x-last-error"]
    assert dead[0].headers["x-original-routing-key"].startswith("orders.order.placed")
    assert dead[0].headers["x-first-failed-at"] < dead[0].headers["x-dead-lettered-at"]
    assert json.loads(dead[0].body)["message_id"] == failing_id  # the message as it was sent
    assert queue_messages(*_queue(consumer, "billing")) == []


def test_a_transient_failure_is_retried_through_the_broker_until_it_passes(services, running):
    """Failing four times (a service not answering) is no reason to give up on a message; the
    waits happen in the broker's delay queues, so the messages behind it are handled meanwhile."""
    producer, consumer = services
    place(producer, "FLAKY4-1")
    place(producer, "O-9")
    producer.relay().run_once()
    running(consumer)
    assert wait_for(lambda: sorted(sample_service.effects(consumer)) == ["FLAKY4-1", "O-9"])
    assert sample_service.effects(consumer)[0] == "O-9"  # not stuck behind the failing one
    assert sample_service.TRIES["FLAKY4-1"] == 5
    assert inbox_rows(consumer) == 2
    assert queue_messages(*_queue(consumer, "billing.dlq")) == []


def test_a_rule_that_will_never_pass_is_dead_lettered_at_once(services, running):
    producer, consumer = services
    never_id = place(producer, "NEVER-2")
    producer.relay().run_once()
    running(consumer)
    dead = wait_for(lambda: queue_messages(*_queue(consumer, "billing.dlq")))
    assert [m.properties["message_id"] for m in dead] == [never_id]
    assert dead[0].headers["x-failed-attempts"] == sample_service.TRIES["NEVER-2"] == 1
    assert "Poison: NEVER-2 breaks a rule" in dead[0].headers["x-dead-letter-reason"]


def test_undecodable_unknown_and_non_json_messages_go_straight_to_the_dlq_unlogged(
    services, running, bus, capfd
):
    producer, consumer = services
    url, prefix = bus
    logs.configure("billing")
    topology = Topology(url, prefix)
    envelope = {
        "message_id": "m-unknown",
        "type": "orders.order.placed",
        "version": 99,
        "occurred_at": "2026-11-22T10:00:00+00:00",
        "producer": "orders",
        "correlation_id": "c",
        "causation_id": None,
        "payload": {"secret": "SECRET-BODY"},
    }
    bad_payload = dict(envelope, message_id="m-bad-payload", version=1)
    poison = [
        ("text/plain", "SECRET-BODY plain text"),
        ("application/json", "{not json SECRET-BODY"),
        ("application/json", json.dumps(envelope)),
        ("application/json", json.dumps(bad_payload)),
    ]
    with connect(url) as conn:
        topology.declare(conn)
        producer_ = Producer(conn.channel(), exchange=topology.events)
        for content_type, body in poison:
            producer_.publish(
                body,
                routing_key="orders.order.placed",
                content_type=content_type,
                content_encoding="utf-8",
                delivery_mode=2,
            )
    place(producer, "O-6")
    producer.relay().run_once()
    running(consumer)
    assert wait_for(lambda: sample_service.effects(consumer) == ["O-6"])
    dead = wait_for(lambda: queue_messages(*_queue(consumer, "billing.dlq")))
    assert len(dead) == 4
    assert all(m.headers["x-failed-attempts"] == 0 for m in dead)
    assert "SECRET-BODY" not in capfd.readouterr().err


def test_the_relay_keeps_events_while_the_broker_is_unreachable(services, running, bus):
    producer, consumer = services
    place(producer, "O-7")
    producer.config.broker_url = "amqp://guest:guest@127.0.0.1:1//"  # nothing listens there
    producer.config.publish_retries = 0
    stranded = producer.relay()
    assert stranded.run_once() == 0
    assert unpublished(producer) == 1
    producer.config.broker_url = bus[0]
    assert producer.relay().run_once() == 1
    running(consumer)
    assert wait_for(lambda: sample_service.effects(consumer)) == ["O-7"]


def test_a_batch_is_published_at_once_and_each_event_handled_once(services, running):
    producer, consumer = services
    numbers = [f"O-B{n}" for n in range(30)]
    for number in numbers:
        place(producer, number)
    assert producer.relay().run_once() == 30  # one batch, one wait for the broker's confirms
    assert unpublished(producer) == 0
    running(consumer)
    assert sorted(wait_for(lambda: len(sample_service.effects(consumer)) == 30 and
                  sample_service.effects(consumer))) == sorted(numbers)  # fmt: skip


def test_events_the_broker_refuses_stay_in_the_outbox_until_it_takes_them(services, bus):
    """A queue that is full and rejects publishes makes RabbitMQ nack them: the relay keeps
    those rows (one failed attempt each) and publishes them once the broker accepts them."""
    producer, _ = services
    url, prefix = bus
    full = f"{prefix}full-test"
    topology = Topology(url, prefix)
    with connect(url) as conn:
        topology.declare(conn)
        channel = conn.channel()
        channel.queue_declare(
            full, durable=False, auto_delete=False,
            arguments={"x-max-length": 0, "x-overflow": "reject-publish"},
        )  # fmt: skip
        channel.queue_bind(full, exchange=topology.events.name, routing_key="orders.#")
    place(producer, "O-N1")
    place(producer, "O-N2")
    relay = producer.relay()
    assert relay.run_once() == 0
    Outbox = producer.models.Outbox
    with producer.sessions() as session:
        rows = session.execute(select(Outbox.attempts, Outbox.last_error)).all()
    assert [attempts for attempts, _ in rows] == [1, 1]
    assert all("refused" in error for _, error in rows)
    with connect(url) as conn:
        conn.channel().queue_delete(full)
    assert relay.run_once() == 2
    assert unpublished(producer) == 0


def _queue(service, suffix: str) -> tuple[str, str]:
    return service.config.broker_url, f"{service.config.bus_prefix}{suffix}"


def test_a_batch_reads_only_its_own_messages_in_an_inbox_that_grew(services):
    """However the inbox has grown since the consumer's first batches, and with no statistics
    on it in PostgreSQL yet, a batch looks its messages up by their ids: it reads about their
    entries, not the whole inbox for every batch. A message already in the inbox is still a
    duplicate."""
    _, consumer = services
    worker = consumer.consumer()
    placed = portal_contracts.example("orders.order.placed")

    def batch_of_ten(n: int, duplicate: str) -> None:
        numbers = [f"O-L{n}-{i}" for i in range(9)]
        batch = [event("orders.order.placed", dict(placed, order_number=o)) for o in numbers]
        batch.append(event("orders.order.placed", placed, message_id=duplicate))
        assert worker.handle_batch(batch) == [True] * 9 + [False]

    # First batches on a small inbox: past psycopg's prepared statement and PostgreSQL's
    # generic plan (five runs each), on this worker's one connection.
    first = event("orders.order.placed", dict(placed, order_number="O-L-first"))
    assert worker.handle_batch([first]) == [True]
    for n in range(12):
        batch_of_ten(n, first.message_id)
    # The inbox grows to 20,000 messages (the consumer's later life), and more batches come.
    Processed = consumer.models.ProcessedMessage
    earlier = [str(uuid.uuid4()) for _ in range(20000)]
    with consumer.sessions() as session:
        session.execute(
            insert(Processed),
            [
                {"consumer": worker.config.service, "message_id": message_id,
                 "type": "orders.order.placed", "processed_at": dt.datetime.now(dt.UTC)}
                for message_id in earlier
            ],
        )  # fmt: skip
        session.commit()
    for n in range(12, 17):
        batch_of_ten(n, earlier[n])
    assert len(sample_service.effects(consumer)) == 1 + 17 * 9

    # Its connections end, and PostgreSQL counts what they read of the inbox.
    consumer.engine.dispose()
    with consumer.sessions() as session:

        def reads():
            session.execute(text("SELECT pg_stat_clear_snapshot()"))
            return session.execute(
                text("SELECT t.seq_tup_read + i.idx_tup_read, t.seq_scan + i.idx_scan"
                     " FROM pg_stat_user_tables t JOIN pg_stat_user_indexes i USING (relid)"
                     " WHERE t.relname = 'processed_messages'")
            ).one()  # fmt: skip

        rows, scans = wait_for(lambda: (found := reads())[1] >= 18 and found)
    # One pass over the grown inbox would be 20,000 rows.
    assert rows < 5000, (rows, scans)
