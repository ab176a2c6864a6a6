"""Configuration from the environment, with defaults that run the embedded system.

The infrastructure switches have fixed names (ARCHITECTURE.md): ``BROKER_URL``,
``<SERVICE>_DATABASE_URL``, ``SMTP_URL``, ``GATEWAY_PORT``. Everything else is a plain setting with
a working default, so that ``make run`` needs no environment at all.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from portal_runtime import keys

# Ports of the services behind the gateway on one machine; the gateway reaches them by URL.
SERVICE_PORTS = {
    "gateway": 8080,
    "catalog": 8081,
    "cart-quote": 8082,
    "orders": 8083,
    "billing": 8084,
    "license-assign": 8085,
    "notifications": 8086,
    # The portal's pages (no database, no worker); the gateway forwards /portal/* to it.
    "portal": 8087,
}


def env_name(service: str) -> str:
    """``cart-quote`` -> ``CART_QUOTE``: the prefix of a service's own variables."""
    return service.upper().replace("-", "_")


def var_dir() -> Path:
    """Where the embedded default keeps its files (SQLite, bus, mail)."""
    return Path(os.environ.get("PORTAL_VAR_DIR", "var")).resolve()


def web_threads() -> int:
    """Threads of each gunicorn worker of a web process (``WEB_THREADS``, 8 unless set)."""
    return int(os.environ.get("WEB_THREADS") or 8)


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def secret(name: str, development_default: str, service: str) -> str:
    """A shared secret from the environment (see ``portal_runtime.keys.secret``)."""
    return keys.secret(name, development_default, service)


def service_url(service: str) -> str:
    """Base URL of a service's web process, e.g. ``ORDERS_URL``."""
    default = f"http://127.0.0.1:{SERVICE_PORTS[service]}"
    return os.environ.get(f"{env_name(service)}_URL", default).rstrip("/")


@dataclass
class Config:
    """Settings every service shares; a service subclasses it for its own."""

    service: str
    database_url: str = ""
    broker_url: str = ""
    # Name prefix for exchanges and queues, so test runs can share one broker.
    bus_prefix: str = ""
    # This process's identity signing key and the public keys it verifies with
    # (portal_runtime.keys); None: loaded from the environment when first needed.
    identity_keys: keys.IdentityKeys | None = None
    # Must every secret come from the environment (production, or real broker/databases)?
    strict: bool = False
    log_level: str = "INFO"
    # Consumer: a failing handler is tried again after retry_first_delay seconds, then twice as
    # long each time up to retry_max_delay between tries, until retry_for seconds have passed
    # since its first failure; then its message is dead-lettered (portal_runtime.retry).
    retry_first_delay: float = 1.0
    retry_max_delay: float = 300.0
    retry_for: float = 24 * 3600.0
    prefetch_count: int = 10
    # Deliveries already waiting are handled together, up to this many per transaction.
    consume_batch: int = 20
    heartbeat: int = 30
    # Relay: how many outbox rows it claims at once, and how often it sweeps the outbox when no
    # commit woke it (a safety net: every commit with outbox rows wakes it at once).
    relay_batch: int = 100
    relay_poll_interval: float = 1.0
    publish_retries: int = 5
    http_timeout: float = 5.0
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, service: str, **overrides) -> Config:
        prefix = env_name(service)
        base = var_dir()
        values = dict(
            service=service,
            database_url=os.environ.get(
                f"{prefix}_DATABASE_URL", f"sqlite:///{base / (service + '.db')}"
            ),
            broker_url=os.environ.get("BROKER_URL", f"filesystem://{base / 'bus'}"),
            bus_prefix=os.environ.get("BUS_PREFIX", ""),
            strict=keys.strict(service),
            log_level=os.environ.get("LOG_LEVEL", "INFO"),
            retry_first_delay=_float("RETRY_FIRST_DELAY", 1.0),
            retry_max_delay=_float("RETRY_MAX_DELAY", 300.0),
            retry_for=_float("RETRY_FOR", 24 * 3600.0),
            prefetch_count=_int("PREFETCH_COUNT", 10),
            consume_batch=max(1, _int("CONSUME_BATCH", 20)),
            heartbeat=_int("BROKER_HEARTBEAT", 30),
            relay_batch=_int("RELAY_BATCH", 100),
            relay_poll_interval=_float("RELAY_POLL_INTERVAL", 1.0),
            publish_retries=_int("PUBLISH_RETRIES", 5),
            http_timeout=_float("HTTP_TIMEOUT", 5.0),
        )
        values.update(overrides)
        if values.get("identity_keys") is None:
            values["identity_keys"] = keys.identity_keys(service, strict_mode=values["strict"])
        return cls(**values)
