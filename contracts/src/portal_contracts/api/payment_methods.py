"""Stored payment methods: cards (as vault tokens) and PayPal (set up by a redirect)."""

from marshmallow import ValidationError, fields, validate, validates_schema

from portal_contracts.api.common import ListArgs, Strict, page_of

KINDS = ["card", "paypal"]


class CreatePaymentMethodRequest(Strict):
    """Body of POST /payment-methods: a card by its vault token, or PayPal with a return URL."""

    kind = fields.String(required=True, validate=validate.OneOf(KINDS))
    vault_token = fields.String(validate=validate.Length(min=1, max=100))
    return_url = fields.Url(
        schemes={"http", "https"}, require_tld=False, validate=validate.Length(max=2000)
    )

    @validates_schema
    def _shape(self, data, **_):
        if data["kind"] == "card":
            if not data.get("vault_token"):
                raise ValidationError({"vault_token": ["Required for a card."]})
            if "return_url" in data:
                raise ValidationError({"return_url": ["Only for PayPal."]})
        else:
            if not data.get("return_url"):
                raise ValidationError({"return_url": ["Required for PayPal."]})
            if "vault_token" in data:
                raise ValidationError({"vault_token": ["Only for a card."]})


class PaymentMethodSchema(Strict):
    """One stored method, in GET /payment-methods and the answer of POST /payment-methods."""

    id = fields.String(dump_only=True)
    kind = fields.String(dump_only=True)
    # active, or pending while a PayPal approval is outstanding.
    status = fields.String(dump_only=True)
    brand = fields.String(dump_only=True, allow_none=True)
    last4 = fields.String(dump_only=True, allow_none=True)
    expiry = fields.String(dump_only=True, allow_none=True)
    holder = fields.String(dump_only=True, allow_none=True)
    email = fields.String(dump_only=True, allow_none=True)
    # Where to send the user to approve a pending PayPal method.
    redirect_url = fields.String(dump_only=True, allow_none=True)
    created_at = fields.DateTime(dump_only=True)


PaymentMethodPageSchema = page_of(PaymentMethodSchema, "PaymentMethodPageSchema")


class PaymentMethodListArgs(ListArgs):
    """Query of GET /payment-methods."""


class InternalPaymentMethodSchema(Strict):
    """Answer of GET /internal/payment-methods/{id}: what orders checks at checkout."""

    id = fields.String(dump_only=True)
    kind = fields.String(dump_only=True)
    status = fields.String(dump_only=True)
