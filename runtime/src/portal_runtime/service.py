"""A composed service: config, database, messaging, handlers, jobs and adapters in one object.

Each service's ``bootstrap()`` builds one of these, and it is the only place that picks real or
fake adapters; the web app, the worker and the tests all go through it. The adapters, with
``config`` and ``clock``, are the service's dependencies: event and command handlers receive the
ones they name as parameters (``portal_runtime.commands.inject``), and ``service.handle(command)``
runs a command in a unit of work and commits.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass

from portal_contracts import subscribed_types
from portal_runtime import gc_tuning, logs, wakeup
from portal_runtime.clock import Clock
from portal_runtime.commands import CommandBus, inject_all
from portal_runtime.config import Config
from portal_runtime.consumer import EventConsumer, Handler
from portal_runtime.db import MessagingModels, make_engine, reading_engine, session_factory
from portal_runtime.heartbeat import Heartbeat
from portal_runtime.metrics import Backlog
from portal_runtime.migrations import upgrade
from portal_runtime.relay import Relay
from portal_runtime.uow import UnitOfWork


@dataclass(frozen=True)
class Job:
    """Work a service's worker runs every ``every_seconds`` (e.g. marking overdue invoices).

    With ``wake``, the job also runs as soon as a unit of work that called ``uow.wake(wake)``
    commits, and again at once while a run reports work done (a truthy result); the interval is
    then only its sweep.
    """

    name: str
    every_seconds: float
    run: Callable[[Service], object]
    wake: str | None = None


class Service:
    def __init__(
        self,
        config: Config,
        package: str,
        models: MessagingModels,
        handlers: dict[str, list[Handler]] | None = None,
        jobs: tuple[Job, ...] = (),
        commands: dict[type, Callable] | None = None,
        clock: Clock | None = None,
        backlogs: tuple[Backlog, ...] = (),
        **adapters,
    ):
        self.config = config
        self.package = package
        self.models = models
        expected = subscribed_types(config.service)
        if set(handlers or {}) != expected:
            raise RuntimeError(
                f"{config.service} handles {sorted(handlers or {})} but SUBSCRIPTIONS binds "
                f"{sorted(expected)}: change them together"
            )
        self.jobs = tuple(jobs)
        # Gauges the worker's /metrics samples at each scrape (besides the outbox's).
        self.backlogs = tuple(backlogs)
        self.clock = clock or Clock()
        self.adapters = adapters
        for name, adapter in adapters.items():
            setattr(self, name, adapter)
        # What handlers may ask for by parameter name.
        self.deps = {"config": config, "clock": self.clock, **adapters}
        self.handlers = inject_all(handlers or {}, self.deps)
        self.engine = make_engine(config.database_url)
        self.sessions = session_factory(self.engine)
        # Look-ups that write nothing: the same pool, no transaction of their own (PostgreSQL).
        self.reader = reading_engine(self.engine)
        self.read_sessions = session_factory(self.reader)
        self.commands = CommandBus(commands or {}, self.uow, self.deps)

    def handle(self, command, **uow_args):
        """Run ``command``'s handler in a unit of work and commit; returns what it returned.

        ``uow=`` runs it inside a unit of work the caller commits; otherwise ``correlation_id``
        and the other arguments of ``uow()`` may be given."""
        return self.commands.handle(command, **uow_args)

    def uow(
        self,
        correlation_id: str | None = None,
        causation_id: str | None = None,
        traceparent: str | None = None,
    ) -> UnitOfWork:
        return UnitOfWork(
            self.sessions,
            self.models,
            self.config.service,
            correlation_id=correlation_id,
            causation_id=causation_id,
            traceparent=traceparent,
        )

    def migrate(self) -> None:
        upgrade(self.config.database_url, self.package)

    def relay(self) -> Relay:
        return Relay(self.config, self.sessions, self.models)

    def consumer(self) -> EventConsumer:
        return EventConsumer(self.config, self.handlers, self.uow, self.models)

    def run_worker(
        self,
        stop: threading.Event | None = None,
        relay: bool = True,
        consume: bool = True,
        jobs: bool = True,
    ) -> None:
        """The worker process: relay, consumer and jobs in threads until SIGTERM or SIGINT."""
        stop = stop or threading.Event()
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: stop.set())
        log = logs.get("worker")
        threads = []
        if relay:
            threads.append(threading.Thread(target=self.relay().run, args=(stop,), name="relay"))
        if consume and self.handlers:
            threads.append(
                threading.Thread(target=self.consumer().run, args=(stop,), name="consumer")
            )
        if jobs:
            for job in self.jobs:
                threads.append(
                    threading.Thread(target=self._run_job, args=(job, stop), name=job.name)
                )
        gc_tuning.freeze_startup()
        for thread in threads:
            thread.daemon = True
            thread.start()
        log.info("worker.started", threads=[t.name for t in threads])
        heartbeat = Heartbeat.from_env()  # liveness: touched while every thread runs
        while not stop.is_set():
            heartbeat.beat(threads)
            stop.wait(0.5)
        for thread in threads:
            thread.join(timeout=10)
        log.info("worker.stopped")

    def _run_job(self, job: Job, stop: threading.Event) -> None:
        if job.wake is None:
            self._job_loop(job, stop, lambda: stop.wait(job.every_seconds))
            return
        with wakeup.Doorbell(self.engine, job.wake) as doorbell:
            self._job_loop(job, stop, lambda: doorbell.wait(job.every_seconds, stop))

    def _job_loop(self, job: Job, stop: threading.Event, wait: Callable[[], object]) -> None:
        log = logs.get("job")
        while not stop.is_set():
            done = None
            try:
                done = job.run(self)
            except Exception as exc:  # noqa: BLE001 - a failing run is logged; the next one tries again
                log.error("job.failed", job=job.name, error=f"{type(exc).__name__}: {exc}")
            if not (job.wake and done):
                wait()
