"""The broker topology, declared from this one module before anything is published.

One durable topic exchange carries every event (routing key = event type, or ``<type>.<value>``
for the events ``ROUTED_BY`` names); every consuming
service has one durable queue bound to the types it handles (``SUBSCRIPTIONS``) and one
dead-letter queue. Declaring all of them up front means an event published while its consumer is
down waits in that consumer's queue instead of being dropped by the exchange.
"""

from __future__ import annotations

from pathlib import Path

from kombu import Connection, Exchange, Queue, binding

from portal_contracts import SUBSCRIPTIONS, binding_key
from portal_runtime import folder_bus

EVENTS_EXCHANGE = "portal.events"
DEAD_LETTER_EXCHANGE = "portal.dlx"
# On RabbitMQ, a message redelivered this often (its consumer keeps dying on it) is dead-lettered
# by the broker itself; handler errors are dead-lettered by the consumer long before that.
DELIVERY_LIMIT = 20


def is_amqp(url: str) -> bool:
    return url.startswith(("amqp://", "amqps://", "pyamqp://"))


def connect(url: str, heartbeat: int = 30) -> Connection:
    """A connection with publisher confirms and heartbeats on AMQP, folders on ``filesystem://``.

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
        return Connection(url, heartbeat=heartbeat, transport_options={"confirm_publish": True})
    return Connection(url)


class Topology:
    """Names and declarations for one bus (``prefix`` separates test runs on a shared broker)."""

    def __init__(self, broker_url: str, prefix: str = ""):
        self.prefix = prefix
        self.amqp = is_amqp(broker_url)
        self.events = Exchange(prefix + EVENTS_EXCHANGE, type="topic", durable=True)
        self.dead_letters = Exchange(prefix + DEAD_LETTER_EXCHANGE, type="direct", durable=True)

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

    def declare(self, connection: Connection) -> None:
        """Declare exchanges, every service's queue and dead-letter queue, and their bindings."""
        channel = connection.default_channel
        self.events(channel).declare()
        self.dead_letters(channel).declare()
        for service in SUBSCRIPTIONS:
            self.queue(service)(channel).declare()
            self.dead_letter_queue(service)(channel).declare()
