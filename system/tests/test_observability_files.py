"""The Prometheus scrape config, the Grafana dashboard and compose name only what the code has."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from portal_runtime import metrics
from portal_runtime.config import SERVICE_PORTS
from portal_system import dashboard
from portal_system.launcher import PORTAL, SERVICES

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
PROMETHEUS = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
NOTIFICATIONS_BOOTSTRAP = (
    ROOT / "services/notifications/src/notifications/bootstrap.py"
).read_text()


def targets() -> dict[str, list[str]]:
    return {
        job["job_name"]: [t for c in job["static_configs"] for t in c["targets"]]
        for job in PROMETHEUS["scrape_configs"]
    }


def test_the_grafana_dashboard_is_the_one_the_panels_define():
    committed = json.loads((ROOT / "deploy/grafana/portal.json").read_text())
    assert committed == dashboard.grafana(), "run python -m portal_system.dashboard --write-grafana"


def test_every_metric_on_the_dashboard_is_one_a_process_exports():
    exported = {m._name for m in vars(metrics).values() if hasattr(m, "_name")}
    exported = {n + "_total" for n in exported} | exported
    exported |= set(
        re.findall(
            r'"(portal_[a-z_]+)"', (ROOT / "runtime/src/portal_runtime/metrics.py").read_text()
        )
    )
    exported |= set(re.findall(r'"(portal_[a-z_]+)"', NOTIFICATIONS_BOOTSTRAP))
    for panel in dashboard.PANELS:
        for metric in panel.metrics:
            assert metric in exported or metric == "rabbitmq_queue_messages_ready", metric
    shown = " ".join(p.metric for p in dashboard.PANELS)
    for backlog in ("portal_outbox_waiting", "portal_outbox_oldest_age_seconds"):
        assert backlog in shown
    assert "portal_mails_pending" in shown and "portal_mails_failed" in shown
    assert {"event_type": "orders\\.order\\.placed"} in [p.where for p in dashboard.PANELS]


def test_prometheus_scrapes_every_web_process_and_worker_at_its_port_in_compose():
    jobs = targets()
    webs = set(jobs["portal-web"])
    workers = set(jobs["portal-worker"])
    for spec in SERVICES:
        host = "gateway" if spec.name == "gateway" else f"{spec.name}-web"
        assert f"{host}:{SERVICE_PORTS[spec.name]}" in webs
        if spec.worker:
            port = SERVICE_PORTS[spec.name] + metrics.WORKER_PORT_STEP
            assert f"{spec.name}-worker:{port}" in workers
    assert f"{PORTAL}-web:{SERVICE_PORTS[PORTAL]}" in webs
    for target in webs | workers | set(jobs["rabbitmq"]):
        assert target.split(":")[0] in COMPOSE["services"], target


def test_compose_enables_rabbitmqs_prometheus_plugin_and_runs_prometheus_and_grafana():
    rabbit = COMPOSE["services"]["rabbitmq"]
    mounted = {v.split(":")[0]: v.split(":")[1] for v in rabbit["volumes"]}
    assert mounted["./deploy/rabbitmq/enabled_plugins"] == "/etc/rabbitmq/enabled_plugins"
    assert "rabbitmq_prometheus" in (ROOT / "deploy/rabbitmq/enabled_plugins").read_text()
    assert targets()["rabbitmq"] == ["rabbitmq:15692"]
    assert "15692:15692" in rabbit["ports"]
    for name in ("prometheus", "grafana"):
        for volume in COMPOSE["services"][name]["volumes"]:
            assert (ROOT / volume.split(":")[0]).exists(), volume


def test_the_picture_computes_rates_and_quantiles_as_promql_would():
    rate = next(p for p in dashboard.PANELS if p.metric == "portal_events_recorded_total")
    earlier = [("portal_events_recorded_total", {"event_type": "orders.order.placed"}, 10.0)]
    later = [
        ("portal_events_recorded_total", {"event_type": "orders.order.placed"}, 40.0),
        ("portal_events_recorded_total", {"event_type": "billing.invoice.issued"}, 99.0),
    ]
    assert dashboard.evaluate(rate, earlier, later, 5.0) == {rate.title: 6.0}
    lag = next(p for p in dashboard.PANELS if p.metric == "portal_delivery_lag_seconds")

    def buckets(counts):
        labels = {"service": "billing", "event_type": "orders.order.placed"}
        return [
            ("portal_delivery_lag_seconds_bucket", dict(labels, le=le), count)
            for le, count in counts.items()
        ]

    before = buckets({"0.1": 0, "0.5": 0, "1.0": 0, "+Inf": 0})
    after = buckets({"0.1": 50, "0.5": 90, "1.0": 100, "+Inf": 100})
    (value,) = dashboard.evaluate(lag, before, after, 5.0).values()
    # The 95th of 100 lies halfway through the (0.5, 1.0] bucket.
    assert abs(value - 0.75) < 1e-9
