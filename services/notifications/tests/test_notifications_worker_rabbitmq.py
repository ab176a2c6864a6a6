"""The notifications worker on RabbitMQ and PostgreSQL, with the SMTP server down for a while."""

from __future__ import annotations

import json
import threading
import time
import uuid

import pytest
from kombu import Producer

import portal_contracts
from notifications import SERVICE
from notifications.bootstrap import bootstrap
from notifications.config import NotificationsConfig
from portal_runtime.testing import broker_url, bus_prefix, postgres_database
from portal_runtime.topology import Topology, connect

pytestmark = pytest.mark.integration


def publish(producer: Producer, event_type: str, payload: dict, message_id: str) -> None:
    envelope = {
        "message_id": message_id,
        "type": event_type,
        "version": 1,
        "occurred_at": "2026-11-22T10:00:00+00:00",
        "producer": "test",
        "correlation_id": f"c-{message_id}",
        "causation_id": None,
        "payload": payload,
    }
    producer.publish(
        json.dumps(envelope),
        routing_key=event_type,
        content_type="application/json",
        content_encoding="utf-8",
        delivery_mode=2,
        message_id=message_id,
    )


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_worker_delivers_every_email_once_after_an_smtp_outage(sink, quote_pdfs):
    broker, prefix = broker_url(), bus_prefix()
    topology = Topology(broker, prefix)
    stop = threading.Event()
    with postgres_database("notifications") as url:
        config = NotificationsConfig.from_env(
            SERVICE,
            database_url=url,
            broker_url=broker,
            bus_prefix=prefix,
            smtp_url=sink.url,
            send_interval=0.1,
            send_retry_base=0.2,
            send_retry_cap=0.5,
            send_max_attempts=100,
        )
        service = bootstrap(config, quote_pdfs=quote_pdfs)
        service.migrate()
        worker = threading.Thread(
            target=service.run_worker, kwargs=dict(stop=stop, relay=False), daemon=True
        )
        try:
            with connect(broker) as conn:
                topology.declare(conn)
                producer = Producer(conn.channel(), exchange=topology.events)
                placed = str(uuid.uuid4())
                # The order twice under one message id (a redelivery), and a quote.
                for message_id in (placed, placed):
                    publish(
                        producer,
                        "orders.order.placed",
                        portal_contracts.example("orders.order.placed"),
                        message_id,
                    )
                publish(
                    producer,
                    "quotes.quote.issued",
                    portal_contracts.example("quotes.quote.issued"),
                    str(uuid.uuid4()),
                )
            worker.start()

            def failed_tries() -> bool:
                with service.engine.connect() as db:
                    rows = db.exec_driver_sql("SELECT attempts FROM outgoing_mail").all()
                return len(rows) == 3 and all(attempts >= 2 for (attempts,) in rows)

            assert wait_for(failed_tries, 20), "the sender keeps trying while SMTP is down"
            assert sink.mails() == []

            sink.start()
            assert wait_for(lambda: len(sink.mails()) == 3, 20)
            time.sleep(1.0)  # several more sender runs: nothing is sent twice
            received = sink.mails()
            assert len(received) == 3
            assert len({m["Message-ID"] for m in received}) == 3
            subjects = sorted(m["Subject"].split(" ")[0] for m in received)
            assert subjects == ["Activate", "Order", "Quote"]
        finally:
            stop.set()
            worker.join(timeout=15)
            with connect(broker) as conn:
                topology.delete(conn)
            service.engine.dispose()
