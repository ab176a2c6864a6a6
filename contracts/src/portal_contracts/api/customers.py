"""Entering a customer (access grants) and the reseller's list of customers."""

from marshmallow import ValidationError, fields, validate, validates_schema

from portal_contracts.api.common import EmailAddress, ListArgs, Strict, page_of

ENTRY_METHODS = ["customer_id", "email", "subscription_pack", "quote"]


class CustomerAccessRequest(Strict):
    """Body of POST /customer-access."""

    by = fields.String(required=True, validate=validate.OneOf(ENTRY_METHODS))
    # A customer ID, a contact's email, a subscription pack number or a quote number.
    value = fields.String(required=True, validate=validate.Length(min=1, max=254))
    # An email of the account (customer_id, subscription_pack) or the quote's licensee email.
    email = EmailAddress()

    @validates_schema
    def _email_needed(self, data, **_):
        # A managed account is entered by its customer ID alone (the gateway checks that).
        if data.get("by") not in ("email", "customer_id") and "email" not in data:
            raise ValidationError({"email": [f"Required to enter by {data.get('by')}."]})


class AccountSchema(Strict):
    """An account a contact's email belongs to (POST /customer-access by email)."""

    customer_id = fields.String(dump_only=True)
    name = fields.String(dump_only=True)


class CustomerAccessSchema(Strict):
    """Answer of POST /customer-access: the grant, or the accounts of an email."""

    customer_id = fields.String(dump_only=True)
    name = fields.String(dump_only=True)
    expires_at = fields.DateTime(dump_only=True)
    quote_number = fields.String(dump_only=True)
    accounts = fields.List(fields.Nested(AccountSchema), dump_only=True)


class CustomerSummarySchema(Strict):
    """One customer in GET /customers: managed, or entered recently."""

    customer_id = fields.String(dump_only=True)
    name = fields.String(dump_only=True, allow_none=True)
    managed = fields.Boolean(dump_only=True)
    access_expires_at = fields.DateTime(dump_only=True, allow_none=True)
    last_entered_at = fields.DateTime(dump_only=True, allow_none=True)


CustomerPageSchema = page_of(CustomerSummarySchema, "CustomerPageSchema")


class CustomerSchema(Strict):
    """Answer of GET /customers/{customer_id}: the account the caller may act on."""

    customer_id = fields.String(dump_only=True)
    name = fields.String(dump_only=True, allow_none=True)
    managed = fields.Boolean(dump_only=True)


class CustomerListArgs(ListArgs):
    """Query of GET /customers."""
