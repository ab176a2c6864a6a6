"""The command line every service shares: ``python -m <service> web|worker|migrate|seed|...``."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable

from portal_runtime import logs, metrics, tracing
from portal_runtime.config import SERVICE_PORTS, env_name, web_threads
from portal_runtime.keys import InsecureConfiguration
from portal_runtime.migrations import await_migrations, make_revision


def main(
    service_name: str,
    package: str,
    bootstrap: Callable,
    seed: Callable | None = None,
    argv: list[str] | None = None,
) -> None:
    parser = argparse.ArgumentParser(prog=f"python -m {package}")
    sub = parser.add_subparsers(dest="command", required=True)
    web = sub.add_parser("web", help="serve the HTTP API with gunicorn")
    web.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get(f"{env_name(service_name)}_PORT", SERVICE_PORTS[service_name])),
    )
    web.add_argument("--workers", type=int, default=int(os.environ.get("WEB_WORKERS", "1")))
    worker = sub.add_parser("worker", help="run the consumer, the relay and scheduled jobs")
    worker.add_argument("--no-relay", action="store_true")
    worker.add_argument("--no-consumer", action="store_true")
    worker.add_argument("--no-jobs", action="store_true")
    sub.add_parser("relay", help="run only the outbox relay")
    sub.add_parser("migrate", help="apply database migrations")
    wait = sub.add_parser(
        "await-migrations",
        help="wait until the database has this code's schema (a pod's init container: the "
        "migration Job applies it, web and worker processes never do)",
    )
    wait.add_argument("--timeout", type=float, default=600.0, help="seconds (default 600)")
    sub.add_parser("seed", help="load the demo data (idempotent)")
    dlq = sub.add_parser("dlq", help="see, replay or drop this service's dead letters")
    dlq.add_argument("action", choices=["list", "show", "replay", "drop"])
    dlq.add_argument("ids", nargs="*", metavar="ID", help="message ids (see `dlq list`)")
    dlq.add_argument("--all", action="store_true", help="with replay: every dead letter")
    rev = sub.add_parser("makemigration", help="autogenerate a migration from the models")
    rev.add_argument("message")
    args = parser.parse_args(argv)

    level = os.environ.get("LOG_LEVEL", "INFO")
    logs.configure(service_name, level)
    try:
        # A missing, placeholder or short secret stops every command here, saying which.
        service = bootstrap()
        if args.command == "web":
            importlib.import_module(f"{package}.bootstrap").create_app(service)
    except InsecureConfiguration as exc:
        print(f"{package}: refusing to start: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    if args.command == "web":
        serve_with_gunicorn(
            service_name, f"{package}.bootstrap:create_app()", args.port, args.workers
        )
    if args.command == "dlq":
        if args.action in ("show", "drop") and not args.ids:
            parser.error(f"dlq {args.action} needs an ID (see dlq list)")
        if args.action == "replay" and not (args.ids or args.all):
            parser.error("dlq replay needs IDs or --all")
    if args.command == "dlq":
        from portal_runtime.dead_letters import command

        sys.exit(command(service.config, args.action, args.ids, replay_all=args.all))
    if args.command == "migrate":
        service.migrate()
    elif args.command == "await-migrations":
        if not await_migrations(service.config.database_url, package, args.timeout):
            print(
                f"{package}: the database is not migrated to this release after "
                f"{args.timeout:.0f} s (run `python -m {package} migrate`)",
                file=sys.stderr,
            )
            raise SystemExit(1)
    elif args.command == "seed":
        if seed is not None:
            seed(service)
    elif args.command == "worker":
        metrics.serve_worker_metrics(service)
        tracing.configure(service_name)
        service.run_worker(
            relay=not args.no_relay, consume=not args.no_consumer, jobs=not args.no_jobs
        )
    elif args.command == "relay":
        metrics.serve_worker_metrics(service)
        tracing.configure(service_name)
        service.run_worker(consume=False, jobs=False)
    elif args.command == "makemigration":
        make_revision(service.config.database_url, package, args.message)


def serve_with_gunicorn(name: str, app: str, port: int, workers: int) -> None:
    """Replace this process with gunicorn serving ``app`` (``module:factory()``) on ``port``.

    Its workers share a fresh ``PROMETHEUS_MULTIPROC_DIR`` (``portal_runtime.metrics``), so that
    ``/metrics`` adds up all of them, whichever worker answers the scrape."""
    os.environ[metrics.MULTIPROC_DIR] = str(metrics.multiprocess_dir(f"{name}-web", port))
    # Threads keep one slow read from blocking the rest.
    threads = str(web_threads())
    os.execvp(
        sys.executable,
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            # Containers bind all interfaces; one machine keeps to loopback.
            f"{os.environ.get('WEB_BIND_HOST', '127.0.0.1')}:{port}",
            "--workers",
            str(workers),
            "--threads",
            threads,
            "--timeout",
            "30",
            "--graceful-timeout",
            "5",
            # Idle keep-alive connections stay open longer than callers usually pause.
            "--keep-alive",
            os.environ.get("WEB_KEEPALIVE", "15"),
            "--log-level",
            "warning",
            # Hooks: the start-up state frozen out of the garbage collector's walks.
            "--config",
            "python:portal_runtime.gc_tuning",
            app,
        ],
    )
