"""What Kubernetes relies on: pods wait for the migration Job's schema, workers report liveness."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

from portal_runtime import heartbeat
from portal_runtime.heartbeat import Heartbeat
from portal_runtime.migrations import await_migrations, schema_behind, upgrade


def run_orders(command: list[str], tmp_path, **env) -> subprocess.CompletedProcess:
    environment = {
        k: v for k, v in os.environ.items() if not k.endswith(("_DATABASE_URL", "BROKER_URL"))
    }
    environment.update(
        PORTAL_VAR_DIR=str(tmp_path),
        ORDERS_DATABASE_URL=f"sqlite:///{tmp_path / 'orders.db'}",
        **env,
    )
    return subprocess.run(
        [sys.executable, "-m", "orders", *command],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_pod_waits_for_the_migrations_and_starts_once_the_job_has_applied_them(tmp_path):
    url = f"sqlite:///{tmp_path / 'orders.db'}"
    assert schema_behind(url, "orders")  # a fresh database: every head is missing
    assert not await_migrations(url, "orders", timeout=0.3, interval=0.1)
    waited = run_orders(["await-migrations", "--timeout", "1"], tmp_path)
    assert waited.returncode == 1
    assert "not migrated" in waited.stderr and "python -m orders migrate" in waited.stderr

    assert run_orders(["migrate"], tmp_path).returncode == 0  # what the Job runs
    assert schema_behind(url, "orders") == []
    assert run_orders(["await-migrations", "--timeout", "1"], tmp_path).returncode == 0


def test_the_wait_ends_as_soon_as_another_process_migrates(tmp_path):
    url = f"sqlite:///{tmp_path / 'orders.db'}"
    migrator = threading.Timer(0.5, upgrade, args=(url, "orders"))
    migrator.start()
    started = time.monotonic()
    assert await_migrations(url, "orders", timeout=60, interval=0.1)
    assert time.monotonic() - started < 30
    migrator.join()


def test_a_database_already_ahead_of_the_code_does_not_hold_an_old_pod(tmp_path):
    url = f"sqlite:///{tmp_path / 'orders.db'}"
    upgrade(url, "orders")
    from sqlalchemy import create_engine, text

    with create_engine(url).begin() as conn:  # as if a newer release had migrated it
        conn.execute(text("UPDATE alembic_version SET version_num = 'f00dfacefeed'"))
    assert schema_behind(url, "orders") == []


def test_the_heartbeat_is_touched_only_while_every_worker_thread_runs(tmp_path):
    path = tmp_path / "heartbeat"
    stop = threading.Event()
    alive = threading.Thread(target=stop.wait)
    alive.start()
    dead = threading.Thread(target=lambda: None)
    dead.start()
    dead.join()
    beat = Heartbeat(path, every=0)
    beat.beat([alive, dead])
    assert not path.exists()
    assert heartbeat.main([str(path)]) == 1  # no heartbeat yet: the probe fails
    beat.beat([alive])
    assert path.exists()
    assert heartbeat.main([str(path), "--max-age", "60"]) == 0
    old = time.time() - 120
    os.utime(path, (old, old))
    assert heartbeat.main([str(path), "--max-age", "60"]) == 1
    stop.set()
    alive.join()


def test_a_running_worker_touches_its_heartbeat_file(tmp_path):
    path = tmp_path / "alive"
    assert run_orders(["migrate"], tmp_path).returncode == 0
    worker = subprocess.Popen(
        [sys.executable, "-m", "orders", "worker"],
        env={
            **{k: v for k, v in os.environ.items() if not k.endswith(("_DATABASE_URL", "_URL"))},
            "PORTAL_VAR_DIR": str(tmp_path),
            "ORDERS_DATABASE_URL": f"sqlite:///{tmp_path / 'orders.db'}",
            "WORKER_HEARTBEAT_FILE": str(path),
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not path.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert heartbeat.main([str(path)]) == 0
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def test_a_plain_postgresql_url_from_an_operators_secret_uses_the_installed_driver():
    from portal_runtime.db import make_engine

    for url in ("postgresql://app:pw@postgres-rw:5432/orders", "postgres://app:pw@db/orders"):
        engine = make_engine(url)  # no connection is made
        assert engine.url.drivername == "postgresql+psycopg"
        assert engine.url.database == "orders"
