"""Events the gateway publishes: notices to the people behind portal sign-ins."""

from marshmallow import validate

from portal_contracts.base import Payload, fields
from portal_contracts.events.licensing import Inviter


class SignInThrottled(Payload):
    """Failed passwords made the gateway slow down sign-ins to this account from an address;
    its owner is told once per throttling episode (at most once per window), not per attempt."""

    user_id = fields.String(required=True)
    email = fields.Email(required=True)
    name = fields.String(load_default=None, allow_none=True)
    # Where the failures came from, and how many there were within the window.
    client_address = fields.String(required=True)
    failures = fields.Integer(required=True)
    window_minutes = fields.Integer(required=True)
    throttled_at = fields.DateTime(required=True)


class UserInvited(Payload):
    """A reseller admin invited a new portal user, who gets a temporary password by e-mail."""

    user_id = fields.String(required=True)
    email = fields.Email(required=True)
    name = fields.String(load_default=None, allow_none=True)
    reseller_id = fields.String(required=True)
    reseller_name = fields.String(required=True)
    roles = fields.List(fields.String(), required=True)
    # The one place this secret is written down; the gateway keeps only its hash.
    temporary_password = fields.String(required=True)
    invited_by = fields.Nested(Inviter, load_default=None, allow_none=True)


class InvitationRefused(Payload):
    """Someone invited an address that already signs in to the portal for another account.
    Nothing changed; the inviter was answered as for any invitation, and the address's owner
    is told what happened."""

    email = fields.Email(required=True)
    invited_as = fields.String(
        required=True, validate=validate.OneOf(["reseller_user", "customer_admin"])
    )
    # The reseller (reseller_user) or the customer account (customer_admin) it was invited to.
    account_name = fields.String(required=True)
    invited_by = fields.Nested(Inviter, load_default=None, allow_none=True)
    invited_at = fields.DateTime(required=True)


EVENTS = {
    ("gateway.sign_in.throttled", 1): SignInThrottled,
    ("gateway.user.invited", 1): UserInvited,
    ("gateway.invitation.refused", 1): InvitationRefused,
}
