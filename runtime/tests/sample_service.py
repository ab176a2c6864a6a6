"""A minimal service for testing the delivery contract on real servers.

It consumes as ``billing`` (any real consumer name works: the bus prefix keeps test runs apart)
and records one ``effects`` row per handled ``orders.order.placed`` - deliberately without a
unique constraint, so a duplicate effect would show as a second row.
"""

from __future__ import annotations

import sys

from sqlalchemy import Integer, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from portal_runtime.config import Config
from portal_runtime.db import messaging_models
from portal_runtime.service import Service


class Base(DeclarativeBase):
    pass


MESSAGING = messaging_models(Base)


class Effect(Base):
    __tablename__ = "effects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_number: Mapped[str] = mapped_column(String(40))


def record_effect(event, uow) -> None:
    number = event.payload["order_number"]
    if number.startswith("FAIL"):
        raise RuntimeError(f"handler cannot cope with {number}")
    uow.session.add(Effect(order_number=number))


def ignore(event, uow) -> None:
    pass


HANDLERS = {"orders.order.placed": [record_effect], "orders.order.cancelled": [ignore]}


def build(role: str, database_url: str, broker_url: str, prefix: str) -> Service:
    """``role`` is the service name on the bus: ``billing`` consumes, ``catalog`` only publishes."""
    config = Config.from_env(
        role,
        database_url=database_url,
        broker_url=broker_url,
        bus_prefix=prefix,
        handler_retry_delay=0.05,
        handler_attempts=3,
    )
    service = Service(config, "sample", MESSAGING, handlers=HANDLERS if role == "billing" else {})
    Base.metadata.create_all(service.engine)
    return service


def effects(service: Service) -> list[str]:
    with service.sessions() as session:
        return list(session.scalars(select(Effect.order_number).order_by(Effect.id)))


if __name__ == "__main__":
    # python sample_service.py relay DATABASE_URL BROKER_URL PREFIX: run the producer's relay.
    _, command, db, broker, prefix = sys.argv
    build("catalog", db, broker, prefix).run_worker(consume=False, jobs=False)
