"""The relay: publishes outbox rows to the broker and marks them published after the confirm.

Rows are claimed oldest first (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several relays can
run), published persistent with publisher confirms and a bounded retry, and marked in the same
transaction that claimed them. A crash between the publish and the mark republishes the row: the
consumers' inbox turns that duplicate into a no-op.

The relay sleeps on a doorbell (``wakeup``) that every commit with outbox rows rings, so an event
goes out right after the commit that recorded it; the ``relay_poll_interval`` sweep is only the
safety net for a ring that got lost.
"""

from __future__ import annotations

import json
import os
import threading
import time

from kombu import Connection, Producer
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

import portal_contracts
from portal_runtime import logs, metrics, tracing, wakeup
from portal_runtime.config import Config
from portal_runtime.db import MessagingModels, is_sqlite, utcnow
from portal_runtime.topology import Topology, connect

log = logs.get("relay")


def envelope_of(row, producer: str) -> dict:
    return {
        "message_id": row.message_id,
        "type": row.type,
        "version": row.version,
        "occurred_at": row.occurred_at.isoformat(),
        "producer": producer,
        "correlation_id": row.correlation_id,
        "causation_id": row.causation_id,
        "payload": row.payload,
    }


class Relay:
    def __init__(self, config: Config, sessions: sessionmaker, models: MessagingModels):
        self.config = config
        self.sessions = sessions
        self.models = models
        self.topology = Topology(config.broker_url, config.bus_prefix)
        self._connection: Connection | None = None
        self._producer: Producer | None = None
        self.doorbell: wakeup.Doorbell | None = None
        # Fault injection for the delivery tests: die after publishing, before marking.
        self._die_after_publish = os.environ.get("RELAY_FAULT") == "exit_after_publish"

    def _ensure_producer(self) -> Producer:
        if self._producer is None:
            conn = connect(self.config.broker_url, self.config.heartbeat)
            conn.ensure_connection(max_retries=1)
            # The publisher declares the exchange in its own channel too: the virtual transports
            # route by the exchange type they know, and fall back to direct when they know none.
            self.topology.declare(conn)
            self._connection = conn
            self._producer = Producer(conn.channel(), exchange=self.topology.events)
        return self._producer

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.release()
            except Exception:  # noqa: BLE001 - closing a broken connection may fail too
                pass
        self._connection = None
        self._producer = None

    def publish(self, row) -> None:
        producer = self._ensure_producer()
        body = json.dumps(envelope_of(row, self.config.service))
        with tracing.publishing(self.config.service, row) as traceparent:
            self._publish(producer, row, body, traceparent)

    def _publish(self, producer: Producer, row, body: str, traceparent: str | None) -> None:
        headers = {"type": row.type, "version": row.version}
        if traceparent:
            headers[tracing.HEADER] = traceparent
        producer.publish(
            body,
            exchange=self.topology.events,
            routing_key=portal_contracts.routing_key(row.type, row.payload),
            content_type="application/json",
            content_encoding="utf-8",
            delivery_mode=2,
            message_id=row.message_id,
            correlation_id=row.correlation_id,
            headers=headers,
            retry=True,
            retry_policy={
                "max_retries": self.config.publish_retries,
                "interval_start": 0.1,
                "interval_step": 0.5,
                "interval_max": 2.0,
            },
        )

    def run_once(self) -> int:
        """Publish up to one batch; return how many rows were published."""
        Outbox = self.models.Outbox
        published = 0
        with self.sessions() as session, session.begin():
            query = (
                select(Outbox)
                .where(Outbox.published_at.is_(None))
                .order_by(Outbox.id)
                .limit(self.config.relay_batch)
            )
            if not is_sqlite(session.get_bind()):
                query = query.with_for_update(skip_locked=True)
            service = self.config.service
            for row in session.scalars(query):
                started = time.perf_counter()
                try:
                    self.publish(row)
                except Exception as exc:  # noqa: BLE001 - any broker failure: keep the row, retry later
                    metrics.RELAY_FAILURES.labels(service).inc()
                    row.attempts += 1
                    row.last_error = f"{type(exc).__name__}: {exc}"[:500]
                    log.warning(
                        "relay.publish_failed",
                        message_id=row.message_id,
                        event_type=row.type,
                        error=row.last_error,
                    )
                    self.close()
                    break
                if self._die_after_publish:
                    os._exit(17)
                row.published_at = utcnow()
                published += 1
                metrics.RELAY_PUBLISH.labels(service).observe(time.perf_counter() - started)
                lag = (row.published_at - row.occurred_at).total_seconds()
                metrics.RELAY_LAG.labels(service, row.type).observe(max(0.0, lag))
                log.info(
                    "relay.published",
                    message_id=row.message_id,
                    event_type=row.type,
                    correlation_id=row.correlation_id,
                )
        return published

    def run(self, stop: threading.Event) -> None:
        with wakeup.Doorbell(self.sessions.kw["bind"], "outbox") as doorbell:
            self.doorbell = doorbell
            self._run(stop, doorbell)

    def _run(self, stop: threading.Event, doorbell: wakeup.Doorbell) -> None:
        backoff = self.config.relay_poll_interval
        while not stop.is_set():
            try:
                count = self.run_once()
                backoff = self.config.relay_poll_interval
            except Exception as exc:  # noqa: BLE001 - the loop must outlive database hiccups
                log.error("relay.loop_failed", error=f"{type(exc).__name__}: {exc}")
                self.close()
                count = 0
                backoff = min(backoff * 2, 5.0)
            if count < self.config.relay_batch:
                doorbell.wait(backoff, stop)
        self.close()
