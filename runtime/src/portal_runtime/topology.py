"""The broker topology, declared from this one module before anything is published.

One durable topic exchange carries every event (routing key = event type, or ``<type>.<value>``
for the events ``ROUTED_BY`` names); every consuming
service has one durable queue bound to the types it handles (``SUBSCRIPTIONS``) and one
dead-letter queue. Declaring all of them up front means an event published while its consumer is
down waits in that consumer's queue instead of being dropped by the exchange.

Retries wait in the broker, not in a consumer (``portal_runtime.retry`` says when). On RabbitMQ a
message to retry is published, with its work queue's name as routing key, to a headers exchange
that routes it to one of a fixed ladder of delay queues (``DELAY_STEPS_MS``); each has a per-queue
TTL and dead-letters expired messages (at least once) to the default exchange, which hands them
back to the work queue named by their routing key. A delay between two steps picks one of the two
at random, weighted so the wait is the asked delay on average. On the embedded bus a message
carries the time before which it is not fetched (``folder_bus``).
"""

from __future__ import annotations

import contextlib
import itertools
import random
import time
from pathlib import Path

from kombu import Connection, Exchange, Producer, Queue, binding

from portal_contracts import SUBSCRIPTIONS, binding_key
from portal_runtime import folder_bus

EVENTS_EXCHANGE = "portal.events"
DEAD_LETTER_EXCHANGE = "portal.dlx"
# On RabbitMQ, a message redelivered this often (its consumer keeps dying on it) is dead-lettered
# by the broker itself; handler errors are dead-lettered by the consumer long before that.
DELIVERY_LIMIT = 20
RETRY_EXCHANGE = "portal.retry"
# The delay queues' TTLs: fine steps for tests' short schedules, then up to an hour.
DELAY_STEPS_MS = (
    50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 30_000,
    60_000, 120_000, 300_000, 600_000, 1_800_000, 3_600_000,
)  # fmt: skip
# Not "x-…": a headers exchange ignores those when it matches.
DELAY_HEADER = "portal-delay-step"
NOT_BEFORE_HEADER = folder_bus.NOT_BEFORE_HEADER


def is_amqp(url: str) -> bool:
    return url.startswith(("amqp://", "amqps://", "pyamqp://"))


def connect(url: str, heartbeat: int = 30, confirm_each: bool = True) -> Connection:
    """A connection with publisher confirms and heartbeats on AMQP, folders on ``filesystem://``.

    ``confirm_each=False`` leaves confirms to the caller: the relay confirms a batch at once.

    The folders use ``folder_bus.Transport``: whole messages only, and kept on disk until acked.
    """
    if url.startswith("filesystem://"):
        root = Path(url.removeprefix("filesystem://") or "var/bus")
        data, control = root / "data", root / "control"
        for folder in (data, control):
            folder.mkdir(parents=True, exist_ok=True)
        return Connection(
            "filesystem://",
            transport=folder_bus.Transport,
            transport_options={
                "data_folder_in": str(data),
                "data_folder_out": str(data),
                "control_folder": str(control),
                "processing_folder": str(root / "processing"),
                "bad_folder": str(root / "bad"),
                "polling_interval": 0.1,
            },
        )
    if is_amqp(url):
        return Connection(
            url, heartbeat=heartbeat, transport_options={"confirm_publish": confirm_each}
        )
    return Connection(url)


class Topology:
    """Names and declarations for one bus (``prefix`` separates test runs on a shared broker)."""

    def __init__(self, broker_url: str, prefix: str = ""):
        self.prefix = prefix
        self.amqp = is_amqp(broker_url)
        self.events = Exchange(prefix + EVENTS_EXCHANGE, type="topic", durable=True)
        self.dead_letters = Exchange(prefix + DEAD_LETTER_EXCHANGE, type="direct", durable=True)
        self.retries = Exchange(prefix + RETRY_EXCHANGE, type="headers", durable=True)

    def queue_name(self, service: str) -> str:
        return f"{self.prefix}{service}"

    def dead_letter_key(self, service: str) -> str:
        return f"{self.prefix}{service}.dlq"

    def queue(self, service: str) -> Queue:
        arguments = {}
        if self.amqp:
            arguments = {
                "x-queue-type": "quorum",
                "x-dead-letter-exchange": self.dead_letters.name,
                "x-dead-letter-routing-key": self.dead_letter_key(service),
                "x-delivery-limit": DELIVERY_LIMIT,
            }
        return Queue(
            self.queue_name(service),
            bindings=[
                binding(self.events, routing_key=binding_key(key)) for key in SUBSCRIPTIONS[service]
            ],
            durable=True,
            queue_arguments=arguments,
        )

    def dead_letter_queue(self, service: str) -> Queue:
        arguments = {"x-queue-type": "quorum"} if self.amqp else {}
        return Queue(
            self.dead_letter_key(service),
            exchange=self.dead_letters,
            routing_key=self.dead_letter_key(service),
            durable=True,
            queue_arguments=arguments,
        )

    def delay_queue(self, step_ms: int) -> Queue:
        return Queue(
            f"{self.prefix}{RETRY_EXCHANGE}.{step_ms}ms",
            exchange=self.retries,
            binding_arguments={"x-match": "all", DELAY_HEADER: str(step_ms)},
            durable=True,
            queue_arguments={
                "x-queue-type": "quorum",
                "x-message-ttl": step_ms,
                "x-dead-letter-exchange": "",  # the default one: routes by queue name
                "x-dead-letter-strategy": "at-least-once",
                "x-overflow": "reject-publish",
            },
        )

    @staticmethod
    def delay_step(seconds: float, rng: random.Random | None = None) -> int:
        """The delay queue for ``seconds``: one of the two steps around it, the wait right on
        average."""
        wanted = seconds * 1000
        if wanted <= DELAY_STEPS_MS[0]:
            return DELAY_STEPS_MS[0]
        for lower, upper in itertools.pairwise(DELAY_STEPS_MS):
            if wanted <= upper:
                share_upper = (wanted - lower) / (upper - lower)
                return upper if (rng or random).random() < share_upper else lower
        return DELAY_STEPS_MS[-1]

    def send_to_queue(
        self, producer: Producer, service: str, body, *, delay: float = 0.0, **publish
    ) -> None:
        """Publish straight into ``service``'s work queue, after ``delay`` seconds if given.

        For retries (with a delay) and for replaying dead letters (without).
        """
        headers = dict(publish.pop("headers", None) or {})
        exchange, routing_key = "", self.queue_name(service)
        if delay > 0 and self.amqp:
            exchange = self.retries
            headers[DELAY_HEADER] = str(self.delay_step(delay))
        elif delay > 0:
            headers[NOT_BEFORE_HEADER] = time.time_ns() + int(delay * 1e9)
        producer.publish(
            body,
            exchange=exchange,
            routing_key=routing_key,
            headers=headers,
            delivery_mode=2,
            mandatory=self.amqp,  # an unroutable message comes back as an error, not lost
            **publish,
        )

    def declare(self, connection: Connection) -> None:
        """Declare exchanges, every service's queue and dead-letter queue, and their bindings,
        and on RabbitMQ the delay queues of retries."""
        channel = connection.default_channel
        self.events(channel).declare()
        self.dead_letters(channel).declare()
        for service in SUBSCRIPTIONS:
            self.queue(service)(channel).declare()
            self.dead_letter_queue(service)(channel).declare()
        if self.amqp:
            self.retries(channel).declare()
            for step in DELAY_STEPS_MS:
                self.delay_queue(step)(channel).declare()

    def delete(self, connection: Connection) -> None:
        """Remove everything :meth:`declare` made (a test run's bus on a shared broker)."""
        channel = connection.channel()
        queues = [q(s) for s in SUBSCRIPTIONS for q in (self.queue, self.dead_letter_queue)]
        if self.amqp:
            queues += [self.delay_queue(step) for step in DELAY_STEPS_MS]
        for queue in queues:
            with contextlib.suppress(Exception):
                queue(channel).delete()
        for exchange in (self.events, self.dead_letters, self.retries):
            with contextlib.suppress(Exception):
                exchange(channel).delete()
