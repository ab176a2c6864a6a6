"""Traces: OpenTelemetry, with the W3C ``traceparent`` carried across HTTP and every message.

On only when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (spans go there over OTLP/HTTP, batched);
otherwise nothing of OpenTelemetry is imported or instrumented, and every function here is a
check of one attribute. When on:

- each web process traces its requests (the Flask instrumentation, spans named by route
  template) and its outgoing calls (the requests instrumentation puts ``traceparent`` on them):
  portal -> gateway -> service, and a service's reads of another;
- ``UnitOfWork.record`` keeps the current ``traceparent`` on the outbox row it writes, the relay
  publishes the row in a ``<type> publish`` span and puts that span's ``traceparent`` in the
  message's headers, and the consumer handles the delivery in a ``<type> process`` span that
  continues it. A checkout is one trace through orders, billing, licensing and the e-mails.

A process with tracing off still passes a received ``traceparent`` on to the events it records
(and the relay puts a row's on its message), so one service left untraced does not cut the trace
of the others. The correlation id stays in the logs and on every event, as before.
"""

from __future__ import annotations

import contextlib
import os
import threading

ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT"
HEADER = "traceparent"
# Probes and scrapes would drown the traces of real work.
EXCLUDED_URLS = "healthz,readyz,metrics"

_providers: dict = {}  # service -> TracerProvider (one per process outside tests)
_lock = threading.Lock()
_exporter = None  # a test's exporter, shared by every service's provider


def enabled() -> bool:
    return bool(_providers)


def configure(service: str, exporter=None):
    """Turn tracing on for ``service`` in this process when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set
    (or a test gives an ``exporter``: spans go to it at once); its TracerProvider, or None."""
    global _exporter
    if service in _providers:
        return _providers[service]
    if exporter is None and _exporter is None and not os.environ.get(ENDPOINT):
        return None
    with _lock:
        if service in _providers:
            return _providers[service]
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

        _exporter = exporter or _exporter
        if _exporter is not None:
            processor = SimpleSpanProcessor(_exporter)
        else:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            # The endpoint, headers and timeout come from the standard OTEL_EXPORTER_OTLP_* vars.
            processor = BatchSpanProcessor(OTLPSpanExporter())
        provider = TracerProvider(resource=Resource.create({"service.name": service}))
        provider.add_span_processor(processor)
        if not _providers:
            from opentelemetry.instrumentation.requests import RequestsInstrumentor

            RequestsInstrumentor().instrument(tracer_provider=provider)
        _providers[service] = provider
        return provider


def reset() -> None:
    """Tracing off again (tests): providers shut down, requests no longer instrumented."""
    global _exporter
    with _lock:
        if not _providers:
            return
        from opentelemetry.instrumentation.requests import RequestsInstrumentor

        RequestsInstrumentor().uninstrument()
        for provider in _providers.values():
            provider.shutdown()
        _providers.clear()
        _exporter = None


def instrument_app(app, service: str) -> None:
    """Trace ``app``'s requests as ``service``, continuing a caller's ``traceparent``."""
    provider = configure(service)
    if provider is None:
        return
    from opentelemetry.instrumentation.flask import FlaskInstrumentor

    FlaskInstrumentor().instrument_app(app, tracer_provider=provider, excluded_urls=EXCLUDED_URLS)


def current_traceparent() -> str | None:
    """The ``traceparent`` of the span in progress (None when off or outside any span)."""
    if not _providers:
        return None
    from opentelemetry import propagate

    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get(HEADER)


def _span(service: str, name: str, traceparent: str | None, kind: str, attributes: dict):
    from opentelemetry import propagate, trace

    parent = propagate.extract({HEADER: traceparent}) if traceparent else None
    tracer = configure(service).get_tracer("portal_runtime")
    return tracer.start_as_current_span(
        name, context=parent, kind=getattr(trace.SpanKind, kind), attributes=attributes
    )


@contextlib.contextmanager
def publishing(service: str, row):
    """The relay publishing an outbox row; yields the ``traceparent`` to put on the message."""
    if not _providers:
        yield row.traceparent
        return
    attributes = {
        "messaging.system": "rabbitmq",
        "messaging.operation.type": "send",
        "messaging.destination.name": row.type,
        "messaging.message.id": row.message_id,
        "messaging.message.conversation_id": row.correlation_id,
    }
    with _span(service, f"{row.type} publish", row.traceparent, "PRODUCER", attributes):
        yield current_traceparent()


def consuming(service: str, event):
    """A span for handling one delivery, continuing the trace its message carries."""
    if not _providers:
        return contextlib.nullcontext()
    attributes = {
        "messaging.system": "rabbitmq",
        "messaging.operation.type": "process",
        "messaging.destination.name": event.type,
        "messaging.consumer.group.name": service,
        "messaging.message.id": event.message_id,
        "messaging.message.conversation_id": event.correlation_id,
    }
    return _span(service, f"{event.type} process", event.traceparent, "CONSUMER", attributes)
