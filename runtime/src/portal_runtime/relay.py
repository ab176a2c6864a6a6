"""The relay: publishes outbox rows to the broker and marks them published after the confirm.

Rows are claimed oldest first (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several relays can
run), published persistent, and marked in the same transaction that claimed them, in one
statement. On RabbitMQ a claimed batch is published at once on a channel in confirm mode and the
broker's acks are awaited together (``ConfirmedChannel``): one round trip per batch, not one per
event. A row the broker did not confirm (nack, timeout, lost connection) stays unpublished, counts
a failed attempt and goes out with a later batch. A crash between the publish and the mark
republishes the rows: the consumers' inbox turns those duplicates into no-ops.

The relay sleeps on a doorbell (``wakeup``) that every commit with outbox rows rings, so an event
goes out right after the commit that recorded it; the ``relay_poll_interval`` sweep is only the
safety net for a ring that got lost.
"""

from __future__ import annotations

import json
import os
import threading
import time

from amqp import spec
from kombu import Connection, Producer
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import sessionmaker

import portal_contracts
from portal_runtime import logs, metrics, tracing, wakeup
from portal_runtime.config import Config
from portal_runtime.db import MessagingModels, is_sqlite, utcnow
from portal_runtime.topology import Topology, connect, is_amqp

log = logs.get("relay")

# How long the relay waits for the broker to confirm a batch before it counts as not sent.
CONFIRM_TIMEOUT = 10.0


class NotConfirmed(Exception):
    """The broker nacked a message, or did not confirm it in time."""


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


class ConfirmedChannel:
    """A channel in publisher-confirm mode that publishes a batch and then waits once for the
    broker's acks (``multiple`` acks settle every earlier delivery tag)."""

    def __init__(self, channel):
        self.channel = channel
        channel.confirm_select()
        channel.events["basic_ack"].add(self._acked)
        channel.events["basic_nack"].add(self._nacked)
        self._next_tag = 1
        self._waiting: dict[int, object] = {}
        self._nacks: list[object] = []

    def _settle(self, tag: int, multiple: bool) -> list:
        tags = [t for t in self._waiting if t <= tag] if multiple else [tag]
        return [self._waiting.pop(t) for t in tags if t in self._waiting]

    def _acked(self, tag: int, multiple: bool) -> None:
        self._settle(tag, multiple)

    def _nacked(self, tag: int, multiple: bool) -> None:
        self._nacks.extend(self._settle(tag, multiple))

    def publish(self, key, message, exchange: str, routing_key: str) -> None:
        self.channel.basic_publish(message, exchange=exchange, routing_key=routing_key)
        self._waiting[self._next_tag] = key
        self._next_tag += 1

    def wait_for_confirms(self, timeout: float) -> list:
        """Wait until every published message is acked or nacked; the keys not confirmed.
        Raises on a lost connection or when the broker is silent past ``timeout``."""
        deadline = time.monotonic() + timeout
        while self._waiting:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{len(self._waiting)} publish(es) not confirmed in {timeout} s")
            self.channel.wait([spec.Basic.Ack, spec.Basic.Nack], timeout=left)
        nacked, self._nacks = self._nacks, []
        return nacked


class Relay:
    def __init__(self, config: Config, sessions: sessionmaker, models: MessagingModels):
        self.config = config
        self.sessions = sessions
        self.models = models
        self.topology = Topology(config.broker_url, config.bus_prefix)
        self._connection: Connection | None = None
        self._producer: Producer | None = None
        self._confirmed: ConfirmedChannel | None = None
        self.doorbell: wakeup.Doorbell | None = None
        self._claim, self._mark = self._statements(not is_sqlite(sessions.kw["bind"]))
        # Fault injection for the delivery tests: die after publishing, before marking.
        self._die_after_publish = os.environ.get("RELAY_FAULT") == "exit_after_publish"

    def _connect(self) -> None:
        amqp = is_amqp(self.config.broker_url)
        # On RabbitMQ this channel confirms batches itself (``ConfirmedChannel``), not each publish.
        conn = connect(self.config.broker_url, self.config.heartbeat, confirm_each=not amqp)
        conn.ensure_connection(max_retries=1)
        # The publisher declares the exchange in its own channel too: the virtual transports
        # route by the exchange type they know, and fall back to direct when they know none.
        self.topology.declare(conn)
        self._connection = conn
        channel = conn.channel()
        if amqp:
            self._confirmed = ConfirmedChannel(channel)
        else:
            self._producer = Producer(channel, exchange=self.topology.events)

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.release()
            except Exception:  # noqa: BLE001 - closing a broken connection may fail too
                pass
        self._connection = None
        self._producer = None
        self._confirmed = None

    def publish(self, rows: list) -> tuple[list, Exception | None]:
        """Publish ``rows`` and return those the broker confirmed, with the error that kept the
        rest back (None when every row went out). Connection errors are retried on a new
        connection ``publish_retries`` times, for the rows not confirmed yet."""
        confirmed: list = []
        remaining = list(rows)
        error: Exception | None = None
        for attempt in range(self.config.publish_retries + 1):
            if attempt:
                time.sleep(min(0.1 + 0.5 * (attempt - 1), 2.0))
            try:
                if self._connection is None:
                    self._connect()
                done = self._publish(remaining)
            except Exception as exc:  # noqa: BLE001 - any broker failure: keep the rows, retry
                error = exc
                self.close()
                continue
            confirmed.extend(done)
            kept = {id(row) for row in done}
            remaining = [row for row in remaining if id(row) not in kept]
            if not remaining:
                return confirmed, None
            error = NotConfirmed(f"the broker refused {len(remaining)} message(s)")
            break  # a nack is the broker's answer, not a lost connection: try later
        return confirmed, error

    def _publish(self, rows: list) -> list:
        """Publish ``rows``; those the broker took (on RabbitMQ: did not nack)."""
        exchange = self.topology.events
        for row in rows:
            with tracing.publishing(self.config.service, row) as traceparent:
                body = json.dumps(envelope_of(row, self.config.service))
                routing_key = portal_contracts.routing_key(row.type, row.payload)
                headers = {"type": row.type, "version": row.version}
                if traceparent:
                    headers[tracing.HEADER] = traceparent
                if self._confirmed is None:
                    self._producer.publish(
                        body,
                        exchange=exchange,
                        routing_key=routing_key,
                        content_type="application/json",
                        content_encoding="utf-8",
                        delivery_mode=2,
                        message_id=row.message_id,
                        correlation_id=row.correlation_id,
                        headers=headers,
                    )
                    continue
                message = self._confirmed.channel.prepare_message(
                    body.encode(),
                    content_type="application/json",
                    content_encoding="utf-8",
                    headers=headers,
                    properties={
                        "delivery_mode": 2,
                        "message_id": row.message_id,
                        "correlation_id": row.correlation_id,
                    },
                )
                self._confirmed.publish(row, message, exchange.name, routing_key)
        if self._confirmed is None:
            return rows
        nacked = {id(row) for row in self._confirmed.wait_for_confirms(CONFIRM_TIMEOUT)}
        return [row for row in rows if id(row) not in nacked]

    def _statements(self, locking: bool):
        """The claim and the mark, built once (a statement built for every run cost more in
        its own construction and cache key than the round trip)."""
        table = self.models.Outbox.__table__
        claim = (
            select(table)
            .where(table.c.published_at.is_(None))
            .order_by(table.c.id)
            .limit(self.config.relay_batch)
        )
        if locking:
            claim = claim.with_for_update(skip_locked=True)
        mark = (
            update(table)
            .where(table.c.id.in_(bindparam("ids", expanding=True)))
            .values(published_at=bindparam("published_at"))
        )
        return claim, mark

    def run_once(self) -> int:
        """Publish up to one batch; return how many rows were published."""
        table = self.models.Outbox.__table__
        service = self.config.service
        with self.sessions() as session, session.begin():
            rows = session.execute(self._claim).all()
            if not rows:
                return 0
            started = time.perf_counter()
            confirmed, error = self.publish(rows)
            if self._die_after_publish and confirmed:
                os._exit(17)
            now = utcnow()
            if confirmed:
                session.execute(
                    self._mark, {"ids": [row.id for row in confirmed], "published_at": now}
                )
            if error is not None:
                self._record_failure(session, table, rows, confirmed, error)
        each = (time.perf_counter() - started) / max(1, len(confirmed))
        for row in confirmed:
            metrics.RELAY_PUBLISH.labels(service).observe(each)
            metrics.RELAY_LAG.labels(service, row.type).observe(
                max(0.0, (now - row.occurred_at).total_seconds())
            )
            log.info(
                "relay.published",
                message_id=row.message_id,
                event_type=row.type,
                correlation_id=row.correlation_id,
            )
        return len(confirmed)

    def _record_failure(self, session, table, rows, confirmed, error: Exception) -> None:
        metrics.RELAY_FAILURES.labels(self.config.service).inc()
        sent = {row.id for row in confirmed}
        failed = [row for row in rows if row.id not in sent]
        reason = f"{type(error).__name__}: {error}"[:500]
        session.execute(
            update(table)
            .where(table.c.id.in_([row.id for row in failed]))
            .values(attempts=table.c.attempts + 1, last_error=reason)
        )
        log.warning(
            "relay.publish_failed",
            message_id=failed[0].message_id,
            event_type=failed[0].type,
            unpublished=len(failed),
            error=reason,
        )

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
                self._keep_alive()
        self.close()

    def _keep_alive(self) -> None:
        """Heartbeats while idle, so the broker does not drop the connection between events."""
        if self._connection is None:
            return
        try:
            self._connection.heartbeat_check()
        except Exception:  # noqa: BLE001 - a dead connection is replaced at the next publish
            self.close()
