"""Prometheus metrics: a web process's /metrics by route template, a worker's figures moving with
deliveries, the backlogs sampled when scraped, and gunicorn's workers added up."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

import portal_contracts
from portal_runtime import metrics
from portal_runtime.config import Config
from portal_runtime.service import Service
from portal_runtime.web import create_app

sys.path.insert(0, str(Path(__file__).parent))
import sample_service


def samples(text: str) -> dict[tuple, float]:
    """``{(name, frozenset(labels)): value}`` of an exposition."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(text: str, name: str, **labels) -> float:
    return samples(text).get((name, frozenset(labels.items())), 0.0)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def client(tmp_path):
    config = Config.from_env("catalog", database_url=f"sqlite:///{tmp_path / 'web.db'}")
    app = create_app(Service(config, "sample", sample_service.MESSAGING, handlers={}))

    @app.get("/things/<thing_id>")
    def thing(thing_id):
        return {"id": thing_id}

    return app.test_client()


def test_a_web_process_counts_requests_by_route_template_and_status_without_ids(client):
    before = client.get("/metrics").get_data(as_text=True)
    for thing_id in ("T-4711", "T-4712", "T-4713"):
        assert client.get(f"/things/{thing_id}").status_code == 200
    assert client.get("/no/such/T-4714").status_code == 404
    resp = client.get("/metrics")
    assert resp.status_code == 200 and resp.mimetype == "text/plain"
    text = resp.get_data(as_text=True)
    route = dict(service="catalog", route="/things/<thing_id>", method="GET", status="200")
    assert value(text, "portal_http_requests_total", **route) == (
        value(before, "portal_http_requests_total", **route) + 3
    )
    assert value(text, "portal_http_request_duration_seconds_count", **route) >= 3
    unmatched = dict(service="catalog", route="<unmatched>", method="GET", status="404")
    assert value(text, "portal_http_requests_total", **unmatched) >= 1
    # No raw path, and so no id, ever becomes a label value.
    assert "T-47" not in text


def test_a_worker_counts_deliveries_by_type_and_outcome_and_samples_its_outbox(tmp_path):
    url = f"filesystem://{tmp_path / 'bus'}"
    producer = sample_service.build("catalog", f"sqlite:///{tmp_path / 'p.db'}", url, "")
    consumer = sample_service.build("billing", f"sqlite:///{tmp_path / 'c.db'}", url, "")
    port = free_port()
    os.environ["CATALOG_METRICS_PORT"] = str(port)
    server = metrics.serve_worker_metrics(producer)
    try:

        def scrape() -> str:
            return requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text

        idle = scrape()
        assert value(idle, "portal_outbox_waiting", service="catalog") == 0
        assert value(idle, "portal_backlog_up", service="catalog") == 1
        with producer.uow() as uow:
            for number in ("O-1", "FAIL-1"):
                payload = dict(portal_contracts.example("orders.order.placed"), order_number=number)
                uow.record("orders.order.placed", payload)
            uow.commit()
        time.sleep(0.05)
        waiting = scrape()
        assert value(waiting, "portal_outbox_waiting", service="catalog") == 2
        assert value(waiting, "portal_outbox_oldest_age_seconds", service="catalog") > 0
        recorded = dict(service="catalog", event_type="orders.order.placed")
        assert (
            value(waiting, "portal_events_recorded_total", **recorded)
            - value(idle, "portal_events_recorded_total", **recorded)
            == 2
        )

        assert producer.relay().run_once() == 2
        published = scrape()
        assert value(published, "portal_outbox_waiting", service="catalog") == 0
        assert value(published, "portal_outbox_oldest_age_seconds", service="catalog") == 0
        assert (
            value(published, "portal_relay_publish_seconds_count", service="catalog")
            - value(waiting, "portal_relay_publish_seconds_count", service="catalog")
            == 2
        )

        stop = threading.Event()
        thread = threading.Thread(target=consumer.consumer().run, args=(stop,), daemon=True)
        thread.start()
        typed = dict(service="billing", event_type="orders.order.placed")
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                text = scrape()
                if (
                    value(text, "portal_deliveries_total", **typed, outcome="handled")
                    - value(published, "portal_deliveries_total", **typed, outcome="handled")
                    >= 1
                    and value(text, "portal_delivery_retries_total", **typed)
                    - value(published, "portal_delivery_retries_total", **typed)
                    >= 2
                ):
                    break
                time.sleep(0.1)
        finally:
            stop.set()
            thread.join(timeout=10)
        # The worker's port shows the whole process: the consumer's figures beside the relay's.
        final = scrape()

        def moved(name, **labels):
            return value(final, name, **labels) - value(published, name, **labels)

        assert moved("portal_deliveries_total", **typed, outcome="handled") == 1
        assert moved("portal_deliveries_total", **typed, outcome="failed") >= 2
        assert moved("portal_delivery_retries_total", **typed) >= 2
        assert moved("portal_handler_duration_seconds_count", **typed) >= 3
        assert moved("portal_delivery_lag_seconds_count", **typed) == 1
    finally:
        os.environ.pop("CATALOG_METRICS_PORT", None)
        if server is not None:
            server.shutdown()
        producer.engine.dispose()
        consumer.engine.dispose()


def test_a_poison_message_and_a_dead_letter_are_counted_under_a_known_type_only(tmp_path):
    url = f"filesystem://{tmp_path / 'bus'}"
    producer = sample_service.build("catalog", f"sqlite:///{tmp_path / 'p.db'}", url, "")
    consumer = sample_service.build("billing", f"sqlite:///{tmp_path / 'c.db'}", url, "")
    registry = metrics.worker_registry(consumer)
    from prometheus_client import generate_latest

    before = generate_latest(registry).decode()
    with producer.uow() as uow:
        payload = dict(portal_contracts.example("orders.order.placed"), order_number="NEVER-9")
        uow.record("orders.order.placed", payload)
        uow.commit()
    producer.relay().run_once()
    from kombu import Producer

    from portal_runtime.topology import Topology, connect

    with connect(url) as conn:
        Topology(url).send_to_queue(
            Producer(conn.default_channel),
            "billing",
            b"not json",
            content_type="application/json",
            headers={"type": "made.up.type"},
        )
    stop = threading.Event()
    thread = threading.Thread(target=consumer.consumer().run, args=(stop,), daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            text = generate_latest(registry).decode()
            if (
                value(text, "portal_dead_letters_total", service="billing", event_type="unknown")
                - value(
                    before, "portal_dead_letters_total", service="billing", event_type="unknown"
                )
                >= 1
                and value(
                    text,
                    "portal_dead_letters_total",
                    service="billing",
                    event_type="orders.order.placed",
                )
                - value(
                    before,
                    "portal_dead_letters_total",
                    service="billing",
                    event_type="orders.order.placed",
                )
                >= 1
            ):
                break
            time.sleep(0.1)
    finally:
        stop.set()
        thread.join(timeout=10)
    text = generate_latest(registry).decode()
    poison = dict(service="billing", event_type="unknown", outcome="poison")
    assert (
        value(text, "portal_deliveries_total", **poison)
        - value(before, "portal_deliveries_total", **poison)
        == 1
    )
    assert (
        value(
            text, "portal_dead_letters_total", service="billing", event_type="orders.order.placed"
        )
        - value(
            before, "portal_dead_letters_total", service="billing", event_type="orders.order.placed"
        )
        == 1
    )
    assert "made.up.type" not in text
    producer.engine.dispose()
    consumer.engine.dispose()


def test_a_web_process_with_several_gunicorn_workers_answers_for_all_of_them(tmp_path):
    port = free_port()
    metrics_dir = tmp_path / "prom"
    metrics_dir.mkdir()
    (metrics_dir / "counter_12345.db").write_bytes(b"left over from an earlier run")
    env = dict(
        os.environ,
        PORTAL_VAR_DIR=str(tmp_path),
        CATALOG_PORT=str(port),
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
        WEB_THREADS="2",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "catalog", "web", "--workers", "3"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
            try:
                if requests.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, "catalog web did not start"
            time.sleep(0.2)

        # Separate connections, so gunicorn hands them to different workers (on a busy machine
        # one worker may take many in a row: keep asking, for a while, until two have answered).
        def workers() -> set[str]:
            return {p.name.rsplit("_", 1)[-1] for p in metrics_dir.glob("counter_*.db")} - {"12345"}

        sent, deadline = 1, time.monotonic() + 30
        while sent < 31 or (len(workers()) < 2 and time.monotonic() < deadline):
            requests.get(base + "/healthz", timeout=5, headers={"Connection": "close"})
            sent += 1
        text = requests.get(base + "/metrics", timeout=5).text
        health = dict(service="catalog", route="/healthz", method="GET", status="200")
        assert value(text, "portal_http_requests_total", **health) >= sent
        workers = {p.name.rsplit("_", 1)[-1] for p in metrics_dir.glob("counter_*.db")}
        assert len(workers) >= 2, workers  # more than one worker counted, all added up
        assert "12345" not in workers  # the old run's figures were cleared at start
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=15)
