"""``make chaos``: orders at a steady rate while the system is broken on purpose, then the count.

The whole system runs on a private PostgreSQL cluster and a private RabbitMQ node that this run
starts in temporary folders (the machine's servers are shared and never touched). While orders
arrive through the gateway at a steady rate, every service's worker is killed with SIGKILL (and
restarted, as ``make run`` restarts a process that exited), RabbitMQ is stopped and started
again, PostgreSQL is stopped for a while, and one service's handlers fail on purpose for a while
(``HANDLER_FAULT``). Then it waits until everything has drained and prints, from the data:

- orders accepted (a ``201``) and orders in the orders database (must be the same ones);
- invoices (one per order, for its total) and approved charges at the payment sandbox (one);
- licenses (one per seat);
- e-mails: distinct messages per recipient and kind (exactly one each), and the raw deliveries
  the sink received (SMTP is at least once; a repeat has the same Message-ID);
- dead letters in every service's dead-letter queue (none), unpublished outbox rows and unsent
  or failed mail (none);
- the time from the end of the load and the faults until every effect was there.

It exits non-zero when any check fails. ``tests/test_e2e_chaos.py`` runs a short version (a few
dozen orders, one of each fault) in CI.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from email.utils import getaddresses
from pathlib import Path

import requests
from sqlalchemy import bindparam, create_engine, text

from portal_contracts import SUBSCRIPTIONS, demo
from portal_runtime.config import Config, env_name
from portal_runtime.dead_letters import DeadLetters
from portal_system.bench import ORDER_NUMBER, load_average, machine, read_mail
from portal_system.launcher import (
    SERVICES,
    System,
    on_real_infrastructure,
    process_kind,
    running,
)
from portal_system.testing import login, text_of

CHAOS_PORT_OFFSET = 5000
REPOSITORY = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float, process: subprocess.Popen | None = None) -> float:
    """Seconds until ``port`` accepts connections; fails when ``process`` exits first."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return time.monotonic() - started
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"exited ({process.returncode}) before port {port} was open")
        time.sleep(0.2)
    raise TimeoutError(f"port {port} not open after {timeout:.0f} s")


def _owned_dir(prefix: str, user: str) -> Path:
    """A fresh temporary folder the server's own user owns (as root, servers refuse to run)."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    if os.geteuid() == 0:
        entry = pwd.getpwnam(user)
        os.chown(path, entry.pw_uid, entry.pw_gid)
    return path


def _as(user: str) -> list[str]:
    return ["runuser", "-u", user, "--"] if os.geteuid() == 0 else []


class PrivatePostgres:
    """A throw-away PostgreSQL cluster (initdb, trust auth) on a free port, in a temp folder."""

    def __init__(self):
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        self.bin = Path(found[-1]).parent if found else Path(shutil.which("pg_ctl") or "").parent
        self.dir = _owned_dir("portal-chaos-pg-", "postgres")
        self.data = self.dir / "data"
        self.port = free_port()

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 180, check: bool = True):
        return subprocess.run(
            [*_as("postgres"), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=check,
            cwd=self.dir,
        )

    def init(self) -> None:
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
            "-E", "UTF8", "--no-sync",
        )  # fmt: skip

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=400"
        )
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "server.log"),
            "-w", "-t", "120", "-o", options, "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            self._run(
                str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop",
                timeout=60, check=False,
            )  # fmt: skip
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivateRabbitMQ:
    """A throw-away RabbitMQ node of its own name, ports, data and config, without plugins."""

    def __init__(self):
        found = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
        self.server = str(found) if found.exists() else (shutil.which("rabbitmq-server") or "")
        self.dir = _owned_dir("portal-chaos-rabbitmq-", "rabbitmq")
        self.port, self.dist_port = free_port(), free_port()
        self.node = f"chaos-{os.getpid()}@localhost"
        self.process: subprocess.Popen | None = None
        # The machine's rabbitmq.conf names its listener (5672): this node reads its own file.
        (self.dir / "rabbitmq.conf").write_text(f"listeners.tcp.local = 127.0.0.1:{self.port}\n")
        (self.dir / "enabled_plugins").write_text("")  # no management plugin, no port clash
        if os.geteuid() == 0:
            entry = pwd.getpwnam("rabbitmq")
            for name in ("rabbitmq.conf", "enabled_plugins"):
                os.chown(self.dir / name, entry.pw_uid, entry.pw_gid)

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    def start(self, timeout: float = 240) -> float:
        """Start the node (again, on the same data) and wait for its port; the seconds it took."""
        env = {
            "HOME": str(self.dir),  # its own Erlang cookie, not the machine node's
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_CONFIG_FILE": str(self.dir / "rabbitmq.conf"),
            "RABBITMQ_MNESIA_BASE": str(self.dir / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.dir / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.dir / "enabled_plugins"),
        }
        log = open(self.dir / "server.out", "ab")  # noqa: SIM115 - the child owns it
        self.process = subprocess.Popen(
            [*_as("rabbitmq"), "env", *(f"{k}={v}" for k, v in env.items()), self.server],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=self.dir,
        )
        log.close()
        try:
            return wait_for_port(self.port, timeout, self.process)
        except (RuntimeError, TimeoutError) as exc:
            out = (self.dir / "server.out").read_text(errors="replace")[-2000:]
            raise RuntimeError(f"private RabbitMQ did not start: {exc}\n{out}") from exc

    def stop(self, timeout: float = 60) -> None:
        """Stop the whole node (SIGTERM: RabbitMQ shuts down cleanly), SIGKILL if it hangs."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
        # beam.smp may outlive the wrapper for a moment: wait until the port is closed.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.5).close()
            except OSError:
                return
            time.sleep(0.2)

    def ctl(self, *args: str, timeout: float = 180) -> None:
        """``rabbitmqctl -n <this node> ...`` with the node's own cookie."""
        ctl = str(Path(self.server).with_name("rabbitmqctl"))
        subprocess.run(
            [*_as("rabbitmq"), "env", f"HOME={self.dir}", ctl, "-q", "-n", self.node, *args],
            check=True,
            capture_output=True,
            timeout=timeout,
            cwd=self.dir,
        )

    def stop_app(self) -> None:
        """Stop the broker inside the running node (``rabbitmqctl stop_app``): connections go."""
        self.ctl("stop_app")

    def start_app(self, timeout: float = 240) -> float:
        started = time.monotonic()
        self.ctl("start_app", timeout=timeout)
        return time.monotonic() - started + wait_for_port(self.port, timeout, self.process)

    def destroy(self) -> None:
        with contextlib.suppress(Exception):
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


@dataclasses.dataclass
class Plan:
    orders: int = 400
    rate: float = 2.0  # orders per second offered
    concurrency: int = 8
    max_seats: int = 3  # order n has 1 + n % max_seats seats
    kill_rounds: int = 2  # every worker is killed this often
    kill_gap: float = 4.0  # seconds between two kills
    broker_down: float = 15.0
    # "node": the whole node is stopped and started again on its data; "app": rabbitmqctl
    # stop_app / start_app (quicker: the Erlang VM keeps running).
    broker_stop: str = "node"
    database_down: float = 15.0
    handler_fault: float = 60.0
    fault_service: str = "billing"
    workers: int = 1  # worker processes per service (competing consumers, as replicas)
    drain_timeout: float = 900.0
    # Short retry delays (as the e2e tests use) for a quick run; the default schedule otherwise.
    quick_retries: bool = False


class Timeline:
    """What happened when, in seconds from the start of the load."""

    def __init__(self):
        self.start = time.monotonic()
        self.entries: list[tuple[float, str]] = []
        self._lock = threading.Lock()

    def note(self, what: str) -> None:
        with self._lock:
            self.entries.append((time.monotonic() - self.start, what))

    def lines(self) -> list[str]:
        return [f"t+{at:6.1f} s  {what}" for at, what in sorted(self.entries)]


def why_it_exited(log: str) -> str:
    """The last traceback of a log, shortened to this project's frames and the error."""
    if "Traceback" not in log:
        return "\n".join(log.strip().splitlines()[-3:])
    lines = log[log.rindex("Traceback") :].strip().splitlines()
    ours = [
        line.strip()
        for line in lines
        if line.lstrip().startswith(f'File "{REPOSITORY}/') and "site-packages" not in line
    ]
    return "\n".join([*(f"    {line}" for line in ours), f"    {lines[-1]}"])


class Supervisor:
    """Restarts every process of ``system`` that exited, once a second, as ``make run`` does."""

    def __init__(self, system: System, timeline: Timeline):
        self.system, self.timeline = system, timeline
        self.restarts: Counter = Counter()
        self.unexpected: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            # The log before the restart: why a process exited that was not killed on purpose.
            tails = {
                name: why_it_exited(self.system.log_tail(name, 20000))
                for name, proc in list(self.system.processes.items())
                if proc.poll() not in (None, -signal.SIGKILL)
            }
            for name, code in self.system.restart_exited().items():
                self.restarts[name] += 1
                self.timeline.note(f"{name} exited ({code}), restarted")
                if name in tails:
                    self.unexpected.append(f"{name} exited ({code}) by itself:\n{tails[name]}")


class Faults:
    """Breaks the system on a schedule, in a thread; every fault is undone before it returns."""

    def __init__(self, system, plan: Plan, rabbit, postgres, timeline: Timeline, stop):
        self.system, self.plan, self.rabbit, self.postgres = system, plan, rabbit, postgres
        self.timeline, self.stop = timeline, stop
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._guarded, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self) -> None:
        self._thread.join()

    def _guarded(self) -> None:
        try:
            self.run()
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            self.error = exc
            self.timeline.note(f"fault schedule failed: {type(exc).__name__}: {exc}")

    def _pause(self, seconds: float) -> None:
        if self.stop.wait(seconds):
            raise InterruptedError("stopped")

    def kill(self, name: str) -> None:
        proc = self.system.processes.get(name)
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            self.timeline.note(f"kill -9 {name}")

    def schedule(self) -> list[tuple[float, str, object]]:
        """(fraction of the load's planned duration, what, how): each fault starts at its point
        or when the one before is over, whichever is later."""
        plan, steps = self.plan, []
        for r in range(plan.kill_rounds):
            at = 0.03 + 0.52 * r / max(1, plan.kill_rounds - 1)
            steps.append((at, f"kill round {r + 1}", self.kill_every_worker))
        if plan.handler_fault > 0:
            steps.append((0.2, "handler fault", self.handler_fault))
        if plan.database_down > 0:
            steps.append((0.42, "database down", self.database_down))
        if plan.broker_down > 0:
            steps.append((0.65, "broker down", self.broker_down))
        return sorted(steps, key=lambda step: step[0])

    def run(self) -> None:
        planned = self.plan.orders / self.plan.rate
        for fraction, _, action in self.schedule():
            self._pause(max(0.0, self.timeline.start + fraction * planned - time.monotonic()))
            action()

    def kill_every_worker(self) -> None:
        workers = [n for n in self.system.process_names() if process_kind(n)[1] == "worker"]
        for i, name in enumerate(workers):
            if i:
                self._pause(self.plan.kill_gap)
            self.kill(name)

    def handler_fault(self) -> None:
        plan = self.plan
        names = self.system.worker_names(plan.fault_service)
        until = time.time() + plan.handler_fault
        for name in names:
            # Restarted by the supervisor with the fault switched on (and kept on any restart).
            self.system.process_env[name] = {"HANDLER_FAULT": f"fail_until:{until:.3f}"}
            self.kill(name)
        which = ", ".join(names)
        self.timeline.note(f"{which}: every handling fails for {plan.handler_fault:.0f} s")
        try:
            self._pause(max(0.0, until - time.time()))
        finally:
            for name in names:
                self.system.process_env[name] = {}
        self.timeline.note(f"{which}: handler fault over")

    def database_down(self) -> None:
        self.postgres.stop()
        self.timeline.note("PostgreSQL stopped (pg_ctl stop -m fast)")
        try:
            self._pause(self.plan.database_down)
        finally:
            if not self.stop.is_set():  # on the way out it is torn down anyway
                self.postgres.start()
                self.timeline.note("PostgreSQL started")

    def broker_down(self) -> None:
        node = self.plan.broker_stop == "node"
        how = "SIGTERM to the node" if node else "rabbitmqctl stop_app"
        self.timeline.note(f"RabbitMQ stopping ({how})")
        if node:
            self.rabbit.stop()
        else:
            self.rabbit.stop_app()
        self.timeline.note("RabbitMQ stopped")
        try:
            self._pause(self.plan.broker_down)
        finally:
            if not self.stop.is_set():
                self.timeline.note("RabbitMQ starting")
                took = self.rabbit.start() if node else self.rabbit.start_app()
                self.timeline.note(f"RabbitMQ accepting connections ({took:.1f} s to start)")


@dataclasses.dataclass
class Placed:
    accepted: dict[str, dict] = dataclasses.field(default_factory=dict)  # number -> what we sent
    refused: list[str] = dataclasses.field(default_factory=list)
    retried: int = 0  # tries answered 5xx or not at all, sent again with the same key


class Load:
    """Places ``plan.orders`` orders at ``plan.rate`` per second; a try answered 5xx or not at
    all is sent again with the same Idempotency-Key, as a careful client would."""

    RETRY_FOR = 180.0

    def __init__(self, system: System, plan: Plan, run_id: str, stop: threading.Event):
        self.system, self.plan, self.run_id, self.stop = system, plan, run_id, stop
        self.placed = Placed()
        self._lock = threading.Lock()
        self.client = login(system, demo.DEMO_RESELLER_USER)
        self.client.enter_customer(demo.ACME_ID, demo.ACME_CONTACT)
        self.client.timeout = 15

    def body(self, n: int) -> dict:
        return {
            "customer_id": demo.ACME_ID,
            "lines": [
                {
                    "kind": "new",
                    "product": "PC",
                    "quantity": 1 + n % self.plan.max_seats,
                    "term_years": 1,
                }
            ],
            "payment_method_id": demo.DEMO_CARD_METHOD_ID,
            "end_user": {
                "first_name": "Chaos",
                "last_name": f"N{n}",
                "email": f"chaos.{self.run_id}.{n}@acme.example",
            },
            "send_activation_email": True,
        }

    def place(self, n: int, started: float) -> None:
        if self.stop.wait(max(0.0, started + n / self.plan.rate - time.monotonic())):
            return
        body, key = self.body(n), str(uuid.uuid4())
        deadline, pause, outcome = time.monotonic() + self.RETRY_FOR, 0.5, "no answer"
        while time.monotonic() < deadline and not self.stop.is_set():
            try:
                resp = self.client.place_order(body, key=key)
            except requests.RequestException as exc:
                outcome = type(exc).__name__
            else:
                if resp.status_code == 201:
                    with self._lock:
                        self.placed.accepted[resp.json()["number"]] = body
                    return
                outcome = f"{resp.status_code} {resp.text[:160]}"
                if resp.status_code < 500 and resp.status_code != 429:
                    break
            with self._lock:
                self.placed.retried += 1
            self.stop.wait(pause)
            pause = min(pause * 2, 5.0)
        with self._lock:
            self.placed.refused.append(f"order {n}: {outcome}")

    def run(self) -> None:
        started = time.monotonic()
        with ThreadPoolExecutor(self.plan.concurrency) as pool:
            try:
                list(pool.map(lambda n: self.place(n, started), range(self.plan.orders)))
            except BaseException:
                self.stop.set()  # Ctrl-C: the waiting tries give up at once
                raise


# -- counting, from the data -------------------------------------------------------------------


@dataclasses.dataclass
class Count:
    orders: dict[str, dict]  # number -> {"seats", "total", "end_user"}
    invoices: Counter
    invoice_mismatch: list[str]
    charges: Counter  # approved charges at the payment sandbox, per order
    licenses: Counter  # distinct licenses per order
    mails: dict[tuple[str, str, str], set[str]]  # (recipient, kind, order) -> Message-IDs
    raw_mails: int
    outbox_unpublished: dict[str, int]
    mail_status: dict[str, int]
    dead_letters: dict[str, list[dict]]

    def expected_mails(self) -> list[tuple[str, str, str]]:
        reseller = demo.DEMO_RESELLER_USER
        keys = []
        for number, order in self.orders.items():
            keys += [(reseller, "order_confirmation", number), (reseller, "invoice_issued", number)]
            keys.append((order["end_user"], "activation", number))
        return keys

    def complete(self) -> bool:
        """Every order has all its effects and nothing is left in flight."""
        return (
            bool(self.orders)
            and all(self.invoices[n] >= 1 and self.charges[n] >= 1 for n in self.orders)
            and all(self.licenses[n] >= o["seats"] for n, o in self.orders.items())
            and all(self.mails.get(key) for key in self.expected_mails())
            and not any(self.outbox_unpublished.values())
            and not self.mail_status.get("pending")
        )


class Census:
    """Reads the run's orders and their effects from the services' databases, the mail sink and
    the dead-letter queues."""

    def __init__(self, system: System, run_id: str):
        self.system, self.run_id = system, run_id
        self.db = {
            spec.name: create_engine(
                system.env[f"{env_name(spec.name)}_DATABASE_URL"], pool_pre_ping=True
            )
            for spec in SERVICES
        }
        self._mail_cache: dict[str, tuple[str, str, list[str], set[str]]] = {}

    def close(self) -> None:
        for engine in self.db.values():
            engine.dispose()

    def _rows(self, service: str, sql: str, **params):
        statement = text(sql)
        for name, value in params.items():
            if isinstance(value, list | tuple):
                statement = statement.bindparams(bindparam(name, expanding=True))
        with self.db[service].connect() as conn:
            return conn.execute(statement, params).all()

    def count(self) -> Count:
        orders = {
            number: {"seats": int(seats), "total": Decimal(total), "end_user": email.lower()}
            for number, seats, total, email in self._rows(
                "orders",
                "SELECT o.number, sum(l.quantity), o.total, o.end_user_email FROM orders o "
                "JOIN order_lines l ON l.order_id = o.id WHERE o.end_user_email LIKE :pattern "
                "GROUP BY o.id, o.number, o.total, o.end_user_email",
                pattern=f"chaos.{self.run_id}.%",
            )
        }
        numbers = sorted(orders) or [""]
        invoices, mismatch = Counter(), []
        for number, amount in self._rows(
            "billing",
            "SELECT order_number, amount FROM invoices WHERE order_number IN :numbers",
            numbers=numbers,
        ):
            invoices[number] += 1
            if Decimal(amount) != orders[number]["total"]:
                mismatch.append(f"{number}: invoice {amount} != order {orders[number]['total']}")
        charges = Counter(
            dict(
                self._rows(
                    "billing",
                    "SELECT p.order_number, count(*) FROM sandbox_charges c JOIN payments p "
                    "ON p.idempotency_key = c.idempotency_key WHERE c.outcome = 'approved' "
                    "AND p.order_number IN :numbers GROUP BY p.order_number",
                    numbers=numbers,
                )
            )
        )
        licenses = Counter(
            dict(
                self._rows(
                    "license-assign",
                    "SELECT order_number, count(DISTINCT license_pk) FROM license_orders "
                    "WHERE order_number IN :numbers GROUP BY order_number",
                    numbers=numbers,
                )
            )
        )
        mails, raw = self._mails(orders)
        outbox = {
            name: int(
                self._rows(name, "SELECT count(*) FROM outbox WHERE published_at IS NULL")[0][0]
            )
            for name in self.db
        }
        mail_status = dict(
            self._rows(
                "notifications", "SELECT status, count(*) FROM outgoing_mail GROUP BY status"
            )
        )
        return Count(
            orders, invoices, mismatch, charges, licenses, mails, raw, outbox, mail_status, {}
        )

    def _mails(self, orders: dict[str, dict]):
        """Message-IDs the sink received per (recipient, kind, order), and the raw count."""
        by_end_user = {o["end_user"]: n for n, o in orders.items()}
        mails: dict[tuple[str, str, str], set[str]] = defaultdict(set)
        raw = 0
        for path in sorted(self.system.mail_dir.glob("*.eml")):
            if path.name not in self._mail_cache:
                message = read_mail(path)
                recipients = {
                    address.lower()
                    for _, address in getaddresses(
                        [str(message.get(h, "")) for h in ("To", "Cc") if message.get(h)]
                    )
                }
                self._mail_cache[path.name] = (
                    str(message.get("Message-ID", "")),
                    str(message.get("X-Portal-Template", "")),
                    sorted(recipients),
                    set(ORDER_NUMBER.findall(text_of(message))),
                )
            message_id, kind, recipients, numbers = self._mail_cache[path.name]
            ours = False
            for recipient in recipients:
                if recipient in by_end_user:
                    mails[(recipient, kind, by_end_user[recipient])].add(message_id)
                    ours = True
                else:
                    for number in numbers & orders.keys():
                        mails[(recipient, kind, number)].add(message_id)
                        ours = True
            raw += ours
        return dict(mails), raw

    def dead_letters(self, broker_url: str, prefix: str) -> dict[str, list[dict]]:
        found = {}
        for service in SUBSCRIPTIONS:
            config = Config(service=service, broker_url=broker_url, bus_prefix=prefix)
            with DeadLetters(config).open() as letters:
                found[service] = [letter.summary() for letter in letters]
        return found


def verdict(count: Count, placed: Placed) -> list[tuple[str, bool, str]]:
    """(check, passed, what was found) for the report."""
    numbers = set(count.orders)
    accepted = set(placed.accepted)
    seats = sum(o["seats"] for o in count.orders.values())
    per_key = {key: len(ids) for key, ids in count.mails.items()}
    expected = count.expected_mails()
    missing_mails = [key for key in expected if not per_key.get(key)]
    repeated_mails = {key: n for key, n in per_key.items() if n > 1}
    distinct = sum(per_key.values())
    kinds = Counter(kind for _, kind, _ in per_key)
    letters = sum(len(v) for v in count.dead_letters.values())
    return [
        (
            "orders",
            numbers == accepted and bool(numbers),
            f"{len(accepted)} accepted (201), {len(numbers)} in the orders database"
            + (
                f"; not accepted but stored: {sorted(numbers - accepted)[:5]}"
                if numbers - accepted
                else ""
            )
            + (
                f"; accepted but missing: {sorted(accepted - numbers)[:5]}"
                if accepted - numbers
                else ""
            ),
        ),
        (
            "invoices",
            sum(count.invoices.values()) == len(numbers)
            and all(count.invoices[n] == 1 for n in numbers)
            and not count.invoice_mismatch,
            f"{sum(count.invoices.values())} for {len(numbers)} orders, each for its order's total"
            + (f"; wrong: {count.invoice_mismatch[:3]}" if count.invoice_mismatch else ""),
        ),
        (
            "charges",
            all(count.charges[n] == 1 for n in numbers)
            and sum(count.charges.values()) == len(numbers),
            f"{sum(count.charges.values())} approved at the payment sandbox "
            f"for {len(numbers)} orders",
        ),
        (
            "licenses",
            all(count.licenses[n] == o["seats"] for n, o in count.orders.items()),
            f"{sum(count.licenses.values())} for {seats} seats",
        ),
        (
            "e-mails",
            not missing_mails and not repeated_mails and len(per_key) == len(expected),
            f"{distinct} distinct for {len(expected)} (recipient, kind, order) expected "
            f"({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))}); "
            f"{count.raw_mails} raw deliveries ({count.raw_mails - distinct} repeated by SMTP)"
            + (f"; missing: {missing_mails[:3]}" if missing_mails else "")
            + (
                f"; more than one message: {list(repeated_mails.items())[:3]}"
                if repeated_mails
                else ""
            ),
        ),
        (
            "dead letters",
            letters == 0,
            f"{letters}"
            + "".join(
                f"; {service}: {s['type']} {s['last_error']}"
                for service, summaries in count.dead_letters.items()
                for s in summaries[:3]
            ),
        ),
        (
            "in flight",
            not any(count.outbox_unpublished.values())
            and not count.mail_status.get("pending")
            and not count.mail_status.get("failed"),
            f"{sum(count.outbox_unpublished.values())} unpublished outbox rows, "
            f"{count.mail_status.get('pending', 0)} mails pending, "
            f"{count.mail_status.get('failed', 0)} failed",
        ),
    ]


def _environment(plan: Plan) -> dict[str, str]:
    env = {"LOG_LEVEL": "WARNING", "GATEWAY_CHECKOUT_PER_MINUTE": "0"}
    if plan.quick_retries:
        env.update({"RETRY_FIRST_DELAY": "0.2", "RETRY_MAX_DELAY": "5"})
    return env


def run(plan: Plan, out=print) -> bool:
    """The whole fault run; prints the report through ``out`` and returns whether it passed."""
    run_id = uuid.uuid4().hex[:8]
    var_dir = Path(tempfile.mkdtemp(prefix="portal-chaos-"))
    stop = threading.Event()
    out(f"chaos {run_id}: {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {machine()}; "
        f"load average {load_average()}")  # fmt: skip
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, var_dir, ignore_errors=True)
        postgres, rabbit = PrivatePostgres(), PrivateRabbitMQ()
        stack.callback(postgres.destroy)
        stack.callback(rabbit.destroy)
        began = time.monotonic()
        starting = threading.Thread(target=rabbit.start, daemon=True)
        starting.start()  # RabbitMQ takes a while: in parallel with initdb
        postgres.init()
        postgres.start()
        starting.join()
        if rabbit.process is None or rabbit.process.poll() is not None:
            rabbit.start()
        out(f"private PostgreSQL on :{postgres.port}, RabbitMQ node {rabbit.node} on "
            f":{rabbit.port} ({time.monotonic() - began:.0f} s to start both)")  # fmt: skip
        system = stack.enter_context(
            on_real_infrastructure(
                var_dir,
                CHAOS_PORT_OFFSET,
                _environment(plan),
                workers={spec.name: plan.workers for spec in SERVICES if spec.worker},
                broker=rabbit.url,
                postgres=postgres.admin_url,
            )
        )
        stack.enter_context(running(system))
        census = Census(system, run_id)
        stack.callback(census.close)
        out(f"system up ({time.monotonic() - began:.0f} s from the start); placing {plan.orders} "
            f"orders at {plan.rate:g}/s")  # fmt: skip
        timeline = Timeline()
        load = Load(system, plan, run_id, stop)
        faults = Faults(system, plan, rabbit, postgres, timeline, stop)
        # On the way out (Ctrl-C too), first stop the load and the faults, then the system.
        stack.callback(faults.join)
        stack.callback(stop.set)
        with Supervisor(system, timeline) as supervisor:
            timeline.start = time.monotonic()
            faults.start()
            load.run()
            timeline.note(f"last order answered ({len(load.placed.accepted)} accepted)")
            faults.join()
            if faults.error is not None:
                raise RuntimeError("the fault schedule failed") from faults.error
            calm = time.monotonic()
            timeline.note("load and faults over: draining")
            deadline = calm + plan.drain_timeout
            count = census.count()
            while not count.complete() and time.monotonic() < deadline:
                time.sleep(2)
                with contextlib.suppress(Exception):  # a read during a restart: count again
                    count = census.count()
            drained = time.monotonic() - calm
            complete = count.complete()
            time.sleep(5)  # late duplicates, if there were any, would land now
            count = census.count()
        count.dead_letters = census.dead_letters(system.env["BROKER_URL"], system.env["BUS_PREFIX"])
        placed = load.placed
        out("")
        out("\n".join(timeline.lines()))
        out("")
        restarts = sum(supervisor.restarts.values())
        out(f"{'offered':<13} {plan.orders} orders at {plan.rate:g}/s, {len(placed.accepted)} "
            f"accepted, {len(placed.refused)} refused, {placed.retried} tries sent again "
            f"(5xx or no answer); {restarts} process restarts")  # fmt: skip
        results = verdict(count, placed)
        for name, passed, found in results:
            out(f"{name:<13} {'ok  ' if passed else 'FAIL'} {found}")
        out(f"{'drained':<13} {'ok  ' if complete else 'FAIL'} "
            f"{drained:.1f} s after the load and the last fault ended")  # fmt: skip
        for refusal in placed.refused[:5]:
            out(f"  refused: {refusal}")
        for exit_ in supervisor.unexpected:
            out(f"  {exit_}")
        passed = complete and all(ok for _, ok, _ in results)
        out(f"chaos {run_id}: {'PASSED' if passed else 'FAILED'}")
        if not passed:
            keep = Path(tempfile.mkdtemp(prefix="portal-chaos-logs-"))
            shutil.copytree(system.log_dir, keep / "log", dirs_exist_ok=True)
            out(f"process logs kept in {keep}")
        return passed


def main(argv: list[str] | None = None) -> int:
    defaults = Plan()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for field in dataclasses.fields(Plan):
        flag = "--" + field.name.replace("_", "-")
        if field.type == "bool":
            parser.add_argument(flag, action="store_true")
        else:
            kind = {"int": int, "float": float, "str": str}[field.type]
            parser.add_argument(flag, type=kind, default=getattr(defaults, field.name))
    args = parser.parse_args(argv)

    def _terminate(*_):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _terminate)  # tear the private servers down on `kill` too
    plan = Plan(**{f.name: getattr(args, f.name) for f in dataclasses.fields(Plan)})
    return 0 if run(plan, out=lambda line: print(line, flush=True)) else 1


if __name__ == "__main__":
    raise SystemExit(main())
