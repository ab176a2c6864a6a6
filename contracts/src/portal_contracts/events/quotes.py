"""Events the cart-quote service publishes."""

from marshmallow import validate

from portal_contracts.base import Money, Payload, fields
from portal_contracts.common import Buyer, Customer, Person, TaxLine


class QuoteLine(Payload):
    kind = fields.String(required=True)
    product = fields.String(required=True)
    quantity = fields.Integer(required=True, validate=validate.Range(min=1))
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)
    unit_price = Money(required=True)
    amount = Money(required=True)
    # The remaining fields of an order line, so that ordering a quote needs nothing else.
    line_no = fields.Integer(load_default=None, allow_none=True)
    term_years = fields.Integer(load_default=None, allow_none=True)
    fallback_eligible = fields.Boolean(load_default=None, allow_none=True)
    team_id = fields.String(load_default=None, allow_none=True)
    team_name = fields.String(load_default=None, allow_none=True)
    subscription_pack = fields.String(load_default=None, allow_none=True)
    license_ids = fields.List(fields.String(), load_default=list)
    product_name = fields.String(load_default=None, allow_none=True)


class QuoteIssued(Payload):
    quote_number = fields.String(required=True)
    buyer = fields.Nested(Buyer, required=True)
    reseller_id = fields.String(required=True, allow_none=True)
    customer = fields.Nested(Customer, required=True)
    end_user = fields.Nested(Person, required=True)
    po_number = fields.String(load_default=None, allow_none=True)
    lines = fields.List(fields.Nested(QuoteLine), required=True)
    total = Money(required=True)
    currency = fields.String(required=True)
    valid_until = fields.Date(required=True)
    issued_at = fields.AwareDateTime(required=True)
    billing_address = fields.Dict(load_default=None, allow_none=True)
    # Added later (optional): net subtotal and tax; ``total`` is the gross amount.
    subtotal = Money(load_default=None, allow_none=True)
    tax = fields.List(fields.Nested(TaxLine), load_default=None, allow_none=True)


class QuoteCancelled(Payload):
    quote_number = fields.String(required=True)
    reseller_id = fields.String(required=True, allow_none=True)
    customer_id = fields.String(required=True)


class QuoteConverted(Payload):
    """A direct quote became a reseller's quote through customer entry by quote."""

    quote_number = fields.String(required=True)
    reseller_id = fields.String(required=True)
    customer_id = fields.String(required=True)


EVENTS = {
    ("quotes.quote.issued", 1): QuoteIssued,
    ("quotes.quote.cancelled", 1): QuoteCancelled,
    ("quotes.quote.converted", 1): QuoteConverted,
}
