"""The portal's event contracts: the envelope, one schema per event, and example payloads.

Producers call :func:`validate_payload` before writing an outbox row; consumers call
:func:`load_payload`, which ignores unknown fields at every depth.
"""

from __future__ import annotations

import json
from importlib import resources

from marshmallow import ValidationError

from portal_contracts.base import lenient, strict, to_json_ready
from portal_contracts.envelope import ENVELOPE, EnvelopeSchema
from portal_contracts.events import billing, catalog, gateway, licensing, orders, quotes
from portal_contracts.subscriptions import (
    ROUTED_BY,
    SUBSCRIPTIONS,
    binding_key,
    event_type_of,
    receives,
    routing_key,
    subscribed_types,
)

__all__ = [
    "ENVELOPE",
    "EVENTS",
    "ROUTED_BY",
    "SUBSCRIPTIONS",
    "EnvelopeSchema",
    "UnknownEvent",
    "ValidationError",
    "binding_key",
    "event_type_of",
    "example",
    "is_known",
    "load_payload",
    "receives",
    "routing_key",
    "subscribed_types",
    "validate_payload",
]

EVENTS: dict[tuple[str, int], type] = {}
for _module in (catalog, quotes, orders, billing, licensing, gateway):
    EVENTS.update(_module.EVENTS)

_STRICT = {key: strict(cls) for key, cls in EVENTS.items()}
_LENIENT = {key: lenient(cls) for key, cls in EVENTS.items()}


class UnknownEvent(LookupError):
    """No schema for this (type, version): the message cannot be understood."""


def is_known(event_type: str, version: int = 1) -> bool:
    return (event_type, version) in EVENTS


def validate_payload(event_type: str, payload: dict, version: int = 1) -> dict:
    """Check a producer's payload strictly; return it as the JSON the wire carries."""
    schema = _STRICT.get((event_type, version))
    if schema is None:
        raise UnknownEvent(f"{event_type} v{version}")
    ready = to_json_ready(payload)
    schema.load(ready)  # raises ValidationError naming the bad fields
    return ready


def load_payload(event_type: str, payload: dict, version: int = 1) -> dict:
    """Load a consumer's view of a payload: typed values, unknown fields dropped."""
    schema = _LENIENT.get((event_type, version))
    if schema is None:
        raise UnknownEvent(f"{event_type} v{version}")
    return schema.load(payload)


def example(event_type: str, version: int = 1) -> dict:
    """The example payload shipped for an event (``examples/<type>.v<version>.json``)."""
    name = f"{event_type}.v{version}.json"
    text = resources.files("portal_contracts").joinpath("examples", name).read_text()
    return json.loads(text)
