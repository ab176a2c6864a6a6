"""The unit of work: one transaction, and the events it records, committed together.

A handler changes state through ``uow.session`` and records outgoing events with
``uow.publish(type, payload)``. The payload is validated against its contract at once, and on
``commit`` the events become outbox rows in the same transaction as the state change. Nothing is
sent to the broker here; the relay does that after the commit.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

import portal_contracts
from portal_runtime import logs
from portal_runtime.db import MessagingModels, utcnow


class UnitOfWork:
    def __init__(
        self,
        sessions: sessionmaker,
        models: MessagingModels,
        producer: str,
        correlation_id: str | None = None,
        causation_id: str | None = None,
    ):
        self._sessions = sessions
        self._models = models
        self.producer = producer
        self.correlation_id = correlation_id or str(uuid.uuid4())
        self.causation_id = causation_id
        self.session: Session | None = None
        self._pending: list[Any] = []

    def __enter__(self) -> UnitOfWork:
        self.session = self._sessions()
        self._pending = []
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        # Anything not committed explicitly is rolled back: a failing handler leaves no trace.
        try:
            self.session.rollback()
        finally:
            self.session.close()
            self._pending = []

    def publish(self, event_type: str, payload: dict, version: int = 1) -> str:
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
        )
        self._pending.append(row)
        return row.message_id

    def commit(self) -> None:
        for row in self._pending:
            self.session.add(row)
        self.session.commit()
        for row in self._pending:
            logs.get().info("event.recorded", event_type=row.type, message_id=row.message_id)
        self._pending = []

    def rollback(self) -> None:
        self._pending = []
        self.session.rollback()
