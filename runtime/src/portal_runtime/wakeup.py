"""Doorbells: a loop that waits for committed work (the relay, the mail sender) is woken the
moment that work commits, instead of finding it at its next poll.

A writer rings after its commit; the loop waits on its doorbell with its sweep interval as the
timeout, so a lost ring only delays work until the next sweep, it never loses any. A ring
reaches the loop:

- in-process, when the loop runs in the writer's process (a worker's consumer and its relay);
- on PostgreSQL, through ``NOTIFY`` sent in the writer's transaction (so it is delivered at the
  commit, and never for a rolled-back one), to the loop's ``LISTEN`` connection;
- on SQLite (one machine by nature), through a datagram on a Unix socket the loop listens on.

A writer in the loop's own process may also hand it the committed rows themselves
(:func:`hand_over`), so the loop does not read them back: the mail sender sends the mails its
worker's consumer just queued, leased to it in their own insert, without claiming them first.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import tempfile
import threading
import time
from collections import deque

from sqlalchemy import text
from sqlalchemy.engine import Engine

from portal_runtime import logs

log = logs.get("wakeup")

_local: dict[tuple[str, str], Doorbell] = {}
_local_lock = threading.Lock()


def _key(engine: Engine, name: str) -> tuple[str, str]:
    return (str(engine.url), name)  # the password is masked: the same in writer and loop


def channel(name: str) -> str:
    return f"portal_{name}"


def socket_path(engine: Engine, name: str) -> str:
    """Where a SQLite database's loop listens (short: a Unix socket path has ~100 bytes)."""
    digest = hashlib.sha256(f"{engine.url}\0{name}".encode()).hexdigest()[:20]
    return os.path.join(tempfile.gettempdir(), f"portal-wake-{digest}.sock")


def _is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def listening_here(engine: Engine, name: str) -> bool:
    return _key(engine, name) in _local


def notify_in(session, name: str) -> None:
    """Call inside the writer's transaction, before its commit: rings other processes' loops
    on PostgreSQL (``NOTIFY`` is delivered at the commit, never for a rollback). Nothing to do
    when the loop runs in this process, or on SQLite (see :func:`ring`)."""
    engine = session.get_bind()
    if listening_here(engine, name) or _is_sqlite(engine):
        return
    session.execute(text(f"NOTIFY {channel(name)}"))


def ring(engine: Engine, name: str) -> None:
    """Call after the writer's commit: wakes a loop in this process, or on SQLite in another."""
    bell = _local.get(_key(engine, name))
    if bell is not None:
        bell.event.set()
        return
    if _is_sqlite(engine):
        with (
            contextlib.suppress(OSError),
            socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock,
        ):
            sock.setblocking(False)
            sock.sendto(b"1", socket_path(engine, name))


def hand_over(engine: Engine, name: str, item) -> bool:
    """Call after the writer's commit: give ``item`` (a committed row) to the loop listening in
    this process and ring it; False when no loop listens here (the item is not kept)."""
    bell = _local.get(_key(engine, name))
    if bell is None:
        return False
    bell.handed.append(item)
    bell.event.set()
    return True


def take_handed(engine: Engine, name: str, limit: int) -> list:
    """Up to ``limit`` of the items handed to this process's loop, oldest first."""
    bell = _local.get(_key(engine, name))
    if bell is None:
        return []
    items = []
    with contextlib.suppress(IndexError):
        while len(items) < limit:
            items.append(bell.handed.popleft())
    return items


class Doorbell:
    """What a loop waits on: rung in-process, by ``NOTIFY`` or by a datagram (see module)."""

    def __init__(self, engine: Engine, name: str):
        self.engine = engine
        self.name = name
        self.event = threading.Event()
        # Items handed over by writers in this process (``hand_over``); deque ends are atomic.
        self.handed: deque = deque()
        # Set once rings from other processes can arrive (LISTEN sent, socket bound).
        self.listening = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None

    def __enter__(self) -> Doorbell:
        with _local_lock:
            _local[_key(self.engine, self.name)] = self
        if _is_sqlite(self.engine):
            self._sock = self._bind()
            target = self._listen_socket if self._sock is not None else None
        else:
            target = self._listen_postgres
        if target is not None:
            self._thread = threading.Thread(target=target, name=f"doorbell-{self.name}")
            self._thread.daemon = True
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        with _local_lock:
            if _local.get(_key(self.engine, self.name)) is self:
                del _local[_key(self.engine, self.name)]
        if self._sock is not None:
            path = self._sock.getsockname()
            self._sock.close()
            with contextlib.suppress(OSError):
                os.unlink(path)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def wait(self, timeout: float, stop: threading.Event | None = None) -> bool:
        """Sleep until rung, ``timeout`` seconds passed or ``stop`` is set; True when rung.
        Clears the ring: work committed from here on rings again."""
        deadline = time.monotonic() + timeout
        rung = False
        while not rung:
            left = deadline - time.monotonic()
            if left <= 0 or (stop is not None and stop.is_set()):
                break
            rung = self.event.wait(min(left, 0.5))
        self.event.clear()
        return rung

    # -- SQLite: a datagram socket --------------------------------------------------------------

    def _bind(self) -> socket.socket | None:
        path = socket_path(self.engine, self.name)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            try:
                sock.bind(path)
            except OSError:
                # A socket file left by a process that died, or another loop listening: probe.
                with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as probe:
                    try:
                        probe.connect(path)
                        sock.close()
                        return None  # another loop listens; this one relies on its sweep
                    except OSError:
                        os.unlink(path)
                sock.bind(path)
        except OSError as exc:
            log.warning("doorbell.unavailable", name=self.name, error=str(exc))
            sock.close()
            return None
        sock.settimeout(1.0)
        self.listening.set()
        return sock

    def _listen_socket(self) -> None:
        while not self._stop.is_set():
            try:
                self._sock.recv(64)
            except TimeoutError:
                continue
            except OSError:
                return
            self.event.set()

    # -- PostgreSQL: LISTEN -------------------------------------------------------------------

    def _listen_postgres(self) -> None:
        import psycopg

        url = self.engine.url.set(drivername="postgresql")
        dsn = url.render_as_string(hide_password=False)
        backoff = 0.5
        while not self._stop.is_set():
            try:
                with psycopg.connect(dsn, autocommit=True) as conn:
                    conn.execute(f"LISTEN {channel(self.name)}")
                    self.listening.set()
                    backoff = 0.5
                    # Whatever committed while not listening is found by the next run.
                    self.event.set()
                    while not self._stop.is_set():
                        for _ in conn.notifies(timeout=1.0):
                            self.event.set()
            except psycopg.Error as exc:
                self.listening.clear()
                log.warning("doorbell.listen_failed", name=self.name, error=str(exc))
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)
