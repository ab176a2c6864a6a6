"""The envelope every message on the bus carries around its payload."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields


class EnvelopeSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    message_id = fields.String(required=True)
    type = fields.String(required=True)
    version = fields.Integer(required=True)
    occurred_at = fields.String(required=True)
    producer = fields.String(required=True)
    correlation_id = fields.String(required=True)
    causation_id = fields.String(load_default=None, allow_none=True)
    payload = fields.Dict(required=True)


ENVELOPE = EnvelopeSchema()
