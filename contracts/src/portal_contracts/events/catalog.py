"""Events the catalog service publishes."""

from marshmallow import validate

from portal_contracts.base import Money, Payload, fields


class Price(Payload):
    term_years = fields.Integer(required=True, validate=validate.OneOf([1, 2]))
    kind = fields.String(required=True, validate=validate.OneOf(["new", "renewal"]))
    amount = Money(required=True)


class ProductPrices(Payload):
    code = fields.String(required=True)
    name = fields.String(required=True)
    includes = fields.List(fields.String(), load_default=list)
    prices = fields.List(fields.Nested(Price), required=True)


class PriceListPublished(Payload):
    """The whole list price book of one currency, as it now stands."""

    currency = fields.String(required=True, validate=validate.Length(equal=3))
    effective_at = fields.AwareDateTime(required=True)
    products = fields.List(fields.Nested(ProductPrices), required=True)


class PartnerDiscountChanged(Payload):
    """A reseller's partner discount (percent off list price) as it now stands."""

    reseller_id = fields.String(required=True)
    percent = Money(required=True)
    effective_at = fields.AwareDateTime(required=True)


EVENTS = {
    ("catalog.price_list.published", 1): PriceListPublished,
    ("catalog.partner_discount.changed", 1): PartnerDiscountChanged,
}
