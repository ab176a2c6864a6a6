"""Building blocks for event schemas.

Every schema is written once. Producers validate strictly (an unknown field is a bug in the
producer); consumers load leniently (unknown fields ignored at every depth), so that additive
changes never break a consumer that has not been redeployed yet.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid

from marshmallow import EXCLUDE, RAISE, Schema, fields

__all__ = ["Money", "Payload", "fields", "lenient", "strict", "to_json_ready"]


class Payload(Schema):
    class Meta:
        unknown = RAISE


def Money(**kw) -> fields.Decimal:  # noqa: N802 - reads like a field type
    """A decimal amount carried as a string ("123.45"), never a float."""
    return fields.Decimal(as_string=True, places=None, allow_nan=False, **kw)


def _set_unknown(schema: Schema, mode: str) -> Schema:
    schema.unknown = mode
    for field in schema.fields.values():
        inner = field.inner if isinstance(field, fields.List) else field
        if isinstance(inner, fields.Nested):
            _set_unknown(inner.schema, mode)
    return schema


def strict(schema_cls: type[Schema]) -> Schema:
    return _set_unknown(schema_cls(), RAISE)


def lenient(schema_cls: type[Schema]) -> Schema:
    return _set_unknown(schema_cls(), EXCLUDE)


def _encode(value):
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise TypeError("naive datetime in an event payload")
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    raise TypeError(f"cannot put {type(value).__name__} in an event payload")


def to_json_ready(payload: dict) -> dict:
    """Decimals, dates and UUIDs as the strings the wire carries."""
    return json.loads(json.dumps(payload, default=_encode))
