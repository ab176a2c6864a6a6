"""Product names in emails: kept a short while per process, never stale after a local price list."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import select, update

import portal_contracts
from notifications import SERVICE
from notifications.bootstrap import bootstrap
from notifications.config import NotificationsConfig
from notifications.models import OutgoingMail, ProductName
from notifications.outgoing import ProductNames
from portal_runtime.testing import deliver, event, service_on_sqlite


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def price_list(name: str):
    payload = copy.deepcopy(portal_contracts.example("catalog.price_list.published"))
    payload["products"][0]["name"] = name  # product PC
    return event("catalog.price_list.published", payload)


def order_placed():
    return event("orders.order.placed", portal_contracts.example("orders.order.placed"))


def activation_bodies(service) -> list[str]:
    """The activation emails' text, oldest first (each names what was bought)."""
    with service.sessions() as session:
        query = select(OutgoingMail.text_body).where(OutgoingMail.template == "activation")
        return list(session.scalars(query.order_by(OutgoingMail.id)))


@pytest.fixture
def names():
    return ProductNames(ttl=60.0, clock=Clock())


@pytest.fixture
def notifications(tmp_path, quote_pdfs, names):
    return service_on_sqlite(
        bootstrap,
        NotificationsConfig,
        SERVICE,
        tmp_path,
        quote_pdfs=quote_pdfs,
        product_names=names,
    )


def test_an_email_after_a_new_price_list_says_the_new_name(notifications):
    deliver(notifications, price_list("PyCharm Professional"))
    deliver(notifications, order_placed())  # the name is kept from here
    deliver(notifications, price_list("PyCharm Pro"))
    deliver(notifications, order_placed())

    first, second = activation_bodies(notifications)
    assert "- PyCharm Professional (" in first
    assert "- PyCharm Pro (" in second


def test_a_price_list_and_an_order_in_one_batch_the_order_says_the_new_name(notifications):
    deliver(notifications, price_list("PyCharm Professional"))
    deliver(notifications, order_placed())

    consumer = notifications.consumer()
    assert consumer.handle_batch([price_list("PyCharm Pro"), order_placed()]) == [True, True]
    deliver(notifications, order_placed())

    _, in_the_batch, after = activation_bodies(notifications)
    assert "- PyCharm Pro (" in in_the_batch
    assert "- PyCharm Pro (" in after


def test_a_price_list_rolled_back_leaves_no_name_behind(notifications):
    deliver(notifications, price_list("PyCharm Professional"))
    [record] = notifications.handlers["catalog.price_list.published"]
    [email] = notifications.handlers["orders.order.placed"]
    with notifications.uow() as uow:
        record(price_list("PyCharm Never"), uow)
        email(order_placed(), uow)  # in that transaction, its own new name
        uow.rollback()

    deliver(notifications, order_placed())

    [after] = activation_bodies(notifications)
    assert "- PyCharm Professional (" in after


def test_another_replicas_price_list_shows_once_the_kept_names_expire(notifications, names):
    deliver(notifications, price_list("PyCharm Professional"))
    deliver(notifications, order_placed())
    # Another replica stores the new name: this one's process hears nothing of it.
    with notifications.sessions() as session, session.begin():
        session.execute(update(ProductName).values(name="PyCharm Elsewhere"))

    deliver(notifications, order_placed())
    names.clock.now += 61
    deliver(notifications, order_placed())

    _, kept, expired = activation_bodies(notifications)
    assert "- PyCharm Professional (" in kept
    assert "- PyCharm Elsewhere (" in expired


def test_a_code_the_catalog_has_not_named_is_the_code_until_it_does(notifications):
    deliver(notifications, order_placed())
    deliver(notifications, price_list("PyCharm Professional"))
    deliver(notifications, order_placed())

    before, after = activation_bodies(notifications)
    assert "- PC (" in before
    assert "- PyCharm Professional (" in after
