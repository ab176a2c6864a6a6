"""``python -m <service> dlq``: dead letters are listed, shown, replayed and dropped, on both
transports (the embedded bus here; RabbitMQ with PostgreSQL when they are reachable)."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest
from kombu import Producer

import portal_contracts
from portal_runtime.dead_letters import DeadLetters, command
from portal_runtime.testing import broker_url, bus_prefix, delete_bus, postgres_database
from portal_runtime.topology import Topology, connect

sys.path.insert(0, str(Path(__file__).parent))
import sample_service


@pytest.fixture(params=["embedded", "rabbitmq"])
def bus(request, tmp_path):
    if request.param == "embedded":
        url = f"filesystem://{tmp_path / 'bus'}"
        yield url, "", f"sqlite:///{tmp_path / 'p.db'}", f"sqlite:///{tmp_path / 'c.db'}"
        return
    request.applymarker(pytest.mark.integration)
    url, prefix = broker_url(), bus_prefix()
    with postgres_database("dlq_p") as p_db, postgres_database("dlq_c") as c_db:
        yield url, prefix, p_db, c_db
    delete_bus(url, prefix)


def wait_for(condition, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def dead_ids(consumer) -> list[str]:
    with DeadLetters(consumer.config).open() as letters:
        return sorted(letter.id for letter in letters)


def test_dead_letters_are_listed_shown_replayed_and_dropped(bus, capsys):
    url, prefix, producer_db, consumer_db = bus
    producer = sample_service.build("catalog", producer_db, url, prefix)
    consumer = sample_service.build("billing", consumer_db, url, prefix)
    number = f"NEVER-{prefix or 'embedded'}"
    with producer.uow() as uow:
        payload = dict(portal_contracts.example("orders.order.placed"), order_number=number)
        never_id = uow.record("orders.order.placed", payload)
        uow.commit()
    producer.relay().run_once()
    topology = Topology(url, prefix)
    with connect(url) as conn:
        topology.declare(conn)
        Producer(conn.channel(), exchange=topology.events).publish(
            "SECRET-BODY not an event",
            routing_key="orders.order.placed.direct",  # a qualified key, as the relay sends
            content_type="text/plain",
            delivery_mode=2,
        )
    stop = threading.Event()
    thread = threading.Thread(target=consumer.consumer().run, args=(stop,), daemon=True)
    thread.start()
    try:
        ids = wait_for(lambda: len(dead_ids(consumer)) == 2 and dead_ids(consumer))
        [garbage_id] = [i for i in ids if i != never_id]
        capsys.readouterr()

        assert command(consumer.config, "list", []) == 0
        listed = capsys.readouterr().out
        assert never_id in listed and garbage_id in listed
        assert "orders.order.placed" in listed and "attempts=1" in listed
        assert "Poison" in listed and "SECRET-BODY" not in listed

        assert command(consumer.config, "show", [garbage_id]) == 0
        shown = capsys.readouterr().out
        assert "not shown" in shown and "SECRET-BODY" not in shown
        assert command(consumer.config, "show", ["nope"]) == 1
        assert dead_ids(consumer) == ids  # looking takes nothing away

        sample_service.FIXED.add(number)  # the rule is fixed: a replay now goes through
        assert command(consumer.config, "replay", [never_id]) == 0
        wait_for(lambda: number in sample_service.effects(consumer))
        assert dead_ids(consumer) == [garbage_id]

        assert command(consumer.config, "drop", [garbage_id]) == 0
        assert dead_ids(consumer) == []
        assert sample_service.effects(consumer) == [number]
    finally:
        stop.set()
        thread.join(timeout=10)
        producer.engine.dispose()
        consumer.engine.dispose()
