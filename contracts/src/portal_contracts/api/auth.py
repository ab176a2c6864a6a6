"""Auth: sign in for a bearer token, and who the token belongs to."""

from marshmallow import fields, validate

from portal_contracts.api.common import EmailAddress, Strict


class TokenRequest(Strict):
    """Body of POST /auth/token."""

    email = EmailAddress(required=True)
    password = fields.String(required=True, validate=validate.Length(min=1, max=200))


class TokenSchema(Strict):
    """Answer of POST /auth/token."""

    access_token = fields.String(dump_only=True)
    token_type = fields.String(dump_only=True)
    expires_in = fields.Integer(dump_only=True)


class MeSchema(Strict):
    """Answer of GET /me."""

    kind = fields.String(dump_only=True)
    user_id = fields.String(dump_only=True)
    email = fields.String(dump_only=True)
    name = fields.String(dump_only=True, allow_none=True)
    roles = fields.List(fields.String(), dump_only=True)
    reseller_id = fields.String(dump_only=True, allow_none=True)
    reseller_name = fields.String(dump_only=True, allow_none=True)
    customer_id = fields.String(dump_only=True, allow_none=True)
    currency = fields.String(dump_only=True, allow_none=True)


class ChangePasswordRequest(Strict):
    """Body of POST /me/password (e.g. replacing an invitation's temporary password)."""

    current_password = fields.String(required=True, validate=validate.Length(min=1, max=200))
    new_password = fields.String(required=True, validate=validate.Length(min=12, max=200))


class SetPasswordRequest(Strict):
    """Body of POST /auth/password: the token of an e-mailed link and the new password."""

    token = fields.String(required=True, validate=validate.Length(min=20, max=200))
    password = fields.String(required=True, validate=validate.Length(min=12, max=200))


class SetPasswordSchema(Strict):
    """Answer of POST /auth/password: who may now sign in."""

    email = fields.String(dump_only=True)
    kind = fields.String(dump_only=True)
    customer_id = fields.String(dump_only=True, allow_none=True)


class MyLicensesLinkRequest(Strict):
    """Body of POST /auth/my-licenses-link: where to send a link to one's own licenses."""

    email = EmailAddress(required=True)


class MyLicensesLinkAnswer(Strict):
    """Answer of POST /auth/my-licenses-link (202), the same whoever asked."""

    detail = fields.String(dump_only=True)


class MyLicensesSessionRequest(Strict):
    """Body of POST /auth/my-licenses-session: the token of an e-mailed My licenses link."""

    token = fields.String(required=True, validate=validate.Length(min=20, max=200))


class MyLicensesSessionSchema(TokenSchema):
    """Answer of POST /auth/my-licenses-session: a short-lived bearer token of kind
    ``license_holder`` that reads only ``/my/licenses...`` of this email."""

    kind = fields.String(dump_only=True)
    email = fields.String(dump_only=True)
