"""The command bus and injection by name: a handler gets what it names; one commit a command."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask import Blueprint
from sqlalchemy import Integer, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from portal_contracts import example
from portal_runtime import web
from portal_runtime.commands import CommandBus, inject
from portal_runtime.config import Config
from portal_runtime.db import messaging_models
from portal_runtime.errors import Conflict, Invalid, NotFound
from portal_runtime.service import Service
from portal_runtime.testing import recorded
from portal_runtime.testkit import RESELLER, Api


class Base(DeclarativeBase):
    pass


class Thing(Base):
    __tablename__ = "things"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(40))


MESSAGING = messaging_models(Base)


@dataclass(frozen=True)
class Greet:
    name: str


def make_thing(cmd: Greet, uow, maker) -> str:
    uow.session.add(Thing(name=cmd.name))
    uow.record("catalog.price_list.published", example("catalog.price_list.published"))
    if cmd.name == "twice":
        raise Conflict("twice is refused")
    return f"{maker} {cmd.name}"


@pytest.fixture
def shop(tmp_path):
    config = Config.from_env(
        "catalog", database_url=f"sqlite:///{tmp_path / 'shop.db'}", broker_url="memory://"
    )
    service = Service(config, "shop", MESSAGING, commands={Greet: make_thing}, maker="made")
    Base.metadata.create_all(service.engine)
    yield service
    service.engine.dispose()


def test_a_handler_receives_the_dependencies_it_names_and_nothing_else():
    seen = {}

    def handler(cmd, uow, greeter, clock=None):
        seen.update(cmd=cmd, uow=uow, greeter=greeter, clock=clock)
        return greeter(cmd.name)

    bound = inject(handler, {"greeter": str.upper, "mailer": object()})
    assert bound(Greet("ada"), "the-uow") == "ADA"
    assert seen == {"cmd": Greet("ada"), "uow": "the-uow", "greeter": str.upper, "clock": None}


def test_a_missing_dependency_is_refused_when_wiring_not_at_the_first_message():
    def handler(cmd, uow, payments):
        return None

    with pytest.raises(TypeError, match="needs 'payments'"):
        inject(handler, {"mailer": object()})


def test_handle_runs_the_command_in_a_unit_of_work_and_commits_once(shop):
    assert shop.handle(Greet("ada")) == "made ada"
    with shop.uow() as uow:
        assert uow.session.scalars(select(Thing.name)).all() == ["ada"]
    assert len(recorded(shop, "catalog.price_list.published")) == 1


def test_a_command_that_raises_leaves_nothing_behind(shop):
    with pytest.raises(Conflict):
        shop.handle(Greet("twice"))
    with shop.uow() as uow:
        assert uow.session.scalars(select(Thing.name)).all() == []
    assert recorded(shop) == []


def test_an_unknown_command_is_a_programming_error():
    bus = CommandBus({}, lambda **_: None, {})
    with pytest.raises(LookupError, match="no handler for Greet"):
        bus.handle(Greet("x"))


def test_domain_errors_answer_as_problems_naming_what_was_wrong(shop):
    bp = Blueprint("errors", __name__)

    @bp.get("/missing")
    def missing():
        raise NotFound("order")

    @bp.post("/po")
    def po():
        raise Invalid("po_number", "A PO number is required to be invoiced.")

    @bp.post("/empty")
    def empty():
        raise Conflict("Add a product first.", title="Empty cart")

    @bp.post("/twice")
    def twice():
        shop.handle(Greet("twice"))

    app = web.create_app(shop)
    app.register_blueprint(bp)
    api = Api(app, RESELLER)

    resp = api.get("/missing")
    assert (resp.status_code, resp.mimetype) == (404, "application/problem+json")
    assert resp.get_json()["detail"] == "No such order."
    resp = api.post("/po")
    assert resp.status_code == 422
    assert resp.get_json()["errors"] == {"po_number": ["A PO number is required to be invoiced."]}
    resp = api.post("/empty")
    assert (resp.status_code, resp.get_json()["title"]) == (409, "Empty cart")
    resp = api.post("/twice")
    assert resp.status_code == 409
    assert resp.get_json()["detail"] == "twice is refused"
    assert resp.get_json()["title"] == "Conflict"
