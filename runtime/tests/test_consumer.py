"""The consumer's handling of one event, on SQLite: what counts as a duplicate, what fails."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import String, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

import portal_contracts
from portal_runtime.config import Config
from portal_runtime.consumer import Poison, decode
from portal_runtime.db import messaging_models
from portal_runtime.service import Service
from portal_runtime.testing import event


class Base(DeclarativeBase):
    pass


MESSAGING = messaging_models(Base)


class Invoice(Base):
    """One invoice per order, enforced by the database."""

    __tablename__ = "invoices"

    order_number: Mapped[str] = mapped_column(String(40), primary_key=True)


def invoice_order(evt, uow) -> None:
    uow.session.add(Invoice(order_number=evt.payload["order_number"]))


HANDLERS = {"orders.order.placed": [invoice_order], "orders.order.cancelled": [lambda e, u: None]}


@pytest.fixture
def billing(tmp_path):
    config = Config.from_env(
        "billing", database_url=f"sqlite:///{tmp_path / 'billing.db'}", broker_url="memory://"
    )
    service = Service(config, "sample", MESSAGING, handlers=HANDLERS)
    Base.metadata.create_all(service.engine)
    yield service
    service.engine.dispose()


def placed(number: str):
    return event(
        "orders.order.placed",
        dict(portal_contracts.example("orders.order.placed"), order_number=number),
    )


def inbox(service) -> list[str]:
    with service.sessions() as session:
        return list(session.scalars(select(MESSAGING.ProcessedMessage.message_id)))


def test_a_handlers_own_constraint_violation_is_a_failure_not_a_duplicate(billing):
    """A second order event for an invoiced order number is not 'already handled'."""
    first, clash = placed("O-1"), placed("O-1")
    assert billing.consumer().handle(first) is True
    with pytest.raises(IntegrityError):
        billing.consumer().handle(clash)
    # Not marked as handled: it goes through the failure path (retried, then dead-lettered).
    assert inbox(billing) == [first.message_id]
    with billing.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Invoice)) == 1


def test_the_same_message_again_is_a_duplicate_with_no_second_effect(billing):
    evt = placed("O-2")
    assert billing.consumer().handle(evt) is True
    assert billing.consumer().handle(evt) is False
    assert inbox(billing) == [evt.message_id]


def test_an_envelope_whose_ids_do_not_fit_the_inbox_is_poison_at_once():
    """Retrying could never store it: it goes to the dead-letter queue, not round and round."""
    good = {
        "message_id": "m-1",
        "type": "orders.order.placed",
        "version": 1,
        "occurred_at": "2026-11-22T10:00:00+00:00",
        "producer": "orders",
        "correlation_id": "c",
        "causation_id": None,
        "payload": portal_contracts.example("orders.order.placed"),
    }
    assert decode("application/json", json.dumps(good), HANDLERS).message_id == "m-1"
    for field in ("message_id", "correlation_id", "causation_id"):
        with pytest.raises(Poison, match=field):
            decode("application/json", json.dumps(dict(good, **{field: "x" * 65})), HANDLERS)
