"""Test helpers shared by every service's tests (nameko's helpers are the model).

- :func:`service_on_sqlite` composes a service on a fresh SQLite file and migrates it;
- :func:`event` builds a delivered event from a payload, exactly as the consumer would;
- :func:`deliver` hands an event to a service's consumer logic (inbox included);
- :func:`recorded` lists what a service wrote to its outbox;
- :func:`postgres_database` and :func:`broker_url` give integration tests real servers,
  skipping with a reason when none is reachable, and failing instead under ``CI=true``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import os
import socket
import uuid
from collections.abc import Iterator
from urllib.parse import urlsplit

from sqlalchemy import create_engine, select, text

import portal_contracts
from portal_runtime.consumer import Event
from portal_runtime.signing_client import identity_header, signed_for  # noqa: F401 - for tests

POSTGRES_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
RABBITMQ_URL = os.environ.get("TEST_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")


def dev_keys(name: str):
    """``name``'s development identity keys (and every signer's public key), as on ``make run``."""
    from portal_runtime.keys import identity_keys

    return identity_keys(name, strict_mode=False)


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def needs(what: str, present: object, install: str):
    """Decorate a test that needs a tool or font of the machine: skipped where it is missing,
    except under CI=true, where missing it is a failure (``.ci/run`` installs it)."""
    import pytest

    message = f"{what} is not installed ({install})"
    if present:
        return lambda test: test
    if not in_ci():
        return pytest.mark.skip(reason=message)

    def decorate(test):
        @functools.wraps(test)
        def missing(*args, **kwargs):
            pytest.fail(f"{message}: CI must have it", pytrace=False)

        return missing

    return decorate


def _reachable(url: str) -> bool:
    parts = urlsplit(url)
    default_port = 5672 if parts.scheme.startswith("amqp") else 5432
    try:
        with socket.create_connection((parts.hostname, parts.port or default_port), timeout=2):
            return True
    except OSError:
        return False


def require(what: str, url: str) -> None:
    """Skip when a real server is not reachable; under CI=true that is a failure instead."""
    import pytest

    if _reachable(url):
        return
    message = f"{what} is not reachable at {url}"
    if in_ci():
        pytest.fail(f"{message}: integration tests must not skip in CI", pytrace=False)
    pytest.skip(f"{message} (set TEST_POSTGRES_URL / TEST_BROKER_URL, or start it)")


def create_database(label: str, admin_url: str = POSTGRES_ADMIN_URL) -> str:
    """A new, empty PostgreSQL database on the server of ``admin_url``; its URL."""
    name = f"t_{label.replace('-', '_')}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return f"{admin_url.rsplit('/', 1)[0]}/{name}"


@contextlib.contextmanager
def postgres_database(label: str) -> Iterator[str]:
    """A new, empty PostgreSQL database for this test run, dropped afterwards."""
    require("PostgreSQL", POSTGRES_ADMIN_URL)
    url = create_database(label)
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
        admin.dispose()


def broker_url() -> str:
    """The real RabbitMQ's URL (skip, or fail in CI, when it is not reachable)."""
    require("RabbitMQ", RABBITMQ_URL)
    return RABBITMQ_URL


def bus_prefix() -> str:
    """A name prefix that keeps one test run's exchanges and queues apart from others'."""
    return f"t{uuid.uuid4().hex[:8]}."


def service_on_sqlite(bootstrap, config_cls, service_name: str, tmp_path, **adapters):
    """A service composed on a fresh SQLite file and an in-memory bus, migrated."""
    config = config_cls.from_env(
        service_name,
        database_url=f"sqlite:///{tmp_path / (service_name + '.db')}",
        broker_url="memory://",
        retry_first_delay=0.0,
    )
    service = bootstrap(config, **adapters)
    service.migrate()
    return service


def event(
    event_type: str,
    payload: dict,
    *,
    message_id: str | None = None,
    version: int = 1,
    correlation_id: str = "test-correlation",
) -> Event:
    """An event as a consumer sees it: the payload round-tripped through the wire format."""
    wire = portal_contracts.validate_payload(event_type, payload, version=version)
    return Event(
        message_id=message_id or str(uuid.uuid4()),
        type=event_type,
        version=version,
        occurred_at=dt.datetime.now(dt.UTC),
        producer="test",
        correlation_id=correlation_id,
        causation_id=None,
        payload=portal_contracts.load_payload(event_type, wire, version=version),
    )


def deliver(service, evt: Event) -> bool:
    """Handle one event as the service's consumer does; False when it was a duplicate."""
    return service.consumer().handle(evt)


def deliver_until_handled(consumer, evt: Event, attempts: int = 5, delay: float = 0.05):
    """Hand ``evt`` to ``consumer`` as the broker would: again after a failure, up to
    ``attempts`` times (without the broker's delay queues); the last error if every try failed."""
    import time

    error: Exception | None = None
    for attempt in range(attempts):
        try:
            consumer.handle(evt)
            return None
        except Exception as exc:  # noqa: BLE001 - a failed try is what this counts
            error = exc
            time.sleep(delay * 2**attempt)
    return error


def recorded(service, event_type: str | None = None) -> list[dict]:
    """Payloads the service has written to its outbox, oldest first."""
    Outbox = service.models.Outbox
    query = select(Outbox).order_by(Outbox.id)
    if event_type:
        query = query.where(Outbox.type == event_type)
    with service.sessions() as session:
        return [row.payload for row in session.scalars(query)]


def relay_to(producer, consumers: list) -> int:
    """Hand every unpublished outbox event of ``producer`` to the consumers that subscribe.

    An in-process stand-in for relay + broker + consumer, for service-layer tests that span
    services; rows are marked published, so each is handed over once.
    """
    from portal_runtime.db import utcnow

    Outbox = producer.models.Outbox
    handed = 0
    with producer.sessions() as session, session.begin():
        rows = list(
            session.scalars(select(Outbox).where(Outbox.published_at.is_(None)).order_by(Outbox.id))
        )
        for row in rows:
            for consumer in consumers:
                if row.type in consumer.handlers and portal_contracts.receives(
                    consumer.config.service, row.type, row.payload
                ):
                    consumer.consumer().handle(
                        Event(
                            message_id=row.message_id,
                            type=row.type,
                            version=row.version,
                            occurred_at=row.occurred_at,
                            producer=producer.config.service,
                            correlation_id=row.correlation_id,
                            causation_id=row.causation_id,
                            payload=portal_contracts.load_payload(
                                row.type, row.payload, version=row.version
                            ),
                        )
                    )
                    handed += 1
            row.published_at = utcnow()
    return handed


def delete_bus(url: str, prefix: str) -> None:
    """Remove a test run's queues and exchanges from a shared broker."""
    from portal_runtime.topology import Topology, connect

    with connect(url) as conn:
        Topology(url, prefix).delete(conn)


def queue_messages(url: str, queue_name: str, limit: int = 1000) -> list:
    """Take every message waiting in a queue (acking them), undecoded: for dead-letter checks."""
    from kombu import Queue

    from portal_runtime.topology import connect

    taken = []
    with connect(url) as conn:
        queue = Queue(queue_name, no_declare=True)(conn.channel())
        while len(taken) < limit:
            message = queue.get(no_ack=False)
            if message is None:
                break
            message.ack()
            taken.append(message)
    return taken


def held_after(func, parties: int = 2, timeout: float = 3.0):
    """``func`` wrapped so that ``parties`` callers meet right after it returns.

    For race tests: wrap the read of a check-then-write (``monkeypatch.setattr``), and every
    concurrent request has read before any writes, unless a lock makes the later ones wait
    before the read. Then the first caller waits ``timeout`` seconds alone and goes on (the
    barrier breaks); the others, let in later, pass the broken barrier at once.
    """
    import threading

    barrier = threading.Barrier(parties)

    def held(*args, **kwargs):
        result = func(*args, **kwargs)
        try:
            barrier.wait(timeout=timeout)
        except threading.BrokenBarrierError:
            pass
        return result

    return held
