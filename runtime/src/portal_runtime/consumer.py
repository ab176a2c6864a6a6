"""The consumer: handles each delivery exactly once in effect, and never drops one.

For every message: decode and check the envelope (anything undecodable, non-JSON or of an unknown
type or version goes straight to the dead-letter queue); then run the service's handlers in one
unit of work together with the inbox row ``(consumer, message_id)``; ack only after that commit.
A duplicate finds its inbox row and is acked with no effect. A handler that keeps failing is
tried ``handler_attempts`` times with a growing delay, then dead-lettered, then acked.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from kombu import Producer
from marshmallow import ValidationError
from sqlalchemy.exc import IntegrityError

import portal_contracts
from portal_runtime import logs
from portal_runtime.config import Config
from portal_runtime.db import MessagingModels
from portal_runtime.topology import Topology, connect
from portal_runtime.uow import UnitOfWork

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


Handler = Callable[[Event, UnitOfWork], None]


class Poison(Exception):
    """A message that can never be handled; it goes to the dead-letter queue at once."""


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
        self._dead_letter_producer: Producer | None = None

    # -- handling, independent of the broker --------------------------------------------------

    def handle(self, event: Event) -> bool:
        """Run the handlers and record the inbox row in one transaction; False for a duplicate."""
        Processed = self.models.ProcessedMessage
        consumer = self.config.service
        with self.uow_factory(
            correlation_id=event.correlation_id, causation_id=event.message_id
        ) as uow:
            if uow.session.get(Processed, (consumer, event.message_id)) is not None:
                return False
            for handler in self.handlers[event.type]:
                handler(event, uow)
            uow.session.add(
                Processed(consumer=consumer, message_id=event.message_id, type=event.type)
            )
            try:
                uow.commit()
            except IntegrityError:
                uow.rollback()
                if self.already_processed(event.message_id):
                    return False  # a competing worker committed the same message first
                raise  # the handler's own constraint: a failure like any other
        return True

    def already_processed(self, message_id: str) -> bool:
        """Whether this consumer's inbox holds ``message_id`` (looked up in a fresh transaction)."""
        Processed = self.models.ProcessedMessage
        with self.uow_factory() as uow:
            return uow.session.get(Processed, (self.config.service, message_id)) is not None

    def handle_with_retries(self, event: Event) -> Exception | None:
        """Try the handlers up to ``handler_attempts`` times; the last error if all failed."""
        error: Exception | None = None
        for attempt in range(1, self.config.handler_attempts + 1):
            try:
                handled = self.handle(event)
                log.info("event.handled" if handled else "event.duplicate", attempt=attempt)
                return None
            except Exception as exc:  # noqa: BLE001 - any handler error is retried, then dead-lettered
                error = exc
                log.warning(
                    "event.handler_failed", attempt=attempt, error=f"{type(exc).__name__}: {exc}"
                )
                if attempt < self.config.handler_attempts:
                    time.sleep(self.config.handler_retry_delay * 2 ** (attempt - 1))
        return error

    # -- broker side ---------------------------------------------------------------------------

    def on_message(self, message) -> None:
        props = message.properties or {}
        headers = message.headers or {}
        with structlog.contextvars.bound_contextvars(
            message_id=props.get("message_id"),
            event_type=headers.get("type") or message.delivery_info.get("routing_key"),
            correlation_id=props.get("correlation_id"),
        ):
            try:
                event = decode(message.content_type, message.body, self.handlers)
            except Exception as exc:  # noqa: BLE001 - whatever fails to decode is poison
                # The body is not logged: it may be anything, including data that must not leak.
                log.error("event.poison", reason=str(exc))
                self.dead_letter(message, reason=str(exc), attempts=0)
                return
            error = self.handle_with_retries(event)
            if error is None:
                message.ack()
                return
            self.dead_letter(
                message,
                reason=f"{type(error).__name__}: {error}",
                attempts=self.config.handler_attempts,
            )

    def dead_letter(self, message, reason: str, attempts: int) -> None:
        """Publish the message unchanged to this service's DLQ (confirmed), then ack it."""
        headers = dict(message.headers or {})
        headers.update(
            {
                "x-dead-letter-reason": reason[:500],
                "x-failed-attempts": attempts,
                "x-original-routing-key": message.delivery_info.get("routing_key"),
                "x-dead-lettered-at": dt.datetime.now(dt.UTC).isoformat(),
            }
        )
        props = message.properties or {}
        self._dead_letter_producer.publish(
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
        log.error("event.dead_lettered", reason=reason[:500], attempts=attempts)

    def run(self, stop: threading.Event) -> None:
        """Consume until ``stop`` is set, reconnecting with backoff when the broker goes away."""
        backoff = 0.5
        while not stop.is_set():
            try:
                with connect(self.config.broker_url, self.config.heartbeat) as conn:
                    conn.ensure_connection(max_retries=1)
                    self.topology.declare(conn)
                    self._dead_letter_producer = Producer(conn.channel())
                    queue = self.topology.queue(self.config.service)
                    with conn.Consumer(
                        [queue],
                        on_message=self.on_message,
                        prefetch_count=self.config.prefetch_count,
                    ):
                        log.info("consumer.started", queue=queue.name)
                        backoff = 0.5
                        while not stop.is_set():
                            try:
                                conn.drain_events(timeout=1)
                            except TimeoutError:
                                conn.heartbeat_check()
            except conn_errors() as exc:
                log.warning("consumer.connection_lost", error=f"{type(exc).__name__}: {exc}")
                stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)
            except Exception as exc:
                # The message in hand was not acked: it is delivered again after reconnecting.
                log.exception("consumer.failed", error=f"{type(exc).__name__}: {exc}")
                stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)


def conn_errors() -> tuple[type[BaseException], ...]:
    import amqp.exceptions
    from kombu.exceptions import OperationalError

    return (OSError, ConnectionError, OperationalError, amqp.exceptions.AMQPError)
