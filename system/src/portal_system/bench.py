"""``make bench``: orders per second, latency and CPU per order, end to end.

Starts the whole system the way the end-to-end tests do (fresh databases and bus prefix on
RabbitMQ + PostgreSQL; with ``--embedded``, SQLite files and the folder bus as ``make run`` has
them), places N orders through the gateway and waits until every order has all its effects: its
invoice and its licenses (committed by billing and license-assign) and its three e-mails (the
reseller's confirmation and invoice mail, the licensee's activation mail).

Each effect's time is taken from its source, not from when the benchmark happened to look: the
inbox row that billing or license-assign committed with the invoice or the licenses
(``processed_at``), and the moment the local SMTP sink received a mail (in its file name). The
latency of an order runs from its ``201`` to the last of its effects.

CPU is sampled from ``/proc`` over the steady part of the run (from the first tenth of the orders
accepted to nine tenths finished): the whole machine's busy time per finished order, and its split
by process kind. Given the do-nothing pipeline's figures from the same sitting
(``--baseline-orders-per-s``, ``--baseline-p99-ms``, ``--baseline-cpu-ms``), it prints the ratios
issue #14 is judged by.

``--billing-workers N`` runs N billing worker processes, competing consumers of billing's queue
as the replicas KEDA scales would be; ``--billing-stage`` holds them while the orders are placed
and then times how fast they drain that backlog (first to last invoice). Every run checks that
the invoices' numbers are distinct and gapless (one counter row, locked per invoice). A
benchmark, not a test.
"""

from __future__ import annotations

import argparse
import bisect
import contextlib
import datetime as dt
import email
import email.policy
import json
import os
import platform
import re
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path

from sqlalchemy import bindparam, create_engine, text

from portal_contracts import demo
from portal_runtime.config import env_name
from portal_system.launcher import (
    System,
    free_port_offset,
    on_real_infrastructure,
    process_kind,
    running,
)
from portal_system.mailsink import END_OF_HEADERS, HEADERS
from portal_system.testing import login

BENCH_PORT_OFFSET = 4000
ORDER_NUMBER = re.compile(r"O-\d{4}-\d{6,}")
EFFECTS = frozenset({"invoice", "licenses", "confirmation", "activation", "invoice_mail"})
HZ = os.sysconf("SC_CLK_TCK")


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 2**20:.0f} GiB"
    return f"{os.cpu_count()} cores, {cpu}{memory}, Python {platform.python_version()}"


def load_average() -> str:
    with contextlib.suppress(OSError):
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return "?"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


def read_mail(path: Path) -> EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def mail_facts(path: Path) -> tuple[set[str], str]:
    """A received mail's recipients (To, lower case) and subject, from its headers alone: every
    mail the bench looks for names its order in the subject, and the bench shares the machine
    it measures (parsing each mail whole was most of its own CPU)."""
    content = path.read_bytes()
    end = END_OF_HEADERS.search(content)
    headers = HEADERS.parsebytes(content[: end.end()] if end else content)
    recipients = {a.lower() for _, a in getaddresses(headers.get_all("To", []))}
    subject = str(make_header(decode_header(headers.get("Subject", ""))))
    return recipients, subject


def received_at(path: Path) -> float:
    """When the sink received a mail: the UTC timestamp that starts its file name."""
    stamp = path.name.split("-", 1)[0]
    return dt.datetime.strptime(stamp, "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=dt.UTC).timestamp()


def as_epoch(value) -> float:
    if isinstance(value, str):  # SQLite hands timestamps back as text
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.timestamp()


class Tracker:
    """Finds each order's effects at their sources and keeps the time each one happened."""

    def __init__(self, system: System):
        self.system = system
        self.accepted: dict[str, float] = {}  # order number -> epoch seconds of the 201
        self.end_users: dict[str, str] = {}
        self.effects: dict[str, dict[str, float]] = {}
        self.done: dict[str, float] = {}  # order number -> epoch seconds of its last effect
        self.placed_message: dict[str, str] = {}  # orders.order.placed message id -> order
        self._seen_mail: set[str] = set()
        self._lock = threading.Lock()
        # Outbox rows read so far: every id up to ``_outbox_floor`` and the ids in ``_outbox_ids``
        # above it. Ids are taken at insert but committed in any order, so a row with a lower id
        # than one already read may still appear; reading from the highest id would miss it.
        self._outbox_floor = 0
        self._outbox_ids: set[int] = set()
        self._db = {
            service: create_engine(
                system.env.get(f"{env_name(service)}_DATABASE_URL")
                or f"sqlite:///{system.var_dir / (service + '.db')}"
            )
            for service in ("orders", "billing", "license-assign")
        }

    def accept(self, number: str, end_user: str, at: float) -> None:
        with self._lock:
            self.accepted[number] = at
            self.end_users[end_user] = number
            self.effects[number] = {}

    def _found(self, number: str, effect: str, at: float) -> None:
        effects = self.effects.get(number)
        if effects is not None and effect not in effects:
            effects[effect] = at

    def poll(self) -> None:
        with self._lock:
            pending = [n for n in self.accepted if n not in self.done]
        if not pending:
            return
        self._find_placed_messages([n for n in pending if n not in self.placed_message.values()])
        waiting = [m for m, n in self.placed_message.items() if n not in self.done]
        for service, effect in (("billing", "invoice"), ("license-assign", "licenses")):
            if waiting:
                self._find_handled(service, effect, waiting)
        self._find_mails()
        for number in pending:
            if self.effects[number].keys() >= EFFECTS:
                self.done[number] = max(self.effects[number].values())

    def _find_placed_messages(self, numbers: list[str]) -> None:
        if not numbers:
            return
        with self._db["orders"].connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT id, type, message_id, payload FROM outbox WHERE id > :floor ORDER BY id"
                ),
                {"floor": self._outbox_floor},
            ).all()
        for row_id, event_type, message_id, payload in rows:
            if row_id in self._outbox_ids:
                continue
            self._outbox_ids.add(row_id)
            if event_type != "orders.order.placed":
                continue
            if isinstance(payload, str):  # SQLite hands JSON back as text
                payload = json.loads(payload)
            self.placed_message[message_id] = payload["order_number"]
        # Rows below the first id not seen yet are all read (a gap left by a rolled-back insert
        # keeps the floor where it is: those rows are read again, and skipped).
        while self._outbox_floor + 1 in self._outbox_ids:
            self._outbox_floor += 1
            self._outbox_ids.discard(self._outbox_floor)

    def _find_handled(self, service: str, effect: str, message_ids: list[str]) -> None:
        engine = self._db[service]
        if engine.dialect.name == "postgresql":
            # One statement text whatever the number of ids (an IN list is parsed anew each time).
            query = text(
                "SELECT message_id, processed_at FROM processed_messages "
                "WHERE message_id = ANY(:ids)"
            )
        else:
            query = text(
                "SELECT message_id, processed_at FROM processed_messages WHERE message_id IN :ids"
            ).bindparams(bindparam("ids", expanding=True))
        with engine.connect() as conn:
            for message_id, processed_at in conn.execute(query, {"ids": message_ids}):
                self._found(self.placed_message[message_id], effect, as_epoch(processed_at))

    def _find_mails(self) -> None:
        with os.scandir(self.system.mail_dir) as entries:
            names = {e.name for e in entries if e.name.endswith(".eml")}
        # In order of arrival: a mail sent twice counts when it first came.
        for name in sorted(names - self._seen_mail):
            self._seen_mail.add(name)
            path = self.system.mail_dir / name
            at = received_at(path)
            recipients, subject = mail_facts(path)
            for address in recipients:
                if address in self.end_users:
                    self._found(self.end_users[address], "activation", at)
            if demo.DEMO_RESELLER_USER not in recipients:
                continue
            effect = "invoice_mail" if subject.lower().startswith("invoice") else "confirmation"
            for number in set(ORDER_NUMBER.findall(subject)):
                self._found(number, effect, at)


# -- CPU from /proc ----------------------------------------------------------------------------


def _machine_busy() -> float:
    """Busy CPU seconds of the whole machine since boot."""
    with open("/proc/stat") as f:
        values = [int(x) for x in f.readline().split()[1:9]]
    return (sum(values) - values[3] - values[4]) / HZ


def _processes() -> dict[int, tuple[int, str, float]]:
    """pid -> (session id, command line, CPU seconds) of every process."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError):
            continue
        out[int(entry)] = (int(fields[3]), cmd, (int(fields[11]) + int(fields[12])) / HZ)
    return out


class CpuSampler:
    """Snapshots of the machine's and each process's CPU time, once a second."""

    def __init__(self, system: System):
        self.system = system
        self._sessions: dict[int, str] = {}
        self.snapshots: list[tuple[float, float, dict[int, tuple[int, str, float]]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def sessions(self) -> dict[int, str]:
        """pid (= session id) -> process name, of the processes running now and before."""
        self._sessions.update({p.pid: name for name, p in self.system.processes.items()})
        return self._sessions

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while True:
            self.sessions  # noqa: B018 - remember the processes running now (restarts too)
            self.snapshots.append((time.time(), _machine_busy(), _processes()))
            if self._stop.wait(1.0):
                return

    def kind(self, pid: int, session: int, cmd: str) -> str:
        name = self.sessions.get(session) or self.sessions.get(pid)
        if name:
            if name == "gateway-web":
                return "gateway"
            return process_kind(name)[1] or name  # web, worker, mailsink
        if pid == os.getpid():
            return "bench"
        if "beam.smp" in cmd or "erl_child_setup" in cmd or "epmd" in cmd:
            return "rabbitmq"
        if cmd.startswith("postgres"):
            return "postgres"
        return "other"

    def window(self, start: float, end: float):
        """(seconds, machine CPU seconds, CPU seconds by kind, by process) between the snapshots
        nearest ``start`` and ``end``; None when the run was too short to have two."""
        times = [s[0] for s in self.snapshots]
        i = min(bisect.bisect_left(times, start), len(times) - 1)
        j = min(bisect.bisect_left(times, end), len(times) - 1)
        if j <= i:
            return None
        (t0, m0, p0), (t1, m1, p1) = self.snapshots[i], self.snapshots[j]
        kinds: dict[str, float] = {}
        names: dict[str, float] = {}
        for pid, (session, cmd, cpu) in p1.items():
            before = p0.get(pid)
            used = cpu - (before[2] if before and before[1] == cmd else 0.0)
            if used > 0:
                kind = self.kind(pid, session, cmd)
                kinds[kind] = kinds.get(kind, 0.0) + used
                name = self.sessions.get(session) or self.sessions.get(pid)
                if name:
                    names[name] = names.get(name, 0.0) + used
        return t1 - t0, m1 - m0, kinds, names


# -- the run -----------------------------------------------------------------------------------


@contextlib.contextmanager
def embedded_system(var_dir: Path, extra_env: dict, workers: dict[str, int]):
    from portal_system.launcher import clean_environment

    env = clean_environment()
    env.update(extra_env)
    yield System(env, var_dir, free_port_offset(BENCH_PORT_OFFSET), workers=workers)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seats", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=1800, help="seconds to wait for effects")
    parser.add_argument(
        "--rate",
        type=float,
        default=0,
        help="orders/s to offer (0: as fast as the gateway accepts them); below the system's "
        "capacity the latency is the pipeline's own, above it the backlog's",
    )
    parser.add_argument(
        "--embedded",
        action="store_true",
        help="run on the embedded default (SQLite files, folder bus), as `make run` does",
    )
    parser.add_argument(
        "--billing-workers",
        type=int,
        default=1,
        help="billing worker processes: competing consumers of billing's queue (each with its "
        "relay and jobs), as replicas of the billing-worker Deployment would be",
    )
    parser.add_argument(
        "--billing-stage",
        action="store_true",
        help="hold billing's workers while the orders are placed, then start them on the "
        "backlog and time how fast they drain it: the billing stage alone",
    )
    parser.add_argument(
        "--dashboard-png",
        type=Path,
        help="scrape every process's /metrics during the run and plot the Grafana dashboard's "
        "panels to this PNG (portal_system.dashboard)",
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=5,
        help="orders placed one at a time, each waited for, before the measured ones and not "
        "counted: the first orders after the start pay one-time costs (connections, statements "
        "and templates compiled); their latencies are printed",
    )
    parser.add_argument("--baseline-orders-per-s", type=float, help="do-nothing gw16 orders/s")
    parser.add_argument("--baseline-p99-ms", type=float, help="do-nothing gw1 p99 (ms)")
    parser.add_argument("--baseline-cpu-ms", type=float, help="do-nothing CPU per order (ms)")
    args = parser.parse_args(argv)

    var_dir = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    # Quieter logs and more web threads: the benchmark measures the system, not its log volume.
    # One demo reseller places every order: its checkout rate limit would be the bottleneck.
    extra = {"LOG_LEVEL": "WARNING", "WEB_THREADS": "16", "GATEWAY_CHECKOUT_PER_MINUTE": "0"}
    workers = {"billing": args.billing_workers}
    where = (
        embedded_system(var_dir, extra, workers)
        if args.embedded
        else on_real_infrastructure(var_dir, BENCH_PORT_OFFSET, extra, workers)
    )
    load_before = load_average()
    stage = None
    with where as system, running(system):
        billing_workers = system.worker_names("billing")
        recorder = None
        if args.dashboard_png:
            from portal_system import dashboard

            broker = system.env.get("BROKER_URL", f"filesystem://{system.var_dir / 'bus'}")
            depths = dashboard.queue_depths(broker, system.env.get("BUS_PREFIX", ""))
            recorder = dashboard.Recorder(system.metrics_urls(), extra=depths).start()
        client = login(system, demo.DEMO_RESELLER_USER)
        client.enter_customer(demo.ACME_ID, demo.ACME_CONTACT)
        errors: list[str] = []

        def place_into(tracker: Tracker) -> None:
            tag = uuid.uuid4().hex[:12]
            end_user = f"bench.{tag}@acme.example"
            resp = client.place_order(
                {
                    "customer_id": demo.ACME_ID,
                    "lines": [
                        {"kind": "new", "product": "PC", "quantity": args.seats, "term_years": 1}
                    ],
                    "payment_method_id": demo.DEMO_CARD_METHOD_ID,
                    "end_user": {"first_name": "Bench", "last_name": tag, "email": end_user},
                    "send_activation_email": True,
                }
            )
            at = time.time()
            if resp.status_code != 201:
                errors.append(f"{resp.status_code} {resp.text[:200]}")
                return
            tracker.accept(resp.json()["number"], end_user, at)

        warm = warm_up(Tracker(system), place_into, args.warmup, args.timeout)
        if args.billing_stage:
            system.stop_processes(billing_workers)
        tracker = Tracker(system)
        sampler = CpuSampler(system)

        def place(n: int) -> None:
            if args.rate:
                time.sleep(max(0.0, started + n / args.rate - time.monotonic()))
            place_into(tracker)

        stop = threading.Event()

        def watch() -> None:
            # Only to know when every order is done: the times come from the sources.
            while not stop.is_set():
                tracker.poll()
                stop.wait(0.25)

        watcher = threading.Thread(target=watch, daemon=True)
        sampler.start()
        watcher.start()
        started = time.monotonic()  # read by place()
        with ThreadPoolExecutor(args.concurrency) as pool:
            list(pool.map(place, range(args.orders)))
        placed_in = time.monotonic() - started
        if args.billing_stage:
            # Every order's event waits in billing's queue; then the workers start on it.
            wait_published(tracker, "orders", args.timeout)
            workers_started = time.time()
            for name in billing_workers:
                system.start_process(name)
        deadline = time.monotonic() + args.timeout
        while len(tracker.done) < len(tracker.accepted) and time.monotonic() < deadline:
            time.sleep(0.5)
        stop.set()
        watcher.join()
        sampler.stop()
        if recorder is not None:
            time.sleep(10)  # the backlogs' return to zero, on the picture too
            where_ = "SQLite + folder bus" if args.embedded else "RabbitMQ + PostgreSQL"
            dashboard.plot(
                recorder.stop(),
                args.dashboard_png,
                f"make bench --orders {args.orders} --concurrency {args.concurrency} "
                f"--billing-workers {args.billing_workers}"
                f"{' --billing-stage' if args.billing_stage else ''} on {where_}, {machine()}; "
                "queue depth by AMQP passive declare (compose: rabbitmq_prometheus)",
            )
        tracker.poll()
        system_name = "SQLite + folder bus" if args.embedded else "RabbitMQ + PostgreSQL"
        numbers = invoice_numbers(tracker)
        if args.billing_stage:
            stage = billing_stage(tracker, workers_started)

    latencies = [tracker.done[n] - tracker.accepted[n] for n in tracker.done]
    accepted = len(tracker.accepted)
    print(f"\nmachine          {machine()}; load average {load_before} before the run")
    print(f"backend          {system_name}, every service web + worker, local SMTP sink")
    print(
        f"orders           {args.orders} placed, {accepted} accepted, {len(errors)} refused, "
        f"{len(tracker.done)} with every effect; {args.seats} seat(s) each; "
        f"concurrency {args.concurrency}"
        + (f", offered at {args.rate:g} orders/s" if args.rate else "")
    )
    if warm:
        print(
            f"warm-up          {len(warm)} orders one at a time before the run, not counted: "
            f"last effect after {' / '.join(f'{ms:.0f}' for ms in warm)} ms"
        )
    print(f"accepting        {accepted / placed_in:.1f} orders/s ({placed_in:.1f} s)")
    print(
        f"billing          {args.billing_workers} worker process(es); {numbers['invoices']} "
        f"invoices, {numbers['distinct']} distinct numbers, counter at {numbers['counter']}"
        + (" (gapless)" if numbers["invoices"] == numbers["distinct"] == numbers["counter"] else "")
        + (f"; the warm-up's {len(warm)} among them" if warm else "")
    )
    if stage:
        print(
            f"billing stage    {stage['invoices']} invoices drained from the backlog in "
            f"{stage['seconds']:.1f} s: {stage['per_s']:.1f} invoices/s (first to last invoice; "
            f"the workers started {stage['startup']:.1f} s before the first)"
        )
    if latencies:
        first = min(tracker.accepted.values())
        last = max(tracker.done.values())
        per_s = len(latencies) / max(last - first, 1e-9)
        p50, p99 = percentile(latencies, 50) * 1000, percentile(latencies, 99) * 1000
        print(
            f"end to end       {per_s:.1f} orders/s (first accepted to last effect: "
            f"{last - first:.1f} s)"
        )
        print(
            f"latency          p50 {p50:.0f} ms   p95 {percentile(latencies, 95) * 1000:.0f} ms   "
            f"p99 {p99:.0f} ms   max {max(latencies) * 1000:.0f} ms  (201 -> invoice, licenses, "
            "confirmation, activation and invoice e-mails; times from their sources)"
        )
        by_effect = []
        for effect in sorted(EFFECTS):
            times = [
                tracker.effects[n][effect] - tracker.accepted[n]
                for n in tracker.done
                if effect in tracker.effects[n]
            ]
            by_effect.append(
                f"{effect} {percentile(times, 50) * 1000:.0f}/{percentile(times, 99) * 1000:.0f}"
            )
        print(f"  by effect      {'  '.join(by_effect)}  (p50/p99 ms from the 201)")
        cpu_ms = report_cpu(tracker, sampler)
        ratios = []
        if args.baseline_orders_per_s:
            ratios.append(f"orders/s {per_s / args.baseline_orders_per_s:.3f}x the do-nothing")
        if args.baseline_p99_ms:
            ratios.append(f"p99 {p99 / args.baseline_p99_ms:.1f}x the do-nothing")
        if args.baseline_cpu_ms and cpu_ms:
            ratios.append(f"CPU per order {cpu_ms / args.baseline_cpu_ms:.1f}x the do-nothing")
        if ratios:
            print("ratio            " + ";  ".join(ratios))
    if errors:
        print("first refusals:", *errors[:3], sep="\n  ")
    missing = accepted - len(tracker.done)
    if missing:
        print(f"{missing} orders did not show every effect within {args.timeout:.0f} s")
        return 1
    return 0


def warm_up(tracker: Tracker, place_into, orders: int, timeout: float) -> list[float]:
    """Place ``orders`` one at a time, each waited for until every effect showed; the latency
    of each (ms), first to last."""
    deadline = time.monotonic() + timeout
    for _ in range(orders):
        place_into(tracker)
        while len(tracker.done) < len(tracker.accepted) and time.monotonic() < deadline:
            time.sleep(0.05)
            tracker.poll()
    return [(tracker.done[n] - tracker.accepted[n]) * 1000 for n in tracker.done]


def wait_published(tracker: Tracker, service: str, timeout: float) -> None:
    """Until the service's relay has published every outbox row (all orders are in the queues)."""
    deadline = time.monotonic() + timeout
    query = text("SELECT count(*) FROM outbox WHERE published_at IS NULL")
    while time.monotonic() < deadline:
        with tracker._db[service].connect() as conn:
            if conn.execute(query).scalar_one() == 0:
                return
        time.sleep(0.2)


def invoice_numbers(tracker: Tracker) -> dict[str, int]:
    """How many invoices, how many distinct numbers, and where the counters stand: with
    competing billing workers every number is taken once and none is skipped."""
    with tracker._db["billing"].connect() as conn:
        invoices, distinct = conn.execute(
            text("SELECT count(*), count(DISTINCT number) FROM invoices")
        ).one()
        counter = conn.execute(
            text("SELECT coalesce(sum(last_value), 0) FROM number_series WHERE series = 'INV'")
        ).scalar_one()
    return {"invoices": invoices, "distinct": distinct, "counter": counter}


def billing_stage(tracker: Tracker, workers_started: float) -> dict[str, float] | None:
    """The billing stage's drain rate: invoices per second from the first to the last one."""
    times = sorted(e["invoice"] for e in tracker.effects.values() if "invoice" in e)
    if len(times) < 2:
        return None
    seconds = times[-1] - times[0]
    return {
        "invoices": len(times),
        "seconds": seconds,
        "per_s": (len(times) - 1) / max(seconds, 1e-9),
        "startup": times[0] - workers_started,
    }


def report_cpu(tracker: Tracker, sampler: CpuSampler) -> float | None:
    """Print machine CPU per order over the steady part of the run; return it (ms)."""
    accepted = sorted(tracker.accepted.values())
    done = sorted(tracker.done.values())
    start = accepted[len(accepted) // 10]
    end = done[min(len(done) - 1, len(done) * 9 // 10)]
    window = sampler.window(start, end)
    if window is None:
        print("cpu              run too short to sample")
        return None
    seconds, busy, kinds, names = window
    finished = sum(1 for t in done if start <= t <= end) or 1
    per_order = busy / finished * 1000

    def split(cpus: dict[str, float]) -> str:
        ranked = sorted(cpus.items(), key=lambda kv: -kv[1])
        return "  ".join(f"{name} {cpu / finished * 1000:.1f}" for name, cpu in ranked)

    own = sum(cpu for kind, cpu in kinds.items() if kind not in ("other", "bench"))
    print(
        f"cpu              {per_order:.1f} ms per order, whole machine ({busy / seconds:.2f} cores "
        f"busy over {seconds:.0f} s, {finished} orders finished); {own / finished * 1000:.1f} ms "
        "of it in this system's processes, PostgreSQL and RabbitMQ"
    )
    print(f"  by kind        {split(kinds)}  (ms per order; other: not this system)")
    print(f"  by process     {split(names)}")
    return per_order


if __name__ == "__main__":
    raise SystemExit(main())
