"""Orders: place directly, search, read, and the actions on an order."""

from marshmallow import ValidationError, fields, validate, validates_schema

from portal_contracts.api.common import (
    LINE_KINDS,
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

MAX_QUANTITY = 10_000


class OrderLineRequest(Strict):
    """One line of POST /orders."""

    kind = fields.String(required=True, validate=validate.OneOf(LINE_KINDS))
    product = fields.String(validate=validate.Length(min=1, max=20))
    quantity = fields.Integer(strict=True, validate=validate.Range(min=1, max=MAX_QUANTITY))
    term_years = fields.Integer(strict=True, validate=validate.OneOf([1, 2]), load_default=1)
    license_ids = fields.List(
        fields.String(validate=validate.Length(min=1, max=40)),
        validate=validate.Length(max=MAX_QUANTITY),
    )
    end_date = fields.Date(allow_none=True)
    team_id = fields.String(allow_none=True, validate=validate.Length(max=40))
    # A new team for these licenses (an additional purchase), when no team_id is given.
    team_name = SingleLine(allow_none=True, min=1, max=100)
    subscription_pack = fields.String(allow_none=True, validate=validate.Length(max=40))

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
        elif not data.get("license_ids"):
            raise ValidationError({"license_ids": [f"Required for a {data['kind']} line."]})
        if data.get("team_id") and data.get("team_name"):
            raise ValidationError(
                {"team_name": ["Give either an existing team_id or a new team_name."]}
            )


class BillingAddressSchema(Strict):
    """The billing address of POST /customers/{customer_id}/cart/checkout (and on an order)."""

    name = SingleLine(allow_none=True, max=200)
    line1 = fields.String(required=True, validate=validate.Length(min=1, max=200))
    line2 = fields.String(allow_none=True, validate=validate.Length(max=200))
    city = fields.String(required=True, validate=validate.Length(min=1, max=100))
    postal_code = fields.String(allow_none=True, validate=validate.Length(max=20))
    region = fields.String(allow_none=True, validate=validate.Length(max=100))
    country = fields.String(required=True, validate=validate.Length(min=2, max=2))
    vat_id = fields.String(allow_none=True, validate=validate.Length(max=40))


class PlaceOrderRequest(Strict):
    """Body of POST /orders (with an Idempotency-Key header)."""

    customer_id = fields.String(required=True, validate=validate.Length(min=1, max=40))
    lines = fields.List(
        fields.Nested(OrderLineRequest), required=True, validate=validate.Length(min=1, max=100)
    )
    payment_method_id = fields.String(allow_none=True, validate=validate.Length(max=60))
    po_number = fields.String(allow_none=True, validate=validate.Length(max=60))
    end_user = fields.Nested(PersonSchema, required=True)
    # Integrators placing an order directly usually want the licensee told at once.
    send_activation_email = fields.Boolean(load_default=True)
    billing_address = fields.Nested(BillingAddressSchema, allow_none=True)

    @validates_schema
    def _paid_somehow(self, data, **_):
        if not data.get("payment_method_id") and not data.get("po_number"):
            raise ValidationError(
                {
                    "payment_method_id": [
                        "Give a stored payment method, or a po_number to be invoiced."
                    ]
                }
            )


class CheckoutRequest(Strict):
    """Body of POST /customers/{customer_id}/cart/checkout (with an Idempotency-Key header)."""

    payment_method_id = fields.String(required=True, validate=validate.Length(min=1, max=60))
    billing_address = fields.Nested(BillingAddressSchema, required=True)
    end_user = fields.Nested(PersonSchema, required=True)
    po_number = fields.String(allow_none=True, validate=validate.Length(max=60))
    # Card checkout: the reseller usually sends the activation e-mail later, from the order.
    send_activation_email = fields.Boolean(load_default=False)


class QuoteOrderRequest(Strict):
    """Body of POST /quotes/{number}/order (with an Idempotency-Key header); may be empty."""

    # The PO to invoice against; the quote's own PO when omitted.
    po_number = fields.String(allow_none=True, validate=validate.Length(min=1, max=60))
    send_activation_email = fields.Boolean(load_default=False)


class CancelOrderRequest(Strict):
    """Body of POST /orders/{number}/cancel; may be empty."""

    reason = fields.String(allow_none=True, validate=validate.Length(max=500))


class ActionAcceptedSchema(Strict):
    """Answer (202) of POST /orders/{number}/resend-licenses and /activation-email."""

    order_number = fields.String(dump_only=True)
    status = fields.String(dump_only=True)
    license_ids = fields.List(fields.String(), dump_only=True)
    recipient = fields.String(dump_only=True)


class OrderLineSchema(PricedLineSchema):
    """A line of an order (GET /orders/{number})."""

    product_name = fields.String(dump_only=True, allow_none=True)


class OrderLicenseSchema(Strict):
    """A license an order produced or extended, as license-assign reported it."""

    license_id = fields.String(dump_only=True)
    product = fields.String(dump_only=True)


class SourceSchema(Strict):
    """What an order was placed from: ``direct``, a ``cart`` (its id) or a ``quote`` (number)."""

    kind = fields.String(dump_only=True)
    reference = fields.String(dump_only=True, allow_none=True)


class OrderSchema(Strict):
    """An order: answer of GET /orders/{number}, POST /orders, checkout, quote order, cancel."""

    number = fields.String(dump_only=True)
    status = fields.String(dump_only=True)
    payment_status = fields.String(dump_only=True)
    payment_failure_reason = fields.String(dump_only=True, allow_none=True)
    placed_at = fields.DateTime(dump_only=True)
    buyer = fields.Dict(dump_only=True)
    customer = fields.Nested(CustomerRefSchema, dump_only=True)
    end_user = fields.Nested(PersonSchema, dump_only=True)
    po_number = fields.String(dump_only=True, allow_none=True)
    payment_kind = fields.String(dump_only=True)
    lines = fields.List(fields.Nested(OrderLineSchema), dump_only=True)
    # Net sum of the lines, and the tax on it per rate; ``total`` is subtotal + tax.
    subtotal = Money(dump_only=True)
    tax = fields.List(fields.Nested(TaxLineSchema), dump_only=True)
    total = Money(dump_only=True)
    currency = fields.String(dump_only=True)
    invoice_number = fields.String(dump_only=True, allow_none=True)
    # Set once billing credited the order (after a cancellation).
    credit_note_number = fields.String(dump_only=True, allow_none=True)
    license_ids = fields.List(fields.String(), dump_only=True)
    # The same licenses with their products (renew and copy need to know which is which).
    licenses = fields.List(fields.Nested(OrderLicenseSchema), dump_only=True)
    portal_url = fields.String(dump_only=True)
    payment_method_id = fields.String(dump_only=True, allow_none=True)
    send_activation_email = fields.Boolean(dump_only=True)
    billing_address = fields.Nested(BillingAddressSchema, dump_only=True, allow_none=True)
    source = fields.Nested(SourceSchema, dump_only=True)
    cancelled_at = fields.DateTime(dump_only=True, allow_none=True)
    cancellable_until = fields.DateTime(dump_only=True, allow_none=True)


OrderPageSchema = page_of(OrderSchema, "OrderPageSchema")
OrderPageSchema.__doc__ = "Answer of GET /orders."


class OrderSearchArgs(ListArgs):
    """Query of GET /orders."""

    number = fields.String()
    po_number = fields.String()
    customer_name = fields.String()
    customer_email = fields.String()
    customer_id = fields.String()
    # The order placed from this quote, if any (an ordered quote also shows its order number).
    quote_number = fields.String()
    # `from` is a Python keyword: the attribute differs, the query parameter does not.
    from_ = fields.Date(data_key="from")
    to = fields.Date()
    status = fields.String(validate=validate.OneOf(["placed", "cancelled"]))
