"""Onboarding and the people of an account: a new customer account, its admins, the resellers
that manage it, and requests to manage it."""

from marshmallow import fields, pre_load, validate

from portal_contracts.api.common import (
    EmailAddress,
    ListArgs,
    PersonSchema,
    SingleLine,
    Strict,
    page_of,
)

COUNTRY = validate.Regexp(r"^[A-Z]{2}$", error="A two-letter country code, e.g. DE or US.")
VAT_ID = validate.Regexp(
    r"^[A-Z0-9][A-Z0-9 .-]{1,28}[A-Z0-9]$",
    error="Letters and digits as on the VAT registration, e.g. DE123456789.",
)


class CreateCustomerRequest(Strict):
    """Body of POST /customers: a new customer account, entered by the reseller creating it."""

    name = SingleLine(required=True, min=1, max=200)
    country = fields.String(required=True, validate=COUNTRY)
    vat_id = fields.String(load_default=None, allow_none=True, validate=VAT_ID)
    contact = fields.Nested(PersonSchema, required=True)

    @pre_load
    def _normalise(self, data, **_):
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for key in ("name", "country", "vat_id"):
            if isinstance(data.get(key), str):
                data[key] = data[key].strip()
        if isinstance(data.get("country"), str):
            data["country"] = data["country"].upper()
        if isinstance(data.get("vat_id"), str):
            data["vat_id"] = data["vat_id"].upper() or None
        return data


class CreatedCustomerSchema(Strict):
    """Answer of POST /customers: the account, entered (as POST /customer-access answers)."""

    customer_id = fields.String(dump_only=True)
    name = fields.String(dump_only=True)
    country = fields.String(dump_only=True)
    vat_id = fields.String(dump_only=True, allow_none=True)
    expires_at = fields.DateTime(dump_only=True)
    admin = fields.Dict(dump_only=True)


class InviteAdminRequest(PersonSchema):
    """Body of POST /customers/{customer_id}/admins."""


class AdminSchema(Strict):
    """One admin of a customer account; ``invited`` until they have set a password."""

    user_id = fields.String(dump_only=True)
    first_name = fields.String(dump_only=True, allow_none=True)
    last_name = fields.String(dump_only=True, allow_none=True)
    email = fields.String(dump_only=True)
    status = fields.String(dump_only=True, validate=validate.OneOf(["invited", "active"]))
    invited_at = fields.DateTime(dump_only=True, allow_none=True)
    link_expires_at = fields.DateTime(dump_only=True, allow_none=True)


AdminPageSchema = page_of(AdminSchema, "AdminPageSchema")


class AdminListArgs(ListArgs):
    """Query of GET /customers/{customer_id}/admins."""


class AddManagingResellerRequest(Strict):
    """Body of POST /customers/{customer_id}/managing-resellers: a reseller user's email."""

    email = EmailAddress(required=True)


class ManagingResellerSchema(Strict):
    reseller_id = fields.String(dump_only=True)
    name = fields.String(dump_only=True)
    since = fields.DateTime(dump_only=True, allow_none=True)


ManagingResellerPageSchema = page_of(ManagingResellerSchema, "ManagingResellerPageSchema")


class ManagementRequestSchema(Strict):
    """A reseller's request to manage an account, as its e-mailed link shows it."""

    request_id = fields.String(dump_only=True)
    customer_id = fields.String(dump_only=True)
    customer_name = fields.String(dump_only=True)
    reseller_id = fields.String(dump_only=True)
    reseller_name = fields.String(dump_only=True)
    status = fields.String(
        dump_only=True, validate=validate.OneOf(["pending", "approved", "declined"])
    )
    expires_at = fields.DateTime(dump_only=True)
