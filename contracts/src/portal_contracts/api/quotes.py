"""Quotes: Get Quote from a cart, search, read, print, cancel, and claiming a direct quote."""

from marshmallow import fields, validate

from portal_contracts.api.common import (
    CustomerRefSchema,
    ListArgs,
    Money,
    PersonSchema,
    PricedLineSchema,
    SingleLine,
    Strict,
    TaxLineSchema,
    page_of,
)
from portal_contracts.api.orders import BillingAddressSchema, OrderLineRequest

QUOTE_STATUSES = ["open", "ordered", "cancelled", "expired"]


class QuoteBillingAddressSchema(Strict):
    """Billing address in POST /customers/{customer_id}/cart/quote (as checkout's)."""

    name = SingleLine(allow_none=True, max=200)
    line1 = fields.String(required=True, validate=validate.Length(min=1, max=200))
    line2 = fields.String(allow_none=True, validate=validate.Length(max=200))
    city = fields.String(required=True, validate=validate.Length(min=1, max=100))
    postal_code = fields.String(allow_none=True, validate=validate.Length(max=20))
    region = fields.String(allow_none=True, validate=validate.Length(max=100))
    country = fields.String(required=True, validate=validate.Length(min=2, max=2))
    vat_id = fields.String(allow_none=True, validate=validate.Length(max=40))


class GetQuoteRequest(Strict):
    """Body of POST /customers/{customer_id}/cart/quote (Get Quote)."""

    billing_address = fields.Nested(QuoteBillingAddressSchema, required=True)
    end_user = fields.Nested(PersonSchema, required=True)
    po_number = fields.String(allow_none=True, validate=validate.Length(min=1, max=60))


class QuoteLineSchema(PricedLineSchema):
    """A frozen, priced line of a quote (GET /quotes/{number}); the fields of an order line."""

    product_name = fields.String(dump_only=True)


class QuoteSchema(Strict):
    """A quote: answer of POST /customers/{customer_id}/cart/quote (201), GET /quotes/{number},
    POST /quotes/{number}/cancel, and items of GET /quotes."""

    number = fields.String(dump_only=True)
    status = fields.String(dump_only=True)
    kind = fields.String(dump_only=True)
    reseller_id = fields.String(dump_only=True, allow_none=True)
    buyer = fields.Dict(dump_only=True, allow_none=True)
    customer = fields.Nested(CustomerRefSchema, dump_only=True)
    end_user = fields.Nested(PersonSchema, dump_only=True)
    billing_address = fields.Dict(dump_only=True, allow_none=True)
    po_number = fields.String(dump_only=True, allow_none=True)
    lines = fields.List(fields.Nested(QuoteLineSchema), dump_only=True)
    # Net sum of the lines, and the tax on it per rate; ``total`` is subtotal + tax.
    subtotal = Money(dump_only=True)
    tax = fields.List(fields.Nested(TaxLineSchema), dump_only=True)
    total = Money(dump_only=True)
    currency = fields.String(dump_only=True)
    issued_at = fields.DateTime(dump_only=True)
    valid_until = fields.Date(dump_only=True)
    order_number = fields.String(dump_only=True, allow_none=True)
    pdf_url = fields.String(dump_only=True)


QuotePageSchema = page_of(QuoteSchema, "QuotePageSchema")


class QuoteSearchArgs(ListArgs):
    """Query of GET /quotes."""

    number = fields.String(validate=validate.Length(max=30))
    customer_name = fields.String(validate=validate.Length(max=200))
    customer_email = fields.String(validate=validate.Length(max=254))
    status = fields.String(validate=validate.OneOf(QUOTE_STATUSES))
    # `from` is a Python keyword: the attribute differs, the query parameter does not.
    from_ = fields.Date(data_key="from")
    to = fields.Date()


class ClaimQuoteRequest(Strict):
    """Body of POST /internal/quotes/claim (the gateway's customer entry by quote)."""

    quote_number = fields.String(required=True, validate=validate.Length(min=1, max=30))
    email = fields.String(required=True, validate=validate.Length(min=3, max=254))
    reseller_id = fields.String(required=True, validate=validate.Length(min=1, max=40))
    reseller_name = SingleLine(allow_none=True, max=200)


class ClaimQuoteSchema(Strict):
    """Answer of POST /internal/quotes/claim."""

    customer_id = fields.String(dump_only=True)
    name = fields.String(dump_only=True)
    quote_number = fields.String(dump_only=True)


class PricingRequest(Strict):
    """Body of POST /internal/pricing (orders prices a direct order's lines with it)."""

    customer_id = fields.String(required=True, validate=validate.Length(min=1, max=40))
    lines = fields.List(
        fields.Nested(OrderLineRequest), required=True, validate=validate.Length(min=1, max=100)
    )
    # The address the tax is computed for (the seller's rate without one).
    billing_address = fields.Nested(BillingAddressSchema, allow_none=True)
