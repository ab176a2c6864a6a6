"""A minimal service for testing the delivery contract on real servers.

It consumes as ``billing`` (any real consumer name works: the bus prefix keeps test runs apart)
and records one ``effects`` row per handled ``orders.order.placed`` - deliberately without a
unique constraint, so a duplicate effect would show as a second row. The order number steers the
handler: ``FAIL-…`` always fails (a transient error), ``FLAKY<n>-…`` fails its first ``n`` tries,
``NEVER-…`` breaks a rule that will never pass (``Poison``).
"""

from __future__ import annotations

import re
import sys
from collections import Counter

from sqlalchemy import Integer, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from portal_runtime.config import Config
from portal_runtime.db import messaging_models
from portal_runtime.retry import Poison
from portal_runtime.service import Service


class Base(DeclarativeBase):
    pass


MESSAGING = messaging_models(Base)


class Effect(Base):
    __tablename__ = "effects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_number: Mapped[str] = mapped_column(String(40))


TRIES: Counter[str] = Counter()  # per order number, across deliveries in this process
FIXED: set[str] = set()  # NEVER-… numbers handled after all (as after a fix is deployed)


def record_effect(event, uow) -> None:
    number = event.payload["order_number"]
    TRIES[number] += 1
    if number.startswith("FAIL"):
        raise RuntimeError(f"handler cannot cope with {number}")
    if number.startswith("NEVER") and number not in FIXED:
        raise Poison(f"{number} breaks a rule that will never pass")
    flaky = re.match(r"FLAKY(\d+)-", number)
    if flaky and TRIES[number] <= int(flaky.group(1)):
        raise ConnectionError(f"a service {number} needs is not answering")
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
        # A short schedule, the same behaviour: retried from 50 ms, given up after 2 s.
        retry_first_delay=0.05,
        retry_max_delay=0.4,
        retry_for=2.0,
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
