"""Operating it: every process answers /metrics with its figures moving as an order goes through,
and with an OTLP endpoint set one checkout is one trace across every service it touches.

The system runs on the embedded default (SQLite, the filesystem bus) with
``OTEL_EXPORTER_OTLP_ENDPOINT`` pointing at a tiny OTLP/HTTP receiver in this test process, which
decodes what the processes export with ``opentelemetry-proto``.
"""

from __future__ import annotations

import secrets
import threading
import uuid
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from prometheus_client.parser import text_string_to_metric_families

from portal_contracts import demo
from portal_system.client import wait_for
from portal_system.launcher import System, clean_environment, free_port_offset, running
from portal_system.testing import login, mails_to

ADDRESS = {
    "name": "Demo Reseller Inc.",
    "line1": "1 Main St",
    "city": "Springfield",
    "country": "US",
}


class Receiver:
    """Collects exported spans: ``spans[trace_id] = [(service.name, span name), ...]``."""

    def __init__(self):
        self.spans: dict[str, list[tuple[str, str]]] = defaultdict(list)
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                request = ExportTraceServiceRequest()
                request.ParseFromString(body)
                with receiver.lock:
                    for resource_spans in request.resource_spans:
                        service = next(
                            a.value.string_value
                            for a in resource_spans.resource.attributes
                            if a.key == "service.name"
                        )
                        for scope in resource_spans.scope_spans:
                            for span in scope.spans:
                                receiver.spans[span.trace_id.hex()].append((service, span.name))
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def services_in(self, trace_id: str) -> set[str]:
        with self.lock:
            return {service for service, _ in self.spans.get(trace_id, [])}


@pytest.fixture(scope="module")
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.server.shutdown()


@pytest.fixture(scope="module")
def traced_system(tmp_path_factory, receiver):
    env = clean_environment()
    env.update(
        OTEL_EXPORTER_OTLP_ENDPOINT=receiver.url,
        # Export within a fraction of a second instead of the default 5 s.
        OTEL_BSP_SCHEDULE_DELAY="200",
    )
    system = System(env, tmp_path_factory.mktemp("portal-traced"), free_port_offset(3000))
    with running(system):
        yield system


def figures(url: str) -> dict[tuple, float]:
    resp = requests.get(url, timeout=5)
    assert resp.status_code == 200, (url, resp.status_code)
    found = {}
    for family in text_string_to_metric_families(resp.text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def figure(found: dict, name: str, **labels) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def checkout(client, traceparent: str) -> dict:
    tag = uuid.uuid4().hex[:8]
    resp = client.post(
        f"/customers/{demo.ACME_ID}/cart/items",
        json={"kind": "new", "product": "PC", "quantity": 1, "term_years": 1},
    )
    assert resp.status_code in (200, 201), resp.text
    resp = client.post(
        f"/customers/{demo.ACME_ID}/cart/checkout",
        json={
            "billing_address": ADDRESS,
            "payment_method_id": demo.DEMO_CARD_METHOD_ID,
            "end_user": {"first_name": "Ada", "last_name": tag, "email": f"ada.{tag}@acme.example"},
            "send_activation_email": True,
        },
        headers={"Idempotency-Key": f"trace-{tag}", "traceparent": traceparent},
    )
    assert resp.status_code == 201, resp.text
    return resp.json()


# Its own system (traced) is started for this test: more than the default 300 s on a busy machine.
@pytest.mark.timeout(900)
def test_one_checkout_is_one_trace_through_every_service_and_every_process_has_metrics(
    traced_system, receiver
):
    system = traced_system
    urls = system.metrics_urls()
    before = {name: figures(url) for name, url in urls.items()}
    client = login(system, demo.DEMO_RESELLER_USER)
    client.enter_customer(demo.ACME_ID, demo.ACME_CONTACT)
    trace_id = secrets.token_hex(16)
    order = checkout(client, f"00-{trace_id}-{secrets.token_hex(8)}-01")
    wait_for(lambda: mails_to(system, order["end_user"]["email"]), what="activation e-mail")

    expected = {"gateway", "cart-quote", "orders", "billing", "license-assign", "notifications"}
    wait_for(
        lambda: expected <= receiver.services_in(trace_id),
        timeout=60,
        what=f"spans of {sorted(expected)} in the checkout's trace",
    )
    names = {name for _, name in receiver.spans[trace_id]}
    assert any(n.startswith("POST ") and n.endswith("/<customer_id>/cart/checkout") for n in names)
    assert "orders.order.placed process" in names and "orders.order.placed publish" in names

    # Every process answers /metrics, and the figures moved with the order.
    after = {name: figures(url) for name, url in urls.items()}

    def moved(process: str, name: str, **labels) -> float:
        return figure(after[process], name, **labels) - figure(before[process], name, **labels)

    checkout_route = dict(
        service="orders",
        route="/customers/<customer_id>/cart/checkout",
        method="POST",
        status="201",
    )
    assert moved("orders-web", "portal_http_requests_total", **checkout_route) == 1
    placed = dict(event_type="orders.order.placed")
    assert moved("orders-web", "portal_events_recorded_total", service="orders", **placed) == 1
    assert moved("orders-worker", "portal_relay_lag_seconds_count", service="orders", **placed) == 1
    for consumer in ("billing", "license-assign", "notifications"):
        handled = dict(service=consumer, outcome="handled", **placed)
        assert moved(f"{consumer}-worker", "portal_deliveries_total", **handled) == 1, consumer
    for process, found in after.items():
        if process.endswith("-worker"):
            service = process.removesuffix("-worker")
            assert figure(found, "portal_backlog_up", service=service) == 1, process
            assert ("portal_outbox_waiting", frozenset({("service", service)})) in found
    assert ("portal_mails_pending", frozenset({("service", "notifications")})) in after[
        "notifications-worker"
    ]
    # /metrics is each process's own: the gateway's public API does not forward it.
    assert requests.get(system.gateway_url + "/metrics", timeout=5).status_code == 404
