"""The operations dashboard, defined once: Grafana's JSON and a local picture of the same panels.

Each panel is a small spec (a rate of a counter, a quantile of a histogram, or a gauge, summed by
some labels). ``grafana()`` turns the specs into PromQL in a Grafana dashboard
(``deploy/grafana/portal.json``, which a test keeps in step with this file). ``python -m
portal_system.dashboard --png FILE`` scrapes a running system's processes (``make run`` or the
benchmark's) every few seconds while orders flow, computes the same quantities from the scraped
samples the way PromQL would (per-second rates between scrapes, quantiles interpolated in the
histogram's buckets) and plots them: there is no Prometheus or Grafana here to take a screenshot
of, and the picture says so in its title.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

DASHBOARD_FILE = Path(__file__).resolve().parents[3] / "deploy" / "grafana" / "portal.json"
WINDOW = "1m"


@dataclass(frozen=True)
class Panel:
    title: str
    kind: str  # "rate" | "quantile" | "gauge"
    metric: str
    by: tuple[str, ...] = ()
    where: dict[str, str] = field(default_factory=dict)  # label -> regular expression
    quantile: float = 0.95
    unit: str = "short"

    @property
    def metrics(self) -> list[str]:
        return self.metric.split("|")

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(label for label in self.by if label != "__name__")

    def promql(self, metric: str) -> str:
        matchers = ",".join(f'{k}=~"{v}"' for k, v in self.where.items())
        name = metric + ("_bucket" if self.kind == "quantile" else "")
        selector = f"{name}{{{matchers}}}" if matchers else name
        by = ", ".join(self.labels)
        if self.kind == "quantile":
            return (
                f"histogram_quantile({self.quantile}, "
                f"sum by ({', '.join(('le', *self.labels))}) (rate({selector}[{WINDOW}])))"
            )
        inner = f"rate({selector}[{WINDOW}])" if self.kind == "rate" else selector
        return f"sum by ({by}) ({inner})" if by else f"sum({inner})"

    def targets(self) -> list[tuple[str, str]]:
        """One (PromQL, legend) per metric of the panel."""
        found = []
        for metric in self.metrics:
            legend = " ".join("{{" + label + "}}" for label in self.labels)
            if len(self.metrics) > 1:
                legend = f"{legend} {metric}".strip()
            found.append((self.promql(metric), legend or self.title))
        return found


PANELS = (
    Panel(
        "Orders placed per second",
        "rate",
        "portal_events_recorded_total",
        where={"event_type": "orders\\.order\\.placed"},
        unit="reqps",
    ),
    Panel(
        "HTTP requests per second by service and status",
        "rate",
        "portal_http_requests_total",
        by=("service", "status"),
        unit="reqps",
    ),
    Panel(
        "Placing an order: p95 answer time (orders web)",
        "quantile",
        "portal_http_request_duration_seconds",
        by=("route",),
        where={"service": "orders", "method": "POST"},
        unit="s",
    ),
    Panel(
        "Pipeline latency: p95 from an event's commit to its handling, per hop",
        "quantile",
        "portal_delivery_lag_seconds",
        by=("service", "event_type"),
        unit="s",
    ),
    Panel(
        "Relay: p95 from commit to publish",
        "quantile",
        "portal_relay_lag_seconds",
        by=("service",),
        unit="s",
    ),
    Panel(
        "Deliveries per second by consumer and outcome",
        "rate",
        "portal_deliveries_total",
        by=("service", "outcome"),
        unit="ops",
    ),
    Panel(
        "Retries and dead letters per second",
        "rate",
        "portal_delivery_retries_total|portal_dead_letters_total",
        by=("service", "__name__"),
        unit="ops",
    ),
    Panel("Outbox rows waiting", "gauge", "portal_outbox_waiting", by=("service",)),
    Panel(
        "Oldest outbox row waiting (age)",
        "gauge",
        "portal_outbox_oldest_age_seconds",
        by=("service",),
        unit="s",
    ),
    Panel(
        "Mails pending and failed",
        "gauge",
        "portal_mails_pending|portal_mails_failed",
        by=("__name__",),
    ),
    Panel(
        "RabbitMQ queue depth (messages ready)",
        "gauge",
        "rabbitmq_queue_messages_ready",
        by=("queue",),
        where={"queue": ".*"},
    ),
)


def grafana() -> dict:
    """The Grafana dashboard (schema of Grafana 10/11), one time-series panel per spec."""
    panels = []
    for index, panel in enumerate(PANELS):
        panels.append(
            {
                "id": index + 1,
                "type": "timeseries",
                "title": panel.title,
                "datasource": {"type": "prometheus", "uid": "prometheus"},
                "gridPos": {"h": 8, "w": 12, "x": (index % 2) * 12, "y": (index // 2) * 8},
                "fieldConfig": {"defaults": {"unit": panel.unit}, "overrides": []},
                "options": {"legend": {"displayMode": "list", "placement": "bottom"}},
                "targets": [
                    {"refId": chr(ord("A") + n), "expr": expr, "legendFormat": legend}
                    for n, (expr, legend) in enumerate(panel.targets())
                ],
            }
        )
    return {
        "uid": "portal-operations",
        "title": "Portal operations",
        "description": "Orders per second, the pipeline's latency and every backlog "
        "(generated by portal_system.dashboard; edit the panels there).",
        "tags": ["portal"],
        "timezone": "utc",
        "schemaVersion": 39,
        "version": 1,
        "refresh": "5s",
        "time": {"from": "now-15m", "to": "now"},
        "panels": panels,
    }


def write_grafana(path: Path = DASHBOARD_FILE) -> None:
    path.write_text(json.dumps(grafana(), indent=2) + "\n")


# -- the local picture -------------------------------------------------------------------------


def scrape(urls: dict[str, str]) -> list[tuple[str, dict, float]]:
    """Every sample of every process: ``(name, labels, value)``; a process that does not answer
    is left out of this scrape."""
    import requests
    from prometheus_client.parser import text_string_to_metric_families

    found = []
    for url in urls.values():
        try:
            text = requests.get(url, timeout=3).text
        except requests.RequestException:
            continue
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                found.append((sample.name, dict(sample.labels), sample.value))
    return found


def _matches(panel: Panel, name: str, labels: dict, suffix: str = "") -> bool:
    import re

    names = [m + suffix for m in panel.metrics]
    if name not in names:
        return False
    return all(re.fullmatch(v, labels.get(k, "")) for k, v in panel.where.items())


def _group(panel: Panel, name: str, labels: dict) -> str:
    values = [labels.get(label, "") for label in panel.labels]
    if len(panel.metrics) > 1:
        values.append(name)
    return " ".join(values) or panel.title


def _sums(panel: Panel, samples, suffix: str = "", extra: str | None = None) -> dict:
    sums: dict = defaultdict(float)
    for name, labels, value in samples:
        if _matches(panel, name, labels, suffix):
            key = _group(panel, name.removesuffix(suffix), labels)
            sums[(key, labels.get(extra)) if extra else key] += value
    return sums


def _quantile(q: float, buckets: dict[float, float]) -> float | None:
    """PromQL's histogram_quantile over cumulative bucket counts."""
    bounds = sorted(buckets)
    total = buckets[bounds[-1]] if bounds else 0
    if total <= 0:
        return None
    rank = q * total
    previous_bound, previous_count = 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if bound == float("inf"):
                return previous_bound
            span = count - previous_count
            return previous_bound + (bound - previous_bound) * (
                (rank - previous_count) / span if span else 1.0
            )
        previous_bound, previous_count = bound, count
    return previous_bound


def evaluate(panel: Panel, earlier, later, seconds: float) -> dict[str, float]:
    """The panel's series at ``later``, from two scrapes ``seconds`` apart."""
    if panel.kind == "gauge":
        return dict(_sums(panel, later))
    if panel.kind == "rate":
        before, after = _sums(panel, earlier), _sums(panel, later)
        return {k: max(0.0, v - before.get(k, 0.0)) / seconds for k, v in after.items()}
    before = _sums(panel, earlier, "_bucket", "le")
    after = _sums(panel, later, "_bucket", "le")
    per_group: dict[str, dict[float, float]] = defaultdict(dict)
    for (group, le), value in after.items():
        per_group[group][float(le)] = value - before.get((group, le), 0.0)
    series = {}
    for group, buckets in per_group.items():
        value = _quantile(panel.quantile, buckets)
        if value is not None:
            series[group] = value
    return series


class Recorder:
    """Scrapes every ``every`` seconds in a thread, from ``start()`` to ``stop()``."""

    def __init__(self, urls: dict[str, str], every: float = 5.0, extra=None):
        import threading

        self.urls, self.every, self.extra = urls, every, extra
        self.scrapes: list = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="dashboard")

    def _run(self) -> None:
        started = time.monotonic()
        while True:
            samples = scrape(self.urls) + (self.extra() if self.extra else [])
            self.scrapes.append((time.monotonic() - started, samples))
            if self._stop.wait(self.every):
                return

    def start(self) -> Recorder:
        self._thread.start()
        return self

    def stop(self) -> list:
        self._stop.set()
        self._thread.join(timeout=30)
        return self.scrapes


def queue_depths(broker_url: str, prefix: str = ""):
    """A sampler of every service queue's ready messages, as ``rabbitmq_queue_messages_ready``
    samples: read with a passive declare where RabbitMQ's prometheus plugin is not there."""
    from portal_contracts.subscriptions import SUBSCRIPTIONS
    from portal_runtime.topology import Topology, connect

    topology = Topology(broker_url, prefix)

    def sample() -> list:
        found = []
        try:
            with connect(broker_url) as conn:
                for service in SUBSCRIPTIONS:
                    for name in (topology.queue_name(service), topology.dead_letter_key(service)):
                        # A channel each: a passive declare of a missing queue closes its channel.
                        channel = conn.channel()
                        try:
                            ok = channel.queue_declare(queue=name, passive=True)
                        except Exception:  # noqa: BLE001 - a queue not declared yet
                            continue
                        finally:
                            with contextlib.suppress(Exception):
                                channel.close()
                        queue = name.removeprefix(prefix)
                        found.append(
                            ("rabbitmq_queue_messages_ready", {"queue": queue}, ok.message_count)
                        )
        except Exception:  # noqa: BLE001 - the broker away for a moment: no sample this time
            return []
        return found

    return sample


def record(urls: dict[str, str], seconds: float, every: float = 5.0, extra=None) -> list:
    """Scrapes every ``every`` seconds for ``seconds``: ``[(t, samples), ...]``; ``extra()`` adds
    samples of its own (the queue depth where RabbitMQ's plugin is not there to scrape)."""
    scrapes = []
    started = time.monotonic()
    while True:
        now = time.monotonic() - started
        samples = scrape(urls) + (extra() if extra else [])
        scrapes.append((now, samples))
        if now >= seconds:
            return scrapes
        time.sleep(max(0.0, every - (time.monotonic() - started - now)))


def plot(scrapes: list, path: Path, subtitle: str) -> None:
    """The panels as a grid of line charts in one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = 2
    rows = (len(PANELS) + 1) // columns
    fig, axes = plt.subplots(rows, columns, figsize=(16, 3.1 * rows), squeeze=False)
    fig.suptitle(
        "Portal operations - the Grafana dashboard's panels (deploy/grafana/portal.json), "
        "computed from the processes' /metrics scraped locally\n" + subtitle,
        fontsize=11,
    )
    for index, panel in enumerate(PANELS):
        ax = axes[index // columns][index % columns]
        series: dict[str, list[tuple[float, float]]] = defaultdict(list)
        for (t0, earlier), (t1, later) in itertools.pairwise(scrapes):
            for key, value in evaluate(panel, earlier, later, t1 - t0).items():
                series[key].append((t1, value))
        for key, points in sorted(series.items()):
            if any(v for _, v in points):
                ax.plot([p[0] for p in points], [p[1] for p in points], label=key, linewidth=1.4)
        ax.set_title(panel.title, fontsize=9)
        ax.set_xlabel("seconds", fontsize=7)
        ax.set_ylabel(panel.unit, fontsize=7)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=6, loc="upper left", ncol=2)
        else:
            ax.text(0.5, 0.5, "all zero", ha="center", va="center", transform=ax.transAxes)
    for index in range(len(PANELS), rows * columns):
        axes[index // columns][index % columns].axis("off")
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    fig.savefig(path, dpi=80)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m portal_system.dashboard")
    parser.add_argument("--write-grafana", action="store_true", help="regenerate portal.json")
    parser.add_argument("--png", type=Path, help="scrape a running system and plot the panels")
    parser.add_argument("--port-offset", type=int, default=0, help="the system's port offset")
    parser.add_argument("--seconds", type=float, default=120.0)
    args = parser.parse_args(argv)
    if args.write_grafana:
        write_grafana()
    if args.png:
        from portal_system.launcher import System

        system = System(port_offset=args.port_offset)
        scrapes = record(system.metrics_urls(), args.seconds)
        plot(scrapes, args.png, f"{len(scrapes)} scrapes of {len(system.metrics_urls())} processes")


if __name__ == "__main__":
    main()
