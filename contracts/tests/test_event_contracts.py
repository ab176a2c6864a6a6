"""Every event has a schema and an example; producers are held strictly, consumers leniently."""

import copy

import pytest
from marshmallow import ValidationError

import portal_contracts

ALL_EVENTS = sorted(portal_contracts.EVENTS)


@pytest.mark.parametrize(("event_type", "version"), ALL_EVENTS)
def test_the_example_satisfies_the_producer_schema(event_type, version):
    example = portal_contracts.example(event_type, version)
    assert portal_contracts.validate_payload(event_type, example, version) == example


@pytest.mark.parametrize(("event_type", "version"), ALL_EVENTS)
def test_consumers_accept_the_example_with_unknown_fields_added_at_every_depth(event_type, version):
    example = portal_contracts.example(event_type, version)
    grown = _with_unknown_fields(copy.deepcopy(example))
    loaded = portal_contracts.load_payload(event_type, grown, version)
    assert "added_later" not in loaded
    assert set(loaded) >= {k for k, v in example.items() if v is not None}


@pytest.mark.parametrize(("event_type", "version"), ALL_EVENTS)
def test_producers_may_not_send_fields_the_contract_does_not_know(event_type, version):
    example = portal_contracts.example(event_type, version)
    with pytest.raises(ValidationError):
        portal_contracts.validate_payload(event_type, dict(example, added_later=1), version)


def test_a_nested_unknown_field_is_refused_for_producers_and_ignored_for_consumers():
    example = portal_contracts.example("orders.order.placed")
    example["lines"][0]["surprise"] = True
    with pytest.raises(ValidationError) as err:
        portal_contracts.validate_payload("orders.order.placed", example)
    assert "lines" in err.value.messages
    loaded = portal_contracts.load_payload("orders.order.placed", example)
    assert "surprise" not in loaded["lines"][0]


def test_money_travels_as_exact_strings_and_loads_as_decimals():
    from decimal import Decimal

    example = portal_contracts.example("orders.order.placed")
    example["total"] = Decimal("448.20")
    wire = portal_contracts.validate_payload("orders.order.placed", example)
    assert wire["total"] == "448.20"
    assert portal_contracts.load_payload("orders.order.placed", wire)["total"] == Decimal("448.20")


def test_a_payload_missing_a_required_field_is_refused_naming_it():
    example = portal_contracts.example("billing.invoice.issued")
    del example["invoice_number"]
    with pytest.raises(ValidationError) as err:
        portal_contracts.validate_payload("billing.invoice.issued", example)
    assert "invoice_number" in err.value.messages


def test_every_subscription_names_a_known_event():
    known = {event_type for event_type, _ in portal_contracts.EVENTS}
    for service, subscriptions in portal_contracts.SUBSCRIPTIONS.items():
        assert {portal_contracts.event_type_of(s) for s in subscriptions} <= known, service


def test_an_order_placed_is_routed_by_its_source_and_cart_quote_gets_only_cart_and_quote_ones():
    placed = portal_contracts.example("orders.order.placed")
    for kind, cart_quote_gets_it in (("direct", False), ("cart", True), ("quote", True)):
        payload = dict(placed, source={"kind": kind, "reference": None})
        key = portal_contracts.routing_key("orders.order.placed", payload)
        assert key == f"orders.order.placed.{kind}"
        assert portal_contracts.receives("cart-quote", "orders.order.placed", payload) is (
            cart_quote_gets_it
        )
        for service in ("billing", "license-assign", "notifications"):
            assert portal_contracts.receives(service, "orders.order.placed", payload)
    assert "orders.order.placed" in portal_contracts.subscribed_types("cart-quote")


def test_routing_keys_follow_producer_aggregate_verb():
    for event_type, _ in portal_contracts.EVENTS:
        producer, aggregate, verb = event_type.split(".")
        assert producer in {"catalog", "quotes", "orders", "billing", "licensing", "gateway"}
        assert aggregate and verb


def _with_unknown_fields(value):
    if isinstance(value, dict):
        grown = {k: _with_unknown_fields(v) for k, v in value.items()}
        grown["added_later"] = {"nested": True}
        return grown
    if isinstance(value, list):
        return [_with_unknown_fields(v) for v in value]
    return value
