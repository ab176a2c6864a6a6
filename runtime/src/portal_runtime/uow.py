"""The unit of work: one transaction, and the events it records, committed together.

A handler changes state through ``uow.session`` and records outgoing events with
``uow.record(type, payload)``. The payload is validated against its contract at once, and on
``commit`` the events become outbox rows in the same transaction as the state change. Nothing is
sent to the broker here; the relay does that after the commit, woken by it (``wakeup``). A handler
that leaves other committed work for a loop (a mail for the sender) says so with ``uow.wake``.
"""

from __future__ import annotations

import contextlib
import functools
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

import portal_contracts
from portal_runtime import logs, metrics, tracing, wakeup
from portal_runtime.db import MessagingModels, utcnow

# The outbox columns an event is recorded with (the rest start empty: published_at, last_error).
RECORDED = (
    "message_id",
    "type",
    "version",
    "payload",
    "correlation_id",
    "causation_id",
    "occurred_at",
    "attempts",
    "traceparent",
)


@functools.cache
def insert_into(table):
    """A table's INSERT, built once: building it for every write cost more than sending it."""
    return table.insert()


class UnitOfWork:
    def __init__(
        self,
        sessions: sessionmaker,
        models: MessagingModels,
        producer: str,
        correlation_id: str | None = None,
        causation_id: str | None = None,
        traceparent: str | None = None,
    ):
        self._sessions = sessions
        self._models = models
        self.producer = producer
        self.correlation_id = correlation_id or str(uuid.uuid4())
        self.causation_id = causation_id
        # The trace this work continues when this process does not trace (portal_runtime.tracing).
        self.traceparent = traceparent
        self.session: Session | None = None
        self._pending: list[Any] = []
        # How many of ``_pending`` are in the transaction already (a finished step's).
        self._written = 0
        self._wake: set[str] = set()
        self._after: list[Callable[[], object]] = []
        # Whether the last step's transaction was committed inside it (see ``step``).
        self.step_committed = False

    def __enter__(self) -> UnitOfWork:
        self.session = self._sessions()
        self._pending = []
        self._written = 0
        self._wake = set()
        self._after = []
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        # Anything not committed explicitly is rolled back: a failing handler leaves no trace.
        try:
            self.session.rollback()
        finally:
            self.session.close()
            self._pending = []
            self._written = 0
            self._wake = set()
            self._after = []

    def record(self, event_type: str, payload: dict, version: int = 1) -> str:
        """Record an event for the outbox; returns its message id."""
        clean = portal_contracts.validate_payload(event_type, payload, version=version)
        row = self._models.Outbox(
            message_id=str(uuid.uuid4()),
            type=event_type,
            version=version,
            payload=clean,
            correlation_id=self.correlation_id,
            causation_id=self.causation_id,
            occurred_at=utcnow(),
            attempts=0,
            traceparent=tracing.current_traceparent() or self.traceparent,
        )
        self._pending.append(row)
        return row.message_id

    @contextlib.contextmanager
    def step(
        self,
        correlation_id: str | None = None,
        causation_id: str | None = None,
        traceparent: str | None = None,
    ):
        """One message of a batch inside this unit of work: the events it records carry its
        own correlation and causation ids and trace. When the block ends, its changes are
        flushed and its events join the transaction beside them (so any later commit takes
        them together).

        There is no savepoint (SAVEPOINT and RELEASE were two round trips for every message):
        if the block raises, the whole transaction is rolled back, the earlier steps' work with
        it, back to the last commit, and the error goes on; the caller does those steps again
        (the consumer does, without the failing one). A handler that commits on purpose (billing
        records a payment attempt before calling the provider) commits the earlier steps with
        it; ``step_committed`` tells afterwards whether the transaction the step began in was
        committed inside it, whether the step ended well or not."""
        outer = (self.correlation_id, self.causation_id, self.traceparent)
        self.correlation_id = correlation_id or outer[0]
        self.causation_id = causation_id
        self.traceparent = traceparent or outer[2]
        began_in = self.session.get_transaction()
        self.step_committed = False
        try:
            yield self
            self._write_outbox()
            self.session.flush()
        except BaseException:
            self.step_committed = self._committed_since(began_in)
            self.rollback()
            raise
        else:
            self.step_committed = self._committed_since(began_in)
        finally:
            self.correlation_id, self.causation_id, self.traceparent = outer

    def _committed_since(self, transaction) -> bool:
        """Whether ``transaction`` (the session's, when a step began) has been committed."""
        return transaction is not None and self.session.get_transaction() is not transaction

    def wake(self, loop: str) -> None:
        """Wake ``loop`` (e.g. ``"mail"``) once this unit of work has committed."""
        self._wake.add(loop)

    def after_commit(self, action: Callable[[], object]) -> None:
        """Run ``action`` once this unit of work has committed, never after a rollback (a
        handler handing what it committed to a loop of its process: ``wakeup.hand_over``).
        Work committed on purpose inside a step and then rolled back with the rest of the batch
        loses its action: a loop that is handed rows must find them again by itself."""
        self._after.append(action)

    def commit(self) -> None:
        wake = set(self._wake) | ({"outbox"} if self._pending else set())
        self._write_outbox()
        for loop in wake:
            wakeup.notify_in(self.session, loop)
        self.session.commit()
        for row in self._pending:
            logs.get().info("event.recorded", event_type=row.type, message_id=row.message_id)
            metrics.EVENTS_RECORDED.labels(self.producer, row.type).inc()
        self._pending = []
        self._written = 0
        self._wake = set()
        engine = self.session.get_bind()
        for loop in wake:
            wakeup.ring(engine, loop)
        after, self._after = self._after, []
        for action in after:
            try:
                action()
            except Exception as exc:  # noqa: BLE001 - committed is committed; the loop finds it
                logs.get().error("uow.after_commit_failed", error=f"{type(exc).__name__}: {exc}")

    def _write_outbox(self) -> None:
        """The events recorded since the last write become outbox rows in the transaction, in
        one executemany (the ORM would send one multi-row INSERT ... RETURNING that the driver
        parses row by row: most of a 500-row assignment batch's flush)."""
        rows = self._pending[self._written :]
        if rows:
            self.session.execute(
                insert_into(self._models.Outbox.__table__),
                [{key: getattr(row, key) for key in RECORDED} for row in rows],
            )
        self._written = len(self._pending)

    def rollback(self) -> None:
        self._pending = []
        self._written = 0
        self._wake = set()
        self._after = []
        self.session.rollback()
