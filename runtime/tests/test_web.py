"""The Flask pieces every service shares, on a minimal app: one error shape for bad bodies."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import DeclarativeBase

from portal_contracts import example
from portal_contracts.envelope import ID_LENGTH
from portal_runtime.config import Config
from portal_runtime.db import messaging_models
from portal_runtime.service import Service
from portal_runtime.testing import postgres_database
from portal_runtime.web import create_app, current_service, json_body, unit_of_work


class Base(DeclarativeBase):
    pass


MESSAGING = messaging_models(Base)


@pytest.fixture
def client(tmp_path):
    config = Config.from_env("catalog", database_url=f"sqlite:///{tmp_path / 'web.db'}")
    app = create_app(Service(config, "sample", MESSAGING, handlers={}))

    @app.post("/echo")
    def echo():
        return {"got": json_body()}

    @app.post("/maybe")
    def maybe():
        return {"got": json_body(optional=True)}

    return app.test_client()


def test_a_json_object_is_taken_and_keeps_its_key_order(client):
    resp = client.post("/echo", json={"b": 1, "a": [1, 2]})
    assert resp.status_code == 200
    assert resp.get_data(as_text=True).replace(" ", "").strip() == '{"got":{"b":1,"a":[1,2]}}'


@pytest.mark.parametrize(
    "body",
    ["[" * 5000, '{"a":' * 5000, "not json", "[1, 2]", "null", ""],
    ids=["nested-arrays", "nested-objects", "garbage", "array", "null", "empty"],
)
def test_a_body_that_is_not_a_json_object_is_a_422_problem(client, body):
    resp = client.post("/echo", data=body, content_type="application/json")
    assert resp.status_code == 422
    assert resp.content_type == "application/problem+json"
    assert "_body" in resp.get_json()["errors"]


def test_an_optional_body_may_be_empty_but_not_malformed(client):
    assert client.post("/maybe").get_json() == {"got": {}}
    deep = client.post("/maybe", data="[" * 5000, content_type="application/json")
    assert deep.status_code == 422


def test_an_odd_or_overlong_request_id_is_replaced_and_a_plain_one_echoed(client):
    plain = "r" * ID_LENGTH
    assert client.post("/maybe", headers={"X-Request-ID": plain}).headers["X-Request-ID"] == plain
    for odd in ("r" * (ID_LENGTH + 1), "x\u2028forged log line", ""):
        echoed = client.post("/maybe", headers={"X-Request-ID": odd}).headers["X-Request-ID"]
        assert echoed != odd and len(echoed) == 36


def test_with_its_database_down_a_service_answers_503_with_retry_after(tmp_path):
    """Nothing listens on port 1: the same error a stopped PostgreSQL gives."""
    config = Config.from_env(
        "catalog", database_url="postgresql+psycopg://postgres@127.0.0.1:1/gone"
    )
    app = create_app(Service(config, "sample", MESSAGING, handlers={}))

    @app.get("/things")
    def things():
        with current_service().sessions() as session:
            return {"count": session.scalar(text("SELECT 1"))}

    resp = app.test_client().get("/things")
    assert resp.status_code == 503
    assert resp.content_type == "application/problem+json"
    assert int(resp.headers["Retry-After"]) > 0
    assert "database" in resp.get_json()["detail"]


@pytest.mark.integration
def test_an_overlong_request_id_does_not_stop_an_event_being_stored_on_postgresql():
    """The id becomes the outbox's correlation id: PostgreSQL refuses one wider than the column."""
    with postgres_database("web") as url:
        config = Config.from_env("catalog", database_url=url)
        service = Service(config, "sample", MESSAGING, handlers={})
        Base.metadata.create_all(service.engine)
        app = create_app(service)

        @app.post("/products")
        def add_product():
            with unit_of_work() as uow:
                uow.record("catalog.price_list.published", example("catalog.price_list.published"))
                uow.commit()
            return {}, 201

        resp = app.test_client().post("/products", headers={"X-Request-ID": "r" * 100})
        assert resp.status_code == 201
        with service.sessions() as session:
            stored = session.scalar(select(MESSAGING.Outbox.correlation_id))
        assert stored == resp.headers["X-Request-ID"]
        service.engine.dispose()
