"""A service's dead letters: list, show, replay into its own work queue, drop.

``python -m <service> dlq list|show ID|replay ID…|replay --all|drop ID`` on either transport. The
dead-letter queue is read without taking anything: every message is fetched unacknowledged, and
what is not replayed or dropped goes back when the connection closes. ``ID`` is the message id
(for a message that has none, ``body-`` and a digest of its bytes). The body of a message that
cannot be decoded as an event is never printed, only its size.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass

from kombu import Producer

from portal_runtime.consumer import (
    ATTEMPTS,
    BROKER_HEADERS,
    FIRST_FAILED_AT,
    LAST_ERROR,
    ORIGINAL_ROUTING_KEY,
)
from portal_runtime.topology import Topology, connect

# Headers of a message's failed rounds; a replay starts it afresh without them.
FAILURE_HEADERS = (
    *BROKER_HEADERS,
    ATTEMPTS,
    FIRST_FAILED_AT,
    LAST_ERROR,
    "x-dead-letter-reason",
    "x-dead-lettered-at",
)


@dataclass
class DeadLetter:
    message: object  # the kombu message, unacknowledged

    @property
    def headers(self) -> dict:
        return self.message.headers or {}

    @property
    def envelope(self) -> dict | None:
        try:
            raw = json.loads(self.message.body)
        except (ValueError, UnicodeDecodeError):
            return None
        return raw if isinstance(raw, dict) and "payload" in raw else None

    @property
    def id(self) -> str:
        message_id = (self.message.properties or {}).get("message_id")
        if message_id:
            return str(message_id)
        body = self.message.body
        raw = body.encode() if isinstance(body, str) else body
        return "body-" + hashlib.sha256(raw).hexdigest()[:12]

    def summary(self) -> dict:
        h, props, envelope = self.headers, self.message.properties or {}, self.envelope
        return {
            "id": self.id,
            "type": (envelope or {}).get("type")
            or h.get("type")
            or h.get(ORIGINAL_ROUTING_KEY)
            or "?",
            "correlation_id": props.get("correlation_id") or (envelope or {}).get("correlation_id"),
            "first_failure": h.get(FIRST_FAILED_AT) or h.get("x-dead-lettered-at"),
            "attempts": h.get(ATTEMPTS, 0),
            "last_error": h.get(LAST_ERROR) or h.get("x-dead-letter-reason") or _broker_reason(h),
            "dead_lettered_at": h.get("x-dead-lettered-at"),
        }


def _broker_reason(headers: dict) -> str | None:
    """Dead-lettered by the broker itself (delivery limit): say so."""
    reason = headers.get("x-first-death-reason")
    return f"dead-lettered by the broker ({reason})" if reason else None


class DeadLetters:
    def __init__(self, config):
        self.config = config
        self.topology = Topology(config.broker_url, config.bus_prefix)

    @contextlib.contextmanager
    def open(self) -> Iterator[list[DeadLetter]]:
        """Every dead letter, held unacknowledged while the block runs."""
        with connect(self.config.broker_url, self.config.heartbeat) as conn:
            self.topology.declare(conn)
            channel = conn.channel()
            self._producer = Producer(conn.channel())
            queue = self.topology.dead_letter_queue(self.config.service)(channel)
            held = []
            while (message := queue.get(no_ack=False)) is not None:
                held.append(DeadLetter(message))
            try:
                yield held
            finally:
                channel.close()  # whatever was not settled goes back to the queue

    def replay(self, letter: DeadLetter) -> None:
        """Into this service's own work queue, as if it were new; then off the dead-letter queue."""
        message = letter.message
        props = message.properties or {}
        headers = {k: v for k, v in letter.headers.items() if k not in FAILURE_HEADERS}
        self.topology.send_to_queue(
            self._producer,
            self.config.service,
            message.body,
            headers=headers,
            content_type=message.content_type or "application/octet-stream",
            content_encoding=message.content_encoding or "binary",
            message_id=props.get("message_id"),
            correlation_id=props.get("correlation_id"),
        )
        message.ack()

    @staticmethod
    def drop(letter: DeadLetter) -> None:
        letter.message.ack()


def describe(letter: DeadLetter) -> str:
    lines = [f"{k:>17}: {v}" for k, v in letter.summary().items()]
    envelope = letter.envelope
    if envelope is None:
        body = letter.message.body
        size = len(body.encode() if isinstance(body, str) else body)
        lines.append(f"{'body':>17}: not shown ({size} bytes that do not decode as an event)")
    else:
        lines.append(f"{'envelope':>17}: {json.dumps(envelope, indent=2, sort_keys=True)}")
    return "\n".join(lines)


def command(config, action: str, ids: list[str], replay_all: bool = False) -> int:
    """The ``dlq`` command; returns the exit status (1 when a named ID is not there)."""
    dead = DeadLetters(config)
    with dead.open() as letters:
        by_id = {letter.id: letter for letter in letters}
        missing = [i for i in ids if i not in by_id]
        if action == "list":
            if not letters:
                print(f"{config.service}: no dead letters")
            for letter in letters:
                s = letter.summary()
                print(
                    f"{s['id']}  {s['type']}  correlation={s['correlation_id']}  "
                    f"first_failure={s['first_failure']}  attempts={s['attempts']}  "
                    f"last_error={s['last_error']}"
                )
            return 0
        for i in missing:
            print(f"no dead letter {i} in {config.service}'s dead-letter queue")
        if action == "replay" and replay_all:
            chosen = letters
        else:
            chosen = [by_id[i] for i in ids if i in by_id]
        for letter in chosen:
            if action == "show":
                print(describe(letter))
            elif action == "replay":
                dead.replay(letter)
                print(f"replayed {letter.id} into {dead.topology.queue_name(config.service)}")
            elif action == "drop":
                dead.drop(letter)
                print(f"dropped {letter.id}")
        return 1 if missing else 0
