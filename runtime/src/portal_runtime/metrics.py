"""Prometheus metrics of every process: web requests, deliveries, the relay and the backlogs.

Web processes (each service, the gateway, the portal) answer ``GET /metrics`` beside
``/healthz``, outside ``/api/v1`` and ``/portal``: the gateway never forwards it, and each process
speaks only for itself. Requests are counted and timed by the Flask route *template*
(``/orders/<number>``, never a raw path with an id in it), method and status; a path that matches
no route is ``route="<unmatched>"``. gunicorn runs several workers per web process, so
``portal_runtime.cli`` gives each web process group its own ``PROMETHEUS_MULTIPROC_DIR``
(emptied at start) and ``/metrics`` adds up every worker's figures (the client's multiprocess
mode). Counting a request is a counter increment in memory: no database on the hot path.

A worker (``python -m <service> worker``: consumer, relay, jobs) is one process and serves its
figures on its own port, ``<SERVICE>_METRICS_PORT`` (default: the service's web port + 10, e.g.
orders 8093; ``0`` turns it off). Deliveries by event type and outcome, handler time, retries,
dead letters and the relay's publish time are counted as they happen; the backlogs (outbox rows
waiting and the age of the oldest, and a service's own ones such as notifications' mails pending
and failed) are sampled with one cheap query each when Prometheus scrapes, never in between.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily

from portal_runtime import logs
from portal_runtime.config import SERVICE_PORTS, env_name

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
# A worker's metrics port is its service's web port plus this (a system on a port offset keeps
# its block of ports: the launcher's offsets step by 100).
WORKER_PORT_STEP = 10
UNMATCHED = "<unmatched>"

# Seconds: from a fast read to a slow checkout; lags reach minutes while a backlog drains.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
LAG_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 1800.0)

HTTP_REQUESTS = Counter(
    "portal_http_requests",
    "HTTP requests answered, by route template, method and status.",
    ["service", "route", "method", "status"],
)
HTTP_DURATION = Histogram(
    "portal_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template, method and status.",
    ["service", "route", "method", "status"],
    buckets=LATENCY_BUCKETS,
)
EVENTS_RECORDED = Counter(
    "portal_events_recorded",
    "Events committed to the outbox (orders.order.placed: orders placed), by type.",
    ["service", "event_type"],
)
DELIVERIES = Counter(
    "portal_deliveries",
    "Deliveries the consumer took, by event type and outcome "
    "(handled, duplicate, failed: the handler raised; poison: undecodable).",
    ["service", "event_type", "outcome"],
)
HANDLER_DURATION = Histogram(
    "portal_handler_duration_seconds",
    "Time to run a delivery's handlers and commit them with the inbox row, by event type.",
    ["service", "event_type"],
    buckets=LATENCY_BUCKETS,
)
DELIVERY_LAG = Histogram(
    "portal_delivery_lag_seconds",
    "From an event's occurred_at (its commit at the producer) to its handling here: "
    "the pipeline's latency per hop.",
    ["service", "event_type"],
    buckets=LAG_BUCKETS,
)
RETRIES = Counter(
    "portal_delivery_retries",
    "Failed deliveries sent round again after a delay, by event type.",
    ["service", "event_type"],
)
DEAD_LETTERS = Counter(
    "portal_dead_letters",
    "Messages moved to the service's dead-letter queue, by event type.",
    ["service", "event_type"],
)
RELAY_PUBLISH = Histogram(
    "portal_relay_publish_seconds",
    "Time to publish one outbox row to the broker and have it confirmed.",
    ["service"],
    buckets=LATENCY_BUCKETS,
)
RELAY_LAG = Histogram(
    "portal_relay_lag_seconds",
    "From an event's commit to the outbox to its publish, by event type.",
    ["service", "event_type"],
    buckets=LAG_BUCKETS,
)
RELAY_FAILURES = Counter(
    "portal_relay_publish_failures",
    "Publishes that failed (the row stays in the outbox and is tried again).",
    ["service"],
)


def event_type_label(event_type: str | None, known) -> str:
    """A label for a message's type: only a type the service knows, so that whatever a broken
    message claims to be cannot make up new label values."""
    return event_type if event_type in known else "unknown"


# -- web processes -----------------------------------------------------------------------------


def instrument_app(app, service: str) -> None:
    """Count and time every request of ``app`` and serve ``GET /metrics``."""
    from flask import g, request

    def _started():
        g.metrics_started = time.perf_counter()

    # First of all before_request hooks: one that answers early (a 401, a 414) is timed too.
    app.before_request_funcs.setdefault(None, []).insert(0, _started)

    @app.after_request
    def _answered(resp):
        started = g.pop("metrics_started", None)
        if started is not None:
            rule = request.url_rule.rule if request.url_rule is not None else UNMATCHED
            labels = (service, rule, request.method, str(resp.status_code))
            HTTP_REQUESTS.labels(*labels).inc()
            HTTP_DURATION.labels(*labels).observe(time.perf_counter() - started)
        return resp

    @app.get("/metrics")
    def _metrics():
        return exposition(), 200, {"Content-Type": CONTENT_TYPE_LATEST, "Cache-Control": "no-store"}


def exposition() -> bytes:
    """This process group's figures: every gunicorn worker's added up in multiprocess mode."""
    if os.environ.get(MULTIPROC_DIR):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


def multiprocess_dir(name: str, port: int) -> Path:
    """The folder the gunicorn workers of one web process share, emptied for a fresh start.

    ``PROMETHEUS_MULTIPROC_DIR`` when the environment gives one (a pod's emptyDir), else a
    folder of its own under the temp folder, named by process and port."""
    given = os.environ.get(MULTIPROC_DIR)
    path = (
        Path(given) if given else Path(tempfile.gettempdir()) / "portal-metrics" / f"{name}-{port}"
    )
    if path.exists():
        # Figures of a previous run would otherwise be added to this one's.
        for child in path.iterdir():
            if child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)
    path.mkdir(parents=True, exist_ok=True)
    return path


# -- workers -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Backlog:
    """A gauge sampled when Prometheus scrapes: ``sample(service)`` runs one cheap query."""

    name: str
    documentation: str
    sample: Callable[[object], float]


def worker_port(service: str) -> int | None:
    """``<SERVICE>_METRICS_PORT``; by default the web port + 10; None when set to 0."""
    value = os.environ.get(f"{env_name(service)}_METRICS_PORT")
    if value is None:
        return SERVICE_PORTS[service] + WORKER_PORT_STEP
    return int(value) or None


class BacklogCollector:
    """The outbox's waiting rows and the age of the oldest, and the service's own backlogs."""

    def __init__(self, service):
        self.service = service

    def describe(self):
        return []  # nothing to check at registration: the query runs only when scraped

    def collect(self):
        name = self.service.config.service
        waiting = GaugeMetricFamily(
            "portal_outbox_waiting", "Outbox rows not yet published.", labels=["service"]
        )
        oldest = GaugeMetricFamily(
            "portal_outbox_oldest_age_seconds",
            "Age of the oldest outbox row not yet published (0 when none waits).",
            labels=["service"],
        )
        up = GaugeMetricFamily(
            "portal_backlog_up",
            "1 when the backlogs could be read from the database at this scrape.",
            labels=["service"],
        )
        extra = []
        try:
            count, age = outbox_backlog(self.service)
            waiting.add_metric([name], count)
            oldest.add_metric([name], age)
            for backlog in self.service.backlogs:
                family = GaugeMetricFamily(backlog.name, backlog.documentation, labels=["service"])
                family.add_metric([name], float(backlog.sample(self.service)))
                extra.append(family)
            up.add_metric([name], 1)
        except Exception as exc:  # noqa: BLE001 - a scrape reports, it does not fail the worker
            logs.get("metrics").warning("metrics.backlog_failed", error=f"{type(exc).__name__}")
            up.add_metric([name], 0)
            return [up]
        return [waiting, oldest, *extra, up]


def outbox_backlog(service) -> tuple[int, float]:
    """How many outbox rows wait, and how old the oldest is in seconds: one indexed query."""
    from sqlalchemy import func, select

    from portal_runtime.db import utcnow

    Outbox = service.models.Outbox
    with service.sessions() as session:
        count, first = session.execute(
            select(func.count(), func.min(Outbox.occurred_at)).where(Outbox.published_at.is_(None))
        ).one()
    if first is None:
        return int(count), 0.0
    return int(count), max(0.0, (utcnow() - first).total_seconds())


def worker_registry(service) -> CollectorRegistry:
    """What a worker's /metrics shows: this process's counters and the service's backlogs."""
    registry = CollectorRegistry()
    registry.register(REGISTRY)
    registry.register(BacklogCollector(service))
    return registry


def serve_worker_metrics(service):
    """Serve the worker's figures on its port from a daemon thread; the HTTP server, or None
    when off or the port is taken (a second worker of one service on one machine runs on,
    unmeasured, and says so in its log)."""
    from prometheus_client import start_http_server

    port = worker_port(service.config.service)
    if port is None:
        return None
    host = os.environ.get("WEB_BIND_HOST", "127.0.0.1")
    try:
        server, _thread = start_http_server(port, addr=host, registry=worker_registry(service))
    except OSError as exc:
        logs.get("metrics").warning("metrics.port_unavailable", port=port, error=str(exc))
        return None
    logs.get("metrics").info("metrics.serving", port=port)
    return server
