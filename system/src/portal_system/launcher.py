"""The whole portal as processes on one machine: what ``make run`` and the end-to-end tests start.

Every service runs as a ``web`` process (gunicorn) and a ``worker`` process (consumer, relay and
jobs; the gateway's worker only relays its outbox). Infrastructure comes from the environment:
with no ``BROKER_URL``, database URLs or ``SMTP_URL`` set, the embedded default is used (SQLite
files and the filesystem bus under the var folder, and a local mail sink writing ``.eml`` files).
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from portal_runtime.config import SERVICE_PORTS, env_name
from portal_runtime.keys import generate_environment, private_variable
from portal_runtime.metrics import WORKER_PORT_STEP


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    package: str
    worker: bool = True


SERVICES = (
    ServiceSpec("license-assign", "license_assign"),
    ServiceSpec("catalog", "catalog"),
    ServiceSpec("cart-quote", "cart_quote"),
    ServiceSpec("orders", "orders"),
    ServiceSpec("billing", "billing"),
    ServiceSpec("notifications", "notifications"),
    ServiceSpec("gateway", "gateway"),
)

# The portal's pages: one web process, no database, no worker; users reach it through the gateway.
PORTAL = "portal"
PORTAL_PACKAGE = "portal"

MAIL_SINK_PORT = 1025
# A process's name: ``<service>-web``, ``<service>-worker``, or ``<service>-worker-<n>`` for the
# n-th of several worker processes of one service (``System(workers={"billing": 3})``).
PROCESS_NAME = re.compile(r"(?P<service>[a-z-]+?)-(?P<kind>web|worker)(?:-(?P<n>\d+))?")


def process_kind(name: str) -> tuple[str, str]:
    """``billing-worker-2`` -> ``("billing", "worker")``; ``mailsink`` -> ``("mailsink", "")``."""
    match = PROCESS_NAME.fullmatch(name)
    return (match["service"], match["kind"]) if match else (name, "")


class System:
    """Start, watch and stop the portal's processes."""

    def __init__(
        self,
        env: dict[str, str] | None = None,
        var_dir: Path | str = "var",
        port_offset: int = 0,
        workers: dict[str, int] | None = None,
    ):
        self.var_dir = Path(var_dir).resolve()
        self.port_offset = port_offset
        # How many worker processes a service runs (1 unless named): competing consumers of
        # its queue, each with its relay and jobs, as replicas of a Deployment would be.
        self.workers = dict(workers or {})
        self.env = self._environment(dict(os.environ if env is None else env))
        self.log_dir = self.var_dir / "log"
        self.processes: dict[str, subprocess.Popen] = {}
        # The extra environment each process was last started with: a restart keeps it.
        self.process_env: dict[str, dict[str, str]] = {}

    # -- configuration ------------------------------------------------------------------------

    def port(self, service: str) -> int:
        return SERVICE_PORTS[service] + self.port_offset

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.port(service)}"

    def metrics_port(self, service: str, n: int = 1) -> int:
        """Where a service's n-th worker serves its /metrics (web processes serve their own):
        the web port + 10 n, inside the system's block of 100 ports for up to 9 workers."""
        return self.port(service) + WORKER_PORT_STEP * n

    def metrics_urls(self) -> dict[str, str]:
        """Every process's /metrics, by process name (``orders-web``, ``orders-worker``, ...)."""
        urls = {}
        for spec in SERVICES:
            urls[f"{spec.name}-web"] = self.url(spec.name) + "/metrics"
            if spec.worker:
                for n, name in enumerate(self.worker_names(spec.name), start=1):
                    port = self.metrics_port(spec.name, n)
                    urls[name] = f"http://127.0.0.1:{port}/metrics"
        urls[f"{PORTAL}-web"] = self.url(PORTAL) + "/metrics"
        return urls

    @property
    def gateway_url(self) -> str:
        return self.url("gateway") + "/api/v1"

    @property
    def portal_url(self) -> str:
        """Where users open the portal: the gateway forwards ``/portal/*`` to its process."""
        return self.url("gateway") + "/portal/"

    @property
    def embedded_mail(self) -> bool:
        return self._own_sink

    @property
    def mail_dir(self) -> Path:
        return self.var_dir / "mail"

    def _environment(self, env: dict[str, str]) -> dict[str, str]:
        env["PORTAL_VAR_DIR"] = str(self.var_dir)
        env.setdefault("PYTHONUNBUFFERED", "1")
        for spec in SERVICES:
            env[f"{env_name(spec.name)}_PORT"] = str(self.port(spec.name))
            env[f"{env_name(spec.name)}_URL"] = self.url(spec.name)
            if spec.worker:
                env[f"{env_name(spec.name)}_METRICS_PORT"] = str(self.metrics_port(spec.name))
        env[f"{env_name(PORTAL)}_PORT"] = str(self.port(PORTAL))
        env[f"{env_name(PORTAL)}_URL"] = self.url(PORTAL)
        env["GATEWAY_PORT"] = str(self.port("gateway"))
        env.setdefault("PORTAL_BASE_URL", self.url("gateway"))
        self._own_sink = "SMTP_URL" not in env
        if self._own_sink:
            env["SMTP_URL"] = f"smtp://127.0.0.1:{MAIL_SINK_PORT + self.port_offset}"
        return env

    def describe(self) -> dict[str, str]:
        """Where things run, for the banner and the README."""
        return {
            "portal": self.portal_url,
            "gateway": self.gateway_url,
            "openapi": self.gateway_url + "/openapi.json",
            "docs": self.gateway_url + "/docs",
            "broker": self.env.get("BROKER_URL", f"filesystem://{self.var_dir / 'bus'}"),
            "databases": (self.env.get("ORDERS_DATABASE_URL") and "PostgreSQL (per service)")
            or f"SQLite files in {self.var_dir}",
            "mail": f"{self.mail_dir} (.eml files)" if self._own_sink else self.env["SMTP_URL"],
            "logs": str(self.log_dir),
        }

    # -- one-off commands ---------------------------------------------------------------------

    def _run_all(self, command: str) -> None:
        """Run ``python -m <pkg> <command>`` for every service, in parallel, failing loudly."""
        self.var_dir.mkdir(parents=True, exist_ok=True)
        running = {
            spec.name: subprocess.Popen(
                [sys.executable, "-m", spec.package, command],
                env=self.env_for(spec.name),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for spec in SERVICES
        }
        failed = []
        for name, proc in running.items():
            output, _ = proc.communicate(timeout=300)
            if proc.returncode != 0:
                failed.append(f"--- {name} {command} failed ({proc.returncode}):\n{output[-3000:]}")
        if failed:
            raise RuntimeError("\n".join(failed))

    def migrate(self) -> None:
        self._run_all("migrate")

    def seed(self) -> None:
        self._run_all("seed")

    # -- processes ----------------------------------------------------------------------------

    def process_names(self) -> list[str]:
        names = ["mailsink"] if self._own_sink else []
        for spec in SERVICES:
            names.append(f"{spec.name}-web")
            if spec.worker:
                names.extend(self.worker_names(spec.name))
        names.append(f"{PORTAL}-web")
        return names

    def worker_names(self, service: str) -> list[str]:
        count = self.workers.get(service, 1)
        return [f"{service}-worker"] + [f"{service}-worker-{n}" for n in range(2, count + 1)]

    def command(self, name: str) -> list[str]:
        if name == "mailsink":
            return [
                sys.executable,
                "-m",
                "portal_system.mailsink",
                "--dir",
                str(self.mail_dir),
                "--port",
                str(MAIL_SINK_PORT + self.port_offset),
            ]
        if name == f"{PORTAL}-web":
            return [sys.executable, "-m", PORTAL_PACKAGE, "web"]
        service, kind = process_kind(name)
        spec = next(s for s in SERVICES if s.name == service)
        return [sys.executable, "-m", spec.package, kind]

    def env_for(self, service: str) -> dict[str, str]:
        """The environment of one service's processes: its own signing key, no other's."""
        own = private_variable(service)
        return {k: v for k, v in self.env.items() if k == own or not k.endswith("_IDENTITY_KEY")}

    def start_process(self, name: str, extra_env: dict[str, str] | None = None) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.process_env[name] = dict(extra_env or {})
        log = open(self.log_dir / f"{name}.log", "ab")  # noqa: SIM115 - the child owns it
        service, kind = process_kind(name)
        own = {}
        if kind == "worker":
            n = self.worker_names(service).index(name) + 1
            own[f"{env_name(service)}_METRICS_PORT"] = str(self.metrics_port(service, n))
        self.processes[name] = subprocess.Popen(
            self.command(name),
            env={**self.env_for(service), **own, **(extra_env or {})},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def stop_process(self, name: str, sig: int = signal.SIGTERM, timeout: float = 15) -> int | None:
        return self.stop_processes([name], sig, timeout).get(name)

    def stop_processes(
        self, names: list[str], sig: int = signal.SIGTERM, timeout: float = 15
    ) -> dict[str, int | None]:
        """Signal every named process at once, then wait for all of them together; one still
        running after ``timeout`` seconds is killed. Their exit codes, by name."""
        procs = {name: self.processes.pop(name, None) for name in names}
        for proc in procs.values():
            if proc is not None and proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, sig)
        deadline = time.monotonic() + timeout
        codes: dict[str, int | None] = {}
        for name, proc in procs.items():
            if proc is None:
                codes[name] = None
                continue
            try:
                codes[name] = proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                codes[name] = proc.wait(timeout=5)
        return codes

    def restart_exited(self) -> dict[str, int]:
        """Start again every process that has exited (a crash, a ``kill -9``), with the
        environment it was last started with, as ``make run`` does; their exit codes, by name."""
        exited = {
            name: p.returncode for name, p in list(self.processes.items()) if p.poll() is not None
        }
        for name in exited:
            self.start_process(name, self.process_env.get(name))
        return exited

    def ports(self) -> list[int]:
        ports = [self.port(spec.name) for spec in SERVICES] + [self.port(PORTAL)]
        ports += [
            self.metrics_port(spec.name, n)
            for spec in SERVICES
            if spec.worker
            for n in range(1, len(self.worker_names(spec.name)) + 1)
        ]
        return ports + ([MAIL_SINK_PORT + self.port_offset] if self._own_sink else [])

    def start(self) -> None:
        # A port already taken means another system is running there: its health checks would
        # answer for ours, so refuse instead of talking to the wrong system.
        busy = [port for port in self.ports() if _port_in_use(port)]
        if busy:
            raise RuntimeError(f"ports already in use (another portal running?): {busy}")
        for name in self.process_names():
            self.start_process(name)

    def wait_ready(self, timeout: float = 90) -> None:
        """Wait until every web process answers ``/healthz``; fail naming a process that died."""
        deadline = time.monotonic() + timeout
        pending = {spec.name for spec in SERVICES} | {PORTAL}
        while pending:
            self.check_alive()
            for service in list(pending):
                try:
                    if requests.get(self.url(service) + "/healthz", timeout=1).status_code == 200:
                        pending.discard(service)
                except requests.RequestException:
                    pass
            if pending and time.monotonic() > deadline:
                raise TimeoutError(f"not answering after {timeout}s: {sorted(pending)}")
            if pending:
                time.sleep(0.3)

    def check_alive(self) -> None:
        dead = {name: p.returncode for name, p in self.processes.items() if p.poll() is not None}
        if dead:
            tails = "\n".join(f"--- {n} exited {rc}:\n{self.log_tail(n)}" for n, rc in dead.items())
            raise RuntimeError(f"processes exited: {sorted(dead)}\n{tails}")

    def log_tail(self, name: str, chars: int = 3000) -> str:
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def stop(self) -> None:
        # Web processes first (no new work), then workers, then the mail sink; each kind at once.
        names = list(self.processes)
        webs = [n for n in names if process_kind(n)[1] == "web"]
        workers = [n for n in names if process_kind(n)[1] == "worker"]
        for group in (webs, workers, [n for n in names if n == "mailsink"]):
            self.stop_processes(group)


def free_port_offset(first: int, step: int = 100, tries: int = 50) -> int:
    """The first offset from ``first`` (in ``step``s) whose ports are all free, so that several
    systems (test runs, a benchmark, ``make run``) can run side by side on one machine. Each
    process starts looking at a block of its own (by pid), so two runs starting at the same
    moment rarely both take the first free block."""
    start = os.getpid() % 10
    for slot in [*range(start, tries), *range(start)]:
        offset = first + step * slot
        ports = [SERVICE_PORTS[s.name] + offset for s in SERVICES] + [MAIL_SINK_PORT + offset]
        ports.append(SERVICE_PORTS[PORTAL] + offset)
        ports += [SERVICE_PORTS[s.name] + WORKER_PORT_STEP + offset for s in SERVICES if s.worker]
        if not any(_port_in_use(port) for port in ports):
            return offset
    raise RuntimeError(f"no free block of ports from offset {first}")


def _port_in_use(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True
    return False


@contextlib.contextmanager
def on_real_infrastructure(
    var_dir: Path,
    port_offset: int,
    extra_env: dict | None = None,
    workers: dict[str, int] | None = None,
    *,
    broker: str | None = None,
    postgres: str | None = None,
):
    # ``port_offset`` is where to start looking for a free block of ports.
    """A system on the real RabbitMQ (a fresh bus prefix) and PostgreSQL (a fresh database per
    service), torn down afterwards: for the end-to-end tests and the benchmark.

    ``broker`` (an AMQP URL) and ``postgres`` (an admin URL) name private servers instead of the
    machine's (``make chaos``): they are thrown away whole, so nothing is cleaned up on them."""
    from portal_runtime.testing import (
        broker_url,
        bus_prefix,
        create_database,
        delete_bus,
        postgres_database,
    )

    url, prefix = broker or broker_url(), bus_prefix()
    with contextlib.ExitStack() as stack:
        env = clean_environment()
        # Real broker and databases: every process needs real keys, or it refuses to start.
        env.update(generate_environment())
        env.update({"BROKER_URL": url, "BUS_PREFIX": prefix, **(extra_env or {})})
        for spec in SERVICES:
            env[f"{env_name(spec.name)}_DATABASE_URL"] = (
                create_database(spec.name, postgres)
                if postgres
                else stack.enter_context(postgres_database(spec.name))
            )
        if not broker:
            stack.callback(delete_bus, url, prefix)
        yield System(env, var_dir, free_port_offset(port_offset), workers=workers)


def clean_environment() -> dict[str, str]:
    """This process's environment less anything that would point a system elsewhere."""
    env = dict(os.environ)
    for key in list(env):
        if key.endswith(("_DATABASE_URL", "_URL", "_PORT")) or key in ("BROKER_URL", "BUS_PREFIX"):
            env.pop(key)
    return env


@contextlib.contextmanager
def running(system: System, ready_timeout: float = 120):
    """Migrate, seed, start and wait for ``system``; stop it on the way out."""
    try:
        system.migrate()
        system.seed()
        system.start()
        system.wait_ready(ready_timeout)
        yield system
    finally:
        system.stop()
