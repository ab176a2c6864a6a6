"""The Flask pieces every service shares, on a minimal app: one error shape for bad bodies."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import DeclarativeBase

from portal_runtime.config import Config
from portal_runtime.db import messaging_models
from portal_runtime.service import Service
from portal_runtime.web import create_app, json_body


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
