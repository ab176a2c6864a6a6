"""Shapes shared by several resources of the public API."""

from marshmallow import RAISE, Schema, fields, validate


class Strict(Schema):
    class Meta:
        unknown = RAISE
        ordered = True


def Money(**kw):  # noqa: N802 - reads like a field type
    return fields.Decimal(as_string=True, allow_nan=False, **kw)


class PersonSchema(Strict):
    first_name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    last_name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    email = fields.Email(required=True, validate=validate.Length(max=254))


class CustomerRefSchema(Strict):
    id = fields.String(dump_only=True)
    name = fields.String(dump_only=True)
    email = fields.String(dump_only=True, allow_none=True)


class ListArgs(Strict):
    limit = fields.Integer(validate=validate.Range(min=1, max=100), load_default=50)
    cursor = fields.String()


class PageSchema(Strict):
    next_cursor = fields.String(allow_none=True)


def page_of(item_schema, name: str):
    """A ``{items: [...], next_cursor}`` list schema for ``item_schema``."""
    return type(name, (PageSchema,), {"items": fields.List(fields.Nested(item_schema))})


LINE_KINDS = ["new", "renewal", "upgrade", "downgrade"]


class PricedLineSchema(Strict):
    """The fields every priced line shows, in a cart, a quote or an order: those of an
    ``orders.order.placed`` line."""

    line_no = fields.Integer(dump_only=True)
    kind = fields.String(dump_only=True)
    product = fields.String(dump_only=True)
    quantity = fields.Integer(dump_only=True)
    term_years = fields.Integer(dump_only=True, allow_none=True)
    start_date = fields.Date(dump_only=True)
    end_date = fields.Date(dump_only=True)
    fallback_eligible = fields.Boolean(dump_only=True)
    team_id = fields.String(dump_only=True, allow_none=True)
    team_name = fields.String(dump_only=True, allow_none=True)
    subscription_pack = fields.String(dump_only=True, allow_none=True)
    license_ids = fields.List(fields.String(), dump_only=True)
    unit_price = Money(dump_only=True)
    amount = Money(dump_only=True)
