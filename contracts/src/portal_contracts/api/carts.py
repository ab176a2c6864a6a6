"""Carts: lines, co-terming (Set Custom / Set Default) and line details."""

from marshmallow import ValidationError, fields, validate, validates_schema

from portal_contracts.api.common import (
    LINE_KINDS,
    Money,
    PricedLineSchema,
    SingleLine,
    Strict,
    TaxLineSchema,
)

MAX_QUANTITY = 10_000
MAX_LICENSES = 10_000


class CartItemRequest(Strict):
    """Body of POST /customers/{customer_id}/cart/items.

    New subscription: ``{kind: "new", product, quantity, term_years}``; renewal, upgrade or
    downgrade: ``{kind, license_ids, product?, term_years}`` (``product`` is the target of a
    downgrade, ``ALL`` for an upgrade).
    """

    kind = fields.String(required=True, validate=validate.OneOf(LINE_KINDS))
    product = fields.String(validate=validate.Length(min=1, max=20))
    quantity = fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_QUANTITY))
    term_years = fields.Integer(strict=True, validate=validate.OneOf([1, 2]), load_default=1)
    license_ids = fields.List(
        fields.String(validate=validate.Length(min=1, max=40)),
        validate=validate.Length(max=MAX_LICENSES),
    )
    # Set Custom at once (co-terming); null or absent is the default end.
    end_date = fields.Date(allow_none=True)
    team_id = fields.String(allow_none=True, validate=validate.Length(min=1, max=40))
    team_name = SingleLine(allow_none=True, min=1, max=100)
    subscription_pack = fields.String(allow_none=True, validate=validate.Length(min=1, max=40))

    @validates_schema
    def _shape(self, data, **_):
        if data["kind"] == "new":
            missing = {
                f: ["Required for a new subscription."]
                for f in ("product", "quantity")
                if f not in data
            }
            if missing:
                raise ValidationError(missing)
        else:
            if not data.get("license_ids"):
                raise ValidationError({"license_ids": [f"Required for a {data['kind']} line."]})
            if "quantity" in data:
                raise ValidationError(
                    {"quantity": ["Set by the number of licenses on a " + data["kind"] + " line."]}
                )
        if data.get("team_id") and data.get("team_name"):
            raise ValidationError(
                {"team_name": ["Give either an existing team_id or a new team_name."]}
            )


class CartItemUpdateRequest(Strict):
    """Body of PATCH /customers/{customer_id}/cart/items/{item_id} (end_date null: Set Default)."""

    quantity = fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_QUANTITY))
    end_date = fields.Date(allow_none=True)
    team_id = fields.String(allow_none=True, validate=validate.Length(min=1, max=40))
    team_name = SingleLine(allow_none=True, min=1, max=100)
    subscription_pack = fields.String(allow_none=True, validate=validate.Length(min=1, max=40))

    @validates_schema
    def _one_team(self, data, **_):
        if data.get("team_id") and data.get("team_name"):
            raise ValidationError(
                {"team_name": ["Give either an existing team_id or a new team_name."]}
            )


class CartItemSchema(PricedLineSchema):
    """A priced cart line (items of GET /customers/{customer_id}/cart).

    Carries every field of an ``orders.order.placed`` line, plus ``id``, ``default_end_date``
    and ``custom_end_date``.
    """

    id = fields.Integer(dump_only=True)
    product_name = fields.String(dump_only=True)
    default_end_date = fields.Date(dump_only=True)
    custom_end_date = fields.Boolean(dump_only=True)


class CartQueryArgs(Strict):
    """Query of GET /customers/{customer_id}/cart: the billing address's country and VAT ID to
    compute the tax for (as checkout will)."""

    country = fields.String(validate=validate.Regexp(r"^[A-Za-z]{2}$", error="Two letters."))
    vat_id = fields.String(validate=validate.Length(max=40))

    @validates_schema
    def vat_id_needs_its_country(self, data, **kwargs):
        # A VAT number is checked against its country's format: without one it means nothing.
        if data.get("vat_id") and not data.get("country"):
            raise ValidationError("Give the billing address's country with its VAT ID.", "country")


class CartSchema(Strict):
    """Answer of GET /customers/{customer_id}/cart and of every cart change.

    ``id`` is the cart's reference (an order placed from it names it in ``source.reference``).
    """

    id = fields.String(dump_only=True, allow_none=True)
    customer_id = fields.String(dump_only=True)
    items = fields.List(fields.Nested(CartItemSchema), dump_only=True)
    # Net sum of the lines, and the tax on it per rate; ``total`` is subtotal + tax. The tax
    # is for the billing address of the query (``country``, ``vat_id``); without one, at the
    # seller's rate.
    subtotal = Money(dump_only=True)
    tax = fields.List(fields.Nested(TaxLineSchema), dump_only=True)
    total = Money(dump_only=True)
    currency = fields.String(dump_only=True)
    updated_at = fields.DateTime(dump_only=True, allow_none=True)
    expires_at = fields.DateTime(dump_only=True, allow_none=True)
