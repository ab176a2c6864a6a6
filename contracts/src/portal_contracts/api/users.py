"""A reseller admin's portal users: list, invite, change roles, disable."""

from marshmallow import fields, validate

from portal_contracts.api.common import EmailAddress, ListArgs, SingleLine, Strict, page_of

RESELLER_ROLES = ["admin", "sales", "billing"]

_roles = fields.List(
    fields.String(validate=validate.OneOf(RESELLER_ROLES)),
    validate=validate.Length(min=1, max=len(RESELLER_ROLES)),
)


class InviteUserRequest(Strict):
    """Body of POST /users."""

    email = EmailAddress(required=True)
    roles = fields.List(
        fields.String(validate=validate.OneOf(RESELLER_ROLES)),
        required=True,
        validate=validate.Length(min=1, max=len(RESELLER_ROLES)),
    )
    name = SingleLine(min=1, max=200)


class UpdateUserRequest(Strict):
    """Body of PATCH /users/{user_id}."""

    roles = fields.List(
        fields.String(validate=validate.OneOf(RESELLER_ROLES)),
        validate=validate.Length(min=1, max=len(RESELLER_ROLES)),
    )
    disabled = fields.Boolean()


class UserSchema(Strict):
    """One portal user in GET /users and the answer of PATCH /users/{user_id}."""

    id = fields.String(dump_only=True)
    email = fields.String(dump_only=True)
    name = fields.String(dump_only=True, allow_none=True)
    roles = fields.List(fields.String(), dump_only=True)
    disabled = fields.Boolean(dump_only=True)
    created_at = fields.DateTime(dump_only=True)


class InvitedUserSchema(Strict):
    """Answer of POST /users (202): the invitation as asked. The person gets a temporary
    password by e-mail; the answer is the same whether or not the address signs in elsewhere."""

    email = fields.String(dump_only=True)
    name = fields.String(dump_only=True, allow_none=True)
    roles = fields.List(fields.String(), dump_only=True)


UserPageSchema = page_of(UserSchema, "UserPageSchema")


class UserListArgs(ListArgs):
    """Query of GET /users."""
