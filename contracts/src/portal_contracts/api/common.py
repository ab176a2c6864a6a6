"""Shapes shared by several resources of the public API."""

import unicodedata

from marshmallow import RAISE, Schema, ValidationError, fields, validate


class Strict(Schema):
    class Meta:
        unknown = RAISE
        ordered = True


def Money(**kw):  # noqa: N802 - reads like a field type
    return fields.Decimal(as_string=True, allow_nan=False, **kw)


# Control characters (CR, LF, TAB, NUL, DEL, C1) and the Unicode line/paragraph separators: a
# name or an address carrying one could split a mail header or a CSV row, so none is accepted.
_CONTROL = frozenset({"Cc", "Zl", "Zp"})


def no_control_characters(value: str) -> None:
    if any(unicodedata.category(ch) in _CONTROL for ch in value):
        raise ValidationError("Must not contain control characters (line breaks, tabs, ...).")


def SingleLine(*, min: int = 0, max: int, **kw):  # noqa: N802 - reads like a field type
    """A name or label: one line of text, ``min``..``max`` characters, no control characters."""
    return fields.String(validate=[validate.Length(min=min, max=max), no_control_characters], **kw)


def EmailAddress(**kw):  # noqa: N802 - reads like a field type
    """An email address (at most 254 characters, no control characters even when quoted)."""
    return fields.Email(validate=[validate.Length(max=254), no_control_characters], **kw)


class PersonSchema(Strict):
    first_name = SingleLine(required=True, min=1, max=100)
    last_name = SingleLine(required=True, min=1, max=100)
    email = EmailAddress(required=True)


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


class TaxLineSchema(Strict):
    """The tax of one rate: ``rate`` in percent (``"21"``, ``"0"``), ``amount`` to the cent, and
    the legal wording (``note``): the rate and country, "Reverse charge: ..." for an EU business
    buyer in another member state, "Outside the scope of EU VAT ..." for a buyer outside the EU."""

    rate = Money(dump_only=True)
    amount = Money(dump_only=True)
    note = fields.String(dump_only=True)


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
