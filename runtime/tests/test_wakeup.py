"""The relay wakes when an outbox row commits, not at its next sweep: in-process, by NOTIFY on
PostgreSQL from another process, and by a datagram on SQLite. The sweep here is minutes long, so
an event out within the (generous) waits below was sent because of the wake-up."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

import portal_contracts
from portal_runtime.testing import postgres_database

sys.path.insert(0, str(Path(__file__).parent))
import sample_service

SWEEP = 600.0


def place(service, number: str) -> None:
    with service.uow() as uow:
        uow.record(
            "orders.order.placed",
            dict(portal_contracts.example("orders.order.placed"), order_number=number),
        )
        uow.commit()


def unpublished(service) -> int:
    Outbox = service.models.Outbox
    with service.sessions() as session:
        return session.scalar(select(func.count()).where(Outbox.published_at.is_(None)))


def wait_for(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.05)


def start_relay(service):
    service.config.relay_poll_interval = SWEEP
    relay, stop = service.relay(), threading.Event()
    thread = threading.Thread(target=relay.run, args=(stop,), daemon=True)
    thread.start()
    wait_for(lambda: relay.doorbell is not None and relay.doorbell.listening.is_set())
    # The first run (at start) has looked already; from here on only a ring wakes it.
    time.sleep(0.2)
    return stop, thread


@pytest.fixture
def relay_on():
    started = []

    def start(service):
        started.append(start_relay(service))

    yield start
    for stop, thread in started:
        stop.set()
        thread.join(timeout=10)


def test_a_commit_in_the_relays_own_process_wakes_it(tmp_path, relay_on):
    service = sample_service.build("catalog", f"sqlite:///{tmp_path / 'w.db'}", "memory://", "")
    relay_on(service)
    place(service, "O-1")
    wait_for(lambda: unpublished(service) == 0)


@pytest.mark.integration
def test_a_commit_in_another_process_wakes_the_relay_through_notify_on_postgresql(relay_on):
    with postgres_database("wakeup") as url:
        relay_side = sample_service.build("catalog", url, "memory://", "")
        # Another URL for the same database: this process's relay does not count as local.
        writer = sample_service.build("catalog", url + "?application_name=web", "memory://", "")
        relay_on(relay_side)
        place(writer, "O-1")
        wait_for(lambda: unpublished(relay_side) == 0)
        relay_side.engine.dispose()
        writer.engine.dispose()


def test_a_commit_in_another_process_wakes_the_relay_through_a_datagram_on_sqlite(
    tmp_path, relay_on
):
    url = f"sqlite:///{tmp_path / 'w.db'}"
    service = sample_service.build("catalog", url, "memory://", "")
    relay_on(service)
    writer = (
        "import sys; sys.path.insert(0, sys.argv[1]); import sample_service, test_wakeup; "
        "test_wakeup.place(sample_service.build('catalog', sys.argv[2], 'memory://', ''), 'O-1')"
    )
    subprocess.run(
        [sys.executable, "-c", writer, str(Path(__file__).parent), url], check=True, timeout=60
    )
    wait_for(lambda: unpublished(service) == 0)


def test_a_rolled_back_unit_of_work_rings_nothing(tmp_path):
    from portal_runtime import wakeup

    service = sample_service.build("catalog", f"sqlite:///{tmp_path / 'w.db'}", "memory://", "")
    with wakeup.Doorbell(service.engine, "outbox") as doorbell:
        with service.uow() as uow:
            uow.record(
                "orders.order.placed",
                dict(portal_contracts.example("orders.order.placed"), order_number="O-1"),
            )
            uow.rollback()
        assert not doorbell.wait(0.3)
        place(service, "O-2")
        assert doorbell.wait(30)
