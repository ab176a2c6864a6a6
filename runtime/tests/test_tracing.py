"""Traces: a request's trace continues into the outbox row, onto the message and through the
consumer into the events it records; with no OTLP endpoint nothing of OpenTelemetry loads."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import select

import portal_contracts
from portal_runtime import tracing
from portal_runtime.config import Config
from portal_runtime.service import Service
from portal_runtime.testing import event
from portal_runtime.topology import Topology, connect
from portal_runtime.web import create_app, unit_of_work

sys.path.insert(0, str(Path(__file__).parent))
import sample_service

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


def trace_of(traceparent: str | None) -> str | None:
    return traceparent.split("-")[1] if traceparent else None


def invoice_it(evt, uow) -> None:
    """A consumer that records an event of its own, as billing does for an order."""
    uow.record("billing.invoice.issued", portal_contracts.example("billing.invoice.issued"))


def consumer_service(tmp_path, url) -> Service:
    config = Config.from_env(
        "billing", database_url=f"sqlite:///{tmp_path / 'c.db'}", broker_url=url
    )
    handlers = {"orders.order.placed": [invoice_it], "orders.order.cancelled": [lambda e, u: None]}
    service = Service(config, "sample", sample_service.MESSAGING, handlers=handlers)
    sample_service.Base.metadata.create_all(service.engine)
    return service


def outbox(service) -> list:
    Outbox = service.models.Outbox
    with service.sessions() as session:
        return list(session.scalars(select(Outbox).order_by(Outbox.id)))


@pytest.fixture
def spans():
    exporter = InMemorySpanExporter()
    tracing.configure("catalog", exporter=exporter)
    yield exporter
    tracing.reset()


def test_one_trace_runs_from_a_request_through_the_outbox_the_message_and_the_consumer(
    tmp_path, spans
):
    url = f"filesystem://{tmp_path / 'bus'}"
    producer = sample_service.build("catalog", f"sqlite:///{tmp_path / 'p.db'}", url, "")
    consumer = consumer_service(tmp_path, url)
    app = create_app(producer)

    @app.post("/orders/<number>")
    def place(number):
        with unit_of_work() as uow:
            payload = dict(portal_contracts.example("orders.order.placed"), order_number=number)
            uow.record("orders.order.placed", payload)
            uow.commit()
        return {"ok": True}, 201

    assert app.test_client().post("/orders/O-7", headers={"traceparent": CALLER}).status_code == 201
    (server,) = [s for s in spans.get_finished_spans() if s.kind.name == "SERVER"]
    assert server.name == "POST /orders/<number>"  # the route template, not the raw path
    assert format(server.context.trace_id, "032x") == TRACE_ID
    (row,) = outbox(producer)
    assert trace_of(row.traceparent) == TRACE_ID

    assert producer.relay().run_once() == 1
    publish = next(s for s in spans.get_finished_spans() if s.name.endswith(" publish"))
    assert publish.parent.span_id == server.context.span_id
    with connect(url) as conn:
        message = Topology(url).queue("billing")(conn.default_channel).get()
        assert message is not None
        assert message.headers["traceparent"].split("-")[1:3] == [
            TRACE_ID,
            format(publish.context.span_id, "016x"),
        ]
        message.requeue()

    stop = threading.Event()
    thread = threading.Thread(target=consumer.consumer().run, args=(stop,), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not outbox(consumer) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=10)
    process = next(s for s in spans.get_finished_spans() if s.name == "orders.order.placed process")
    assert process.parent.span_id == publish.context.span_id
    assert process.resource.attributes["service.name"] == "billing"
    (invoiced,) = outbox(consumer)
    assert invoiced.traceparent.split("-")[1:3] == [
        TRACE_ID,
        format(process.context.span_id, "016x"),
    ]


def test_with_tracing_off_a_consumer_still_passes_the_trace_it_received_on(tmp_path):
    assert not tracing.enabled()
    consumer = consumer_service(tmp_path, "memory://")
    received = event("orders.order.placed", portal_contracts.example("orders.order.placed"))
    import dataclasses

    assert consumer.consumer().handle(dataclasses.replace(received, traceparent=CALLER))
    (row,) = outbox(consumer)
    assert row.traceparent == CALLER


def test_without_an_otlp_endpoint_opentelemetry_is_never_imported(tmp_path):
    script = f"""
import os, sys
os.environ.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
sys.path.insert(0, {str(Path(__file__).parent)!r})
import portal_contracts, sample_service
from portal_runtime.web import create_app, unit_of_work
service = sample_service.build("catalog", "sqlite:///{tmp_path / "off.db"}", "memory://", "")
app = create_app(service)

@app.post("/place")
def place():
    with unit_of_work() as uow:
        uow.record("orders.order.placed", portal_contracts.example("orders.order.placed"))
        uow.commit()
    return {{}}

assert app.test_client().post("/place", headers={{"traceparent": {CALLER!r}}}).status_code == 200
assert service.relay().run_once() == 1
loaded = sorted(m for m in sys.modules if m.startswith("opentelemetry"))
assert not loaded, loaded
print("clean")
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "clean" in done.stdout
