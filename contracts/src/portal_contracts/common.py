"""Nested shapes that several events share."""

from marshmallow import validate

from portal_contracts.base import Money, Payload, fields


class Person(Payload):
    first_name = fields.String(required=True)
    last_name = fields.String(required=True)
    email = fields.Email(required=True)


class Customer(Payload):
    id = fields.String(required=True)
    name = fields.String(required=True)
    email = fields.Email(required=True, allow_none=True)


class TaxLine(Payload):
    """The tax of one rate on an order, quote or invoice: ``rate`` in percent (0 for a reverse
    charge or a sale outside the EU), ``amount`` to the cent, ``note`` the legal wording."""

    rate = Money(required=True)
    amount = Money(required=True)
    note = fields.String(required=True)


class Buyer(Payload):
    """Who bought: a reseller (through one of its users) or the customer itself."""

    kind = fields.String(required=True, validate=validate.OneOf(["reseller", "customer"]))
    reseller_id = fields.String(load_default=None, allow_none=True)
    customer_id = fields.String(load_default=None, allow_none=True)
    name = fields.String(required=True)
    email = fields.Email(required=True)
    user_id = fields.String(load_default=None, allow_none=True)
