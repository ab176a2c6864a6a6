"""The consumer: handles each delivery exactly once in effect, and never drops one.

For every message: decode and check the envelope (anything undecodable, non-JSON or of an unknown
type or version goes straight to the dead-letter queue); then run the service's handlers in one
unit of work together with the inbox row ``(consumer, message_id)``; ack only after that commit.
A duplicate finds its inbox row and is acked with no effect.

A handler that fails is not tried again in place: the message goes back to the broker to wait
(``Topology.send_to_queue`` with a delay, on the schedule of ``portal_runtime.retry``), carrying
its attempt count, its first failure's time and its last error in headers, and the delivery in
hand is acked once that copy is confirmed. A failure that can never pass (``retry.is_permanent``:
a handler raising ``Poison``, a contract violation) and a message still failing after
``retry_for`` seconds are dead-lettered to ``<service>.dlq`` with the same headers.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from kombu import Producer
from marshmallow import ValidationError
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

import portal_contracts
from portal_runtime import logs, metrics, tracing
from portal_runtime.config import Config
from portal_runtime.db import MessagingModels
from portal_runtime.retry import Poison, RetrySchedule, is_permanent
from portal_runtime.topology import DELAY_HEADER, NOT_BEFORE_HEADER, Topology, connect
from portal_runtime.uow import UnitOfWork, insert_into

log = logs.get("consumer")


@dataclass(frozen=True)
class Event:
    """A delivered event as handlers see it: the envelope with a typed, leniently loaded payload."""

    message_id: str
    type: str
    version: int
    occurred_at: dt.datetime
    producer: str
    correlation_id: str
    causation_id: str | None
    payload: dict
    # The W3C trace context its message carried (portal_runtime.tracing), if any.
    traceparent: str | None = None


Handler = Callable[[Event, UnitOfWork], None]


__all__ = ["Event", "EventConsumer", "Handler", "Poison", "decode"]

# Headers a failed message carries on its way round (and into the dead-letter queue).
ATTEMPTS = "x-failed-attempts"
FIRST_FAILED_AT = "x-first-failed-at"
LAST_ERROR = "x-last-error"
ORIGINAL_ROUTING_KEY = "x-original-routing-key"
# What the way through a delay queue adds; not copied onto the next round.
BROKER_HEADERS = (
    DELAY_HEADER,
    NOT_BEFORE_HEADER,
    "x-death",
    "x-first-death-exchange",
    "x-first-death-queue",
    "x-first-death-reason",
    "x-delivery-count",
)


# How long the consumer waits for one more delivery to join a batch: only what is already here.
BATCH_WAIT = 0.001


# A batch's messages already in the inbox, on PostgreSQL: one array of ids, and planned for them
# at every run, never as a prepared statement. The plan PostgreSQL keeps for a prepared one is
# made once, on a small inbox of tables it has no statistics for yet (a sequential scan), and
# then read the whole inbox for every batch as it grew.
INBOX_LOOKUP = (
    "SELECT message_id FROM processed_messages"
    " WHERE consumer = %(consumer)s AND message_id = ANY(%(ids)s)"
)


class InjectedFault(Exception):
    """A transient failure made on purpose (``HANDLER_FAULT``), for the chaos and retry tests."""


def injected_fault_until() -> float:
    """``HANDLER_FAULT=fail_until:<epoch seconds>``: every handling fails until then."""
    value = os.environ.get("HANDLER_FAULT", "")
    if value.startswith("fail_until:"):
        return float(value.removeprefix("fail_until:"))
    return 0.0


def decode(content_type: str | None, body: bytes | str, handled_types) -> Event:
    if content_type != "application/json":
        raise Poison(f"content type {content_type!r} is not application/json")
    try:
        raw = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Poison("body is not JSON") from exc
    try:
        envelope = portal_contracts.ENVELOPE.load(raw)
    except ValidationError as exc:
        raise Poison(f"bad envelope: {sorted(exc.messages)}") from exc
    key = (envelope["type"], envelope["version"])
    if envelope["type"] not in handled_types or not portal_contracts.is_known(*key):
        raise Poison(f"unknown event {key[0]} v{key[1]}")
    try:
        payload = portal_contracts.load_payload(key[0], envelope["payload"], version=key[1])
    except ValidationError as exc:
        raise Poison(f"payload does not match its contract: {sorted(exc.messages)}") from exc
    try:
        occurred_at = dt.datetime.fromisoformat(envelope["occurred_at"])
    except ValueError as exc:
        raise Poison("occurred_at is not an ISO timestamp") from exc
    return Event(
        message_id=envelope["message_id"],
        type=envelope["type"],
        version=envelope["version"],
        occurred_at=occurred_at,
        producer=envelope["producer"],
        correlation_id=envelope["correlation_id"],
        causation_id=envelope["causation_id"],
        payload=payload,
    )


class EventConsumer:
    def __init__(
        self,
        config: Config,
        handlers: dict[str, list[Handler]],
        uow_factory: Callable[..., UnitOfWork],
        models: MessagingModels,
    ):
        self.config = config
        self.handlers = handlers
        self.uow_factory = uow_factory
        self.models = models
        self.topology = Topology(config.broker_url, config.bus_prefix)
        self.schedule = RetrySchedule(
            first_delay=config.retry_first_delay,
            max_delay=config.retry_max_delay,
            give_up_after=config.retry_for,
        )
        self._producer: Producer | None = None
        self._batch: list = []
        self._ack_multiple = False
        self._fault_until = injected_fault_until()
        # The inbox's look-up (SQLite's; PostgreSQL's is INBOX_LOOKUP) and insert, built once:
        # their construction cost more than a trip.
        inbox = models.ProcessedMessage.__table__
        self._inbox_query = select(inbox.c.message_id).where(
            inbox.c.consumer == config.service,
            inbox.c.message_id.in_(bindparam("ids", expanding=True)),
        )
        self._inbox_insert = insert_into(inbox)

    # -- handling, independent of the broker --------------------------------------------------

    def handle(self, event: Event) -> bool:
        """Run the handlers and record the inbox row in one transaction; False for a duplicate."""
        outcome = self.handle_batch([event])[0]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def handle_batch(self, events: list[Event]) -> list[bool | Exception]:
        """Handle several events in one transaction.

        The outcome of each is True (handled), False (a duplicate: its inbox row exists) or the
        exception its handlers raised, of which nothing stays (but what a handler committed on
        purpose before failing). One commit covers them all; a message that fails is left out
        and the others are handled again without it; if the commit fails, each is handled
        again on its own.
        Each is counted by outcome and timed (``portal_runtime.metrics``), in a span that
        continues the trace its message carried (``portal_runtime.tracing``)."""
        outcomes = self._handle_batch(events)
        service = self.config.service
        now = dt.datetime.now(dt.UTC)
        for event, outcome in zip(events, outcomes, strict=True):
            if isinstance(outcome, Exception):
                metrics.DELIVERIES.labels(service, event.type, "failed").inc()
                continue
            metrics.DELIVERIES.labels(
                service, event.type, "handled" if outcome else "duplicate"
            ).inc()
            if outcome:
                lag = (now - event.occurred_at).total_seconds()
                metrics.DELIVERY_LAG.labels(service, event.type).observe(max(0.0, lag))
        return outcomes

    def _handle_batch(self, events: list[Event]) -> list[bool | Exception]:
        """One transaction for the batch, no savepoints: a failure is rare, and a savepoint and
        its release were two round trips for every message. When a message fails, the
        transaction is rolled back, that message keeps its error (it ran once, as it would
        alone), and the others not committed yet are handled again without it."""
        if time.time() < self._fault_until:
            fault = InjectedFault("HANDLER_FAULT: failing on purpose until the time it names")
            return [fault for _ in events]
        inbox_insert = self._inbox_insert
        consumer = self.config.service
        outcomes: list[bool | Exception] = []
        # events[:durable] are committed: a handler that commits on purpose (billing records a
        # payment attempt before calling the provider) commits the messages before it.
        durable = 0
        failed: int | None = None
        with self.uow_factory() as uow:
            # A batch's duplicates, in one look at the inbox (not one per message; a message
            # alone looks inside its step, which must open its transaction). A competing worker
            # that commits one of them meanwhile makes its inbox insert fail below, which the
            # IntegrityError branch settles.
            alone = len(events) == 1
            try:
                seen = (
                    set() if alone else self._in_inbox(uow.session, [e.message_id for e in events])
                )
            except Exception as exc:  # noqa: BLE001 - no database: each message fails, is retried
                # As a failing handler would: never out of here, where the whole batch would go
                # back to the queue at once and come again at once (up to its delivery limit).
                return [exc for _ in events]
            for index, event in enumerate(events):
                if event.message_id in seen:
                    outcomes.append(False)
                    continue
                started = time.perf_counter()
                try:
                    with (
                        tracing.consuming(consumer, event),
                        uow.step(event.correlation_id, event.message_id, event.traceparent),
                    ):
                        if alone and self._in_inbox(uow.session, [event.message_id]):
                            outcomes.append(False)
                            continue
                        for handler in self.handlers[event.type]:
                            handler(event, uow)
                        # A Core insert: the ORM's unit of work for this one row was a fifth
                        # of a small handler's cost. Python-side defaults (processed_at) apply.
                        uow.session.execute(
                            inbox_insert,
                            {
                                "consumer": consumer,
                                "message_id": event.message_id,
                                "type": event.type,
                            },
                        )
                    outcomes.append(True)
                    seen.add(event.message_id)  # the same message twice in one batch
                except IntegrityError as exc:
                    # A competing worker committed this message first, or the handler's own
                    # constraint: only the inbox row decides which.
                    outcomes.append(False if self.already_processed(event.message_id) else exc)
                    failed = index
                except Exception as exc:  # noqa: BLE001 - the message's failure, kept for it
                    outcomes.append(exc)
                    failed = index
                finally:
                    if uow.step_committed:
                        durable = index
                    metrics.HANDLER_DURATION.labels(consumer, event.type).observe(
                        time.perf_counter() - started
                    )
                if failed is not None:
                    break
            if failed is None:
                try:
                    uow.commit()
                    return outcomes
                except Exception as exc:  # noqa: BLE001 - a failed commit fails the batch
                    with contextlib.suppress(Exception):
                        uow.rollback()
                    if alone:
                        if isinstance(exc, IntegrityError) and self.already_processed(
                            events[0].message_id
                        ):
                            return [False]
                        return [exc]
                # Each of those not committed yet, on its own.
                return outcomes[:durable] + [self._handle_batch([e])[0] for e in events[durable:]]
        # The failed message keeps its outcome; the others rolled back with it go round again.
        again = [e for i, e in enumerate(events[durable:], durable) if i != failed]
        redone = iter(self._handle_batch(again) if again else [])
        return [
            outcomes[i] if i < durable or i == failed else next(redone) for i in range(len(events))
        ]

    def _in_inbox(self, session, message_ids: list[str]) -> set[str]:
        """Which of ``message_ids`` this consumer's inbox already holds."""
        connection = session.connection()
        if connection.dialect.name != "postgresql":
            return set(session.scalars(self._inbox_query, {"ids": message_ids}))
        with connection.connection.driver_connection.cursor() as cursor:
            params = {"consumer": self.config.service, "ids": message_ids}
            cursor.execute(INBOX_LOOKUP, params, prepare=False)
            return {message_id for (message_id,) in cursor}

    def already_processed(self, message_id: str) -> bool:
        """Whether this consumer's inbox holds ``message_id`` (looked up in a fresh transaction)."""
        Processed = self.models.ProcessedMessage
        with self.uow_factory() as uow:
            return uow.session.get(Processed, (message_id, self.config.service)) is not None

    # -- broker side ---------------------------------------------------------------------------

    def on_message(self, message) -> None:
        """Kombu's callback: the delivery waits for the batch it belongs to (``run``)."""
        self._batch.append(message)

    def handle_messages(self, messages: list) -> None:
        """Decode, handle in one transaction, then ack, retry or dead-letter each message."""
        decoded = []
        for message in messages:
            with self._logging(message):
                headers = message.headers or {}
                try:
                    event = decode(message.content_type, message.body, self.handlers)
                except Exception as exc:  # noqa: BLE001 - whatever fails to decode is poison
                    # The body is not logged: it may be anything, including data that must not leak.
                    log.error("event.poison", reason=str(exc))
                    metrics.DELIVERIES.labels(
                        self.config.service, self._type_label(headers), "poison"
                    ).inc()
                    self.dead_letter(message, reason=str(exc), attempts=0)
                    continue
                traceparent = headers.get(tracing.HEADER)
                decoded.append((message, dataclasses.replace(event, traceparent=traceparent)))
        if not decoded:
            return
        outcomes = self.handle_batch([event for _, event in decoded])
        settled = []
        for (message, _), outcome in zip(decoded, outcomes, strict=True):
            with self._logging(message):
                if isinstance(outcome, Exception):
                    self.failed(message, outcome)
                    continue
                log.info(
                    "event.handled" if outcome else "event.duplicate",
                    attempt=int((message.headers or {}).get(ATTEMPTS, 0)) + 1,
                )
                settled.append(message)
        self.ack(settled)

    def ack(self, messages: list) -> None:
        """Ack handled messages: on RabbitMQ the batch at once (every earlier delivery of the
        channel is settled by now), one by one on the embedded bus."""
        if not messages:
            return
        if self._ack_multiple:
            messages[-1].ack(multiple=True)
        else:
            for message in messages:
                message.ack()

    @staticmethod
    def _logging(message):
        props = message.properties or {}
        headers = message.headers or {}
        return structlog.contextvars.bound_contextvars(
            message_id=props.get("message_id"),
            event_type=headers.get("type")
            or headers.get(ORIGINAL_ROUTING_KEY)
            or message.delivery_info.get("routing_key"),
            correlation_id=props.get("correlation_id"),
        )

    def failed(self, message, error: Exception) -> None:
        """Send a failed message round again after its delay, or to the dead-letter queue."""
        headers = message.headers or {}
        attempts = int(headers.get(ATTEMPTS, 0)) + 1
        now = dt.datetime.now(dt.UTC)
        first_failed_at = headers.get(FIRST_FAILED_AT) or now.isoformat()
        try:
            failing_for = (now - dt.datetime.fromisoformat(first_failed_at)).total_seconds()
        except (TypeError, ValueError):
            first_failed_at, failing_for = now.isoformat(), 0.0
        reason = f"{type(error).__name__}: {error}"[:500]
        failure = {FIRST_FAILED_AT: first_failed_at, LAST_ERROR: reason}
        if is_permanent(error):
            log.warning("event.handler_failed", attempt=attempts, error=reason, permanent=True)
            self.dead_letter(message, reason=reason, attempts=attempts, **failure)
            return
        delay = self.schedule.delay(attempts)
        if self.schedule.gives_up(failing_for, delay):
            reason = f"still failing after {attempts} attempts in {failing_for:.0f} s: {reason}"
            self.dead_letter(message, reason=reason[:500], attempts=attempts, **failure)
            return
        props = message.properties or {}
        copy = {k: v for k, v in headers.items() if k not in BROKER_HEADERS}
        copy.update(failure)
        copy[ATTEMPTS] = attempts
        copy.setdefault(ORIGINAL_ROUTING_KEY, message.delivery_info.get("routing_key"))
        self.topology.send_to_queue(
            self._producer,
            self.config.service,
            message.body,
            delay=delay,
            headers=copy,
            content_type=message.content_type or "application/octet-stream",
            content_encoding=message.content_encoding or "binary",
            message_id=props.get("message_id"),
            correlation_id=props.get("correlation_id"),
        )
        message.ack()
        metrics.RETRIES.labels(self.config.service, self._type_label(headers)).inc()
        log.warning(
            "event.handler_failed", attempt=attempts, error=reason, retry_in=round(delay, 3)
        )

    def dead_letter(self, message, reason: str, attempts: int, **extra_headers) -> None:
        """Publish the message unchanged to this service's DLQ (confirmed), then ack it."""
        headers = {k: v for k, v in (message.headers or {}).items() if k not in BROKER_HEADERS}
        headers.setdefault(ORIGINAL_ROUTING_KEY, message.delivery_info.get("routing_key"))
        headers.update(extra_headers)
        headers.update(
            {
                "x-dead-letter-reason": reason[:500],
                ATTEMPTS: attempts,
                "x-dead-lettered-at": dt.datetime.now(dt.UTC).isoformat(),
            }
        )
        props = message.properties or {}
        self._producer.publish(
            message.body,
            exchange=self.topology.dead_letters,
            routing_key=self.topology.dead_letter_key(self.config.service),
            content_type=message.content_type or "application/octet-stream",
            content_encoding=message.content_encoding or "binary",
            delivery_mode=2,
            message_id=props.get("message_id"),
            correlation_id=props.get("correlation_id"),
            headers=headers,
        )
        message.ack()
        metrics.DEAD_LETTERS.labels(self.config.service, self._type_label(headers)).inc()
        log.error("event.dead_lettered", reason=reason[:500], attempts=attempts)

    def _type_label(self, headers: dict) -> str:
        return metrics.event_type_label(headers.get("type"), self.handlers)

    def run(self, stop: threading.Event) -> None:
        """Consume until ``stop`` is set, reconnecting with backoff when the broker goes away."""
        backoff = 0.5
        while not stop.is_set():
            try:
                with connect(self.config.broker_url, self.config.heartbeat) as conn:
                    conn.ensure_connection(max_retries=1)
                    self.topology.declare(conn)
                    self._producer = Producer(conn.channel())
                    self._ack_multiple = conn.transport.driver_type == "amqp"
                    self._batch = []
                    queue = self.topology.queue(self.config.service)
                    with conn.Consumer(
                        [queue],
                        on_message=self.on_message,
                        prefetch_count=max(self.config.prefetch_count, self.config.consume_batch),
                    ):
                        log.info("consumer.started", queue=queue.name)
                        backoff = 0.5
                        while not stop.is_set():
                            try:
                                conn.drain_events(timeout=1)
                            except TimeoutError:
                                conn.heartbeat_check()
                                continue
                            self._drain_batch(conn)
            except conn_errors() as exc:
                log.warning("consumer.connection_lost", error=f"{type(exc).__name__}: {exc}")
                stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)
            except Exception as exc:
                # The message in hand was not acked: it is delivered again after reconnecting.
                log.exception("consumer.failed", error=f"{type(exc).__name__}: {exc}")
                stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)

    def _drain_batch(self, conn) -> None:
        """After a delivery, take the ones already waiting (up to ``consume_batch``) without
        waiting for more, then handle them together."""
        try:
            while len(self._batch) < self.config.consume_batch:
                conn.drain_events(timeout=BATCH_WAIT)
        except TimeoutError:
            pass
        batch, self._batch = self._batch, []
        if batch:
            self.handle_messages(batch)


def conn_errors() -> tuple[type[BaseException], ...]:
    import amqp.exceptions
    from kombu.exceptions import OperationalError

    return (OSError, ConnectionError, OperationalError, amqp.exceptions.AMQPError)
