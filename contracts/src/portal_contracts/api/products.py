"""Catalog: the products and the prices the caller pays (GET /products, GET /products/{code})."""

from marshmallow import fields, validate

from portal_contracts.api.common import Money, SingleLine, Strict, page_of

TERMS = [1, 2]
PRICE_KINDS = ["new", "renewal"]


class PriceSchema(Strict):
    """One price of a product in GET /products and GET /products/{code}."""

    term_years = fields.Integer(dump_only=True)
    kind = fields.String(dump_only=True)
    amount = Money(dump_only=True)
    currency = fields.String(dump_only=True)


class ProductSchema(Strict):
    """A product (GET /products/{code}; items of GET /products), priced for the caller."""

    code = fields.String(dump_only=True)
    name = fields.String(dump_only=True)
    includes = fields.List(fields.String(), dump_only=True)
    prices = fields.List(fields.Nested(PriceSchema), dump_only=True)


ProductPageSchema = page_of(ProductSchema, "ProductPageSchema")


class PriceInput(Strict):
    """One list price in PUT /internal/prices/{code}."""

    term_years = fields.Integer(required=True, strict=True, validate=validate.OneOf(TERMS))
    kind = fields.String(required=True, validate=validate.OneOf(PRICE_KINDS))
    amount = Money(required=True, validate=validate.Range(min=0, max=1_000_000))


class PriceUpdateRequest(Strict):
    """Body of PUT /internal/prices/{code} (catalog administration, service identity only)."""

    currency = fields.String(required=True, validate=validate.Length(equal=3))
    name = SingleLine(min=1, max=200)
    includes = fields.List(fields.String(validate=validate.Length(min=1, max=20)))
    prices = fields.List(fields.Nested(PriceInput), required=True, validate=validate.Length(min=1))


class PartnerDiscountRequest(Strict):
    """Body of PUT /internal/partner-discounts/{reseller_id} (service identity only)."""

    percent = Money(required=True, validate=validate.Range(min=0, max=100))
