"""Events the license-assign service publishes."""

from marshmallow import validate

from portal_contracts.base import Payload, fields
from portal_contracts.common import Person


class IssuedLicense(Payload):
    license_id = fields.String(required=True)
    product = fields.String(required=True)
    valid_from = fields.Date(required=True)
    valid_until = fields.Date(required=True)
    team_id = fields.String(required=True)
    subscription_pack = fields.String(required=True)
    # Additive: what a notification about these licenses needs, so nobody has to call back.
    fallback_version = fields.String(load_default=None, allow_none=True)
    status = fields.String(load_default=None, allow_none=True)
    assignee = fields.Nested(Person, load_default=None, allow_none=True)
    # The holder's current offline activation code (a renewal issues a new one).
    activation_code = fields.String(load_default=None, allow_none=True)


class LicensesIssued(Payload):
    """The licenses an order line produced or extended (renewal) or changed (upgrade)."""

    order_number = fields.String(required=True)
    customer_id = fields.String(required=True)
    licenses = fields.List(fields.Nested(IssuedLicense), required=True)
    # Additive: which line of the order, and what it did (new, renewal, upgrade, downgrade).
    line_no = fields.Integer(load_default=None, allow_none=True)
    kind = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.OneOf(["new", "renewal", "upgrade", "downgrade"]),
    )
    customer_name = fields.String(load_default=None, allow_none=True)


class LicenseAssigned(Payload):
    license_id = fields.String(required=True)
    customer_id = fields.String(required=True)
    customer_name = fields.String(required=True)
    product = fields.String(required=True)
    assignee = fields.Nested(Person, required=True)
    valid_until = fields.Date(required=True)
    fallback_version = fields.String(load_default=None, allow_none=True)
    # The signed offline activation code the person receives by email.
    activation_code = fields.String(required=True)
    reason = fields.String(
        required=True, validate=validate.OneOf(["assigned", "claimed", "renewed", "resent"])
    )
    # Additive: where the license sits, and its order when the assignment follows one.
    team_id = fields.String(load_default=None, allow_none=True)
    subscription_pack = fields.String(load_default=None, allow_none=True)
    order_number = fields.String(load_default=None, allow_none=True)
    # Additive: a single-use link's secret to the holder's own "My licenses" page (only its hash
    # is stored; the e-mail is the one place it is written), and until when it works.
    my_licenses_token = fields.String(load_default=None, allow_none=True)
    my_licenses_expires_at = fields.DateTime(load_default=None, allow_none=True)


class LicenseRevoked(Payload):
    license_id = fields.String(required=True)
    customer_id = fields.String(required=True)
    customer_name = fields.String(required=True)
    product = fields.String(required=True)
    former_assignee = fields.Nested(Person, required=True)
    reason = fields.String(required=True, validate=validate.OneOf(["revoked", "order_cancelled"]))


class InvitationClaimed(Payload):
    link_id = fields.String(required=True)
    customer_id = fields.String(required=True)
    customer_name = fields.String(required=True)
    product = fields.String(required=True)
    license_id = fields.String(required=True)
    claimant = fields.Nested(Person, required=True)
    admin_emails = fields.List(fields.Email(), required=True)


class Inviter(Payload):
    name = fields.String(load_default=None, allow_none=True)
    email = fields.Email(load_default=None, allow_none=True)


class AdminInvited(Payload):
    """A person became (or was invited again as) an admin of a customer account: they get a
    single-use link to set their password."""

    customer_id = fields.String(required=True)
    customer_name = fields.String(required=True)
    user_id = fields.String(required=True)
    admin = fields.Nested(Person, required=True)
    # The link's secret: only its hash is stored; the e-mail is the one place it is written.
    token = fields.String(required=True)
    expires_at = fields.DateTime(required=True)
    reason = fields.String(
        required=True, validate=validate.OneOf(["new_account", "invited", "resent"])
    )
    invited_by = fields.Nested(Inviter, load_default=None, allow_none=True)


class HolderLinkIssued(Payload):
    """A license holder asked for a link to their own licenses ("My licenses"): a single-use,
    expiring link by e-mail."""

    holder = fields.Nested(Person, required=True)
    token = fields.String(required=True)
    expires_at = fields.DateTime(required=True)
    license_count = fields.Integer(load_default=None, allow_none=True)


class ManagementRequested(Payload):
    """A reseller asked to manage an account; its admins may approve or decline by the link."""

    request_id = fields.String(required=True)
    customer_id = fields.String(required=True)
    customer_name = fields.String(required=True)
    reseller_id = fields.String(required=True)
    reseller_name = fields.String(required=True)
    requested_by = fields.Nested(Inviter, required=True)
    admin_emails = fields.List(fields.Email(), required=True)
    token = fields.String(required=True)
    expires_at = fields.DateTime(required=True)


EVENTS = {
    ("licensing.licenses.issued", 1): LicensesIssued,
    ("licensing.license.assigned", 1): LicenseAssigned,
    ("licensing.license.revoked", 1): LicenseRevoked,
    ("licensing.invitation.claimed", 1): InvitationClaimed,
    ("licensing.admin.invited", 1): AdminInvited,
    ("licensing.management.requested", 1): ManagementRequested,
    ("licensing.holder_link.issued", 1): HolderLinkIssued,
}
