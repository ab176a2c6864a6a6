"""The envelope every message on the bus carries around its payload."""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

# Message, correlation and causation ids are stored in columns of this width (outbox, inbox), so
# an id is at most this long wherever it enters: a caller's X-Request-ID, a message on the bus.
ID_LENGTH = 64


class EnvelopeSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    message_id = fields.String(required=True, validate=validate.Length(min=1, max=ID_LENGTH))
    type = fields.String(required=True)
    version = fields.Integer(required=True)
    occurred_at = fields.String(required=True)
    producer = fields.String(required=True)
    correlation_id = fields.String(required=True, validate=validate.Length(max=ID_LENGTH))
    causation_id = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=ID_LENGTH)
    )
    payload = fields.Dict(required=True)


ENVELOPE = EnvelopeSchema()
