"""Licenses of a customer account: licenses, assignments, users, teams, packs, invitation links,
the licensing report, renewals search and offline activation codes (license-assign)."""

from marshmallow import ValidationError, fields, validate, validates_schema

from portal_contracts.api.common import ListArgs, PersonSchema, SingleLine, Strict, page_of

STATUSES = ["available", "assigned", "suspended", "expired"]
# Rows of one assignment upload (CSV or JSON); more than ASSIGN_AT_ONCE_ROWS become a job (202).
MAX_ASSIGNEES = 10000
ASSIGN_AT_ONCE_ROWS = 200


def product_code(**kw) -> fields.String:
    return fields.String(validate=validate.Length(min=1, max=20), **kw)


# -- licenses -----------------------------------------------------------------------------------


class LicenseSchema(Strict):
    """One license in GET /customers/{customer_id}/licenses and the routes acting on one."""

    license_id = fields.String(dump_only=True)
    product = fields.String(dump_only=True)
    team_id = fields.String(dump_only=True)
    team_name = fields.String(dump_only=True)
    subscription_pack = fields.String(dump_only=True)
    status = fields.String(dump_only=True, validate=validate.OneOf(STATUSES))
    valid_from = fields.Date(dump_only=True)
    valid_until = fields.Date(dump_only=True)
    fallback_version = fields.String(dump_only=True, allow_none=True)
    grace_until = fields.Date(dump_only=True, allow_none=True)
    pending_product = fields.String(dump_only=True, allow_none=True)
    assignee = fields.Nested(PersonSchema, dump_only=True, allow_none=True)


LicensePageSchema = page_of(LicenseSchema, "LicensePageSchema")


class LicenseListArgs(ListArgs):
    """Query of GET /customers/{customer_id}/licenses."""

    product = fields.String()
    team_id = fields.String()
    status = fields.String(validate=validate.OneOf(STATUSES))
    assignee_email = fields.String()
    subscription_pack = fields.String()


class ActivationCodeSchema(Strict):
    """Answer of GET /customers/{customer_id}/licenses/{license_id}/activation-code."""

    license_id = fields.String(dump_only=True)
    activation_code = fields.String(dump_only=True)
    valid_until = fields.Date(dump_only=True)
    fallback_version = fields.String(dump_only=True, allow_none=True)


# -- assignments --------------------------------------------------------------------------------


class AssignmentRequest(Strict):
    """Body of POST /customers/{customer_id}/assignments (JSON): many people, or one license.

    Either ``{product, team_id?, assignees: [...]}`` or ``{license_id, assignee}``. The same route
    takes ``text/csv`` with a ``first_name,last_name,email`` header (``product`` and ``team_id``
    then go in the query string).
    """

    product = product_code()
    team_id = fields.String(allow_none=True, validate=validate.Length(max=40))
    assignees = fields.List(
        fields.Nested(PersonSchema), validate=validate.Length(min=1, max=MAX_ASSIGNEES)
    )
    license_id = fields.String(validate=validate.Length(min=1, max=40))
    assignee = fields.Nested(PersonSchema)

    @validates_schema
    def _one_shape(self, data, **_):
        if "license_id" in data or "assignee" in data:
            missing = {
                f: ["Required with license_id/assignee."]
                for f in ("license_id", "assignee")
                if f not in data
            }
            extra = {
                f: ["Not allowed with license_id."]
                for f in ("product", "assignees", "team_id")
                if f in data
            }
            if missing or extra:
                raise ValidationError({**missing, **extra})
        else:
            missing = {
                f: ["Required (or give license_id and assignee)."]
                for f in ("product", "assignees")
                if f not in data
            }
            if missing:
                raise ValidationError(missing)


class CsvAssignmentArgs(Strict):
    """Query of POST /customers/{customer_id}/assignments with a text/csv body."""

    product = product_code()
    team_id = fields.String(validate=validate.Length(max=40))


class AssignedSchema(Strict):
    """One assignment made: POST .../assignments and POST /invitations/{token}/claim."""

    license_id = fields.String(dump_only=True)
    product = fields.String(dump_only=True)
    team_id = fields.String(dump_only=True)
    valid_until = fields.Date(dump_only=True)
    fallback_version = fields.String(dump_only=True, allow_none=True)
    assignee = fields.Nested(PersonSchema, dump_only=True)
    row = fields.Integer(dump_only=True, allow_none=True)
    # Given to the claimant of an invitation at once (it is emailed as well).
    activation_code = fields.String(dump_only=True)


class FailedRowSchema(Strict):
    """One person (row of the list or CSV, from 1) that could not be assigned."""

    row = fields.Integer(dump_only=True)
    email = fields.String(dump_only=True, allow_none=True)
    reason = fields.String(dump_only=True)


class AssignmentResultSchema(Strict):
    """Answer of POST /customers/{customer_id}/assignments."""

    assigned = fields.List(fields.Nested(AssignedSchema), dump_only=True)
    failed = fields.List(fields.Nested(FailedRowSchema), dump_only=True)


class AssignmentJobSchema(Strict):
    """An upload of more than ``ASSIGN_AT_ONCE_ROWS`` rows, assigned in the background: the
    ``202`` answer of POST /customers/{customer_id}/assignments and
    GET /customers/{customer_id}/assignment-jobs/{job_id}. ``result`` is there once the job is
    ``done`` (or ``failed``: rows it could not get to are in ``result.failed`` with the reason)."""

    job_id = fields.String(dump_only=True)
    status = fields.String(
        dump_only=True, validate=validate.OneOf(["queued", "running", "done", "failed"])
    )
    product = fields.String(dump_only=True)
    team_id = fields.String(dump_only=True, allow_none=True)
    rows = fields.Integer(dump_only=True)
    processed = fields.Integer(dump_only=True)
    assigned = fields.Integer(dump_only=True)
    failed = fields.Integer(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    finished_at = fields.DateTime(dump_only=True, allow_none=True)
    result = fields.Nested(AssignmentResultSchema, dump_only=True, allow_none=True)


class RevokeResultSchema(LicenseSchema):
    """Answer of POST /customers/{customer_id}/licenses/{license_id}/revoke."""


# -- active users -------------------------------------------------------------------------------


class HeldLicenseSchema(Strict):
    """A license a user holds, in GET /customers/{customer_id}/users."""

    license_id = fields.String(dump_only=True)
    product = fields.String(dump_only=True)
    team_id = fields.String(dump_only=True)
    status = fields.String(dump_only=True)
    valid_until = fields.Date(dump_only=True)


class UserSchema(Strict):
    """One active user in GET /customers/{customer_id}/users: who holds which license."""

    email = fields.String(dump_only=True)
    first_name = fields.String(dump_only=True)
    last_name = fields.String(dump_only=True)
    licenses = fields.List(fields.Nested(HeldLicenseSchema), dump_only=True)


UserPageSchema = page_of(UserSchema, "UserPageSchema")


# -- teams --------------------------------------------------------------------------------------


class TeamSchema(Strict):
    """A team in GET/POST /customers/{customer_id}/teams."""

    team_id = fields.String(dump_only=True)
    name = SingleLine(required=True, min=1, max=100)
    is_default = fields.Boolean(dump_only=True)
    license_count = fields.Integer(dump_only=True)


class CreateTeamRequest(Strict):
    """Body of POST /customers/{customer_id}/teams."""

    name = SingleLine(required=True, min=1, max=100)


class RenameTeamRequest(Strict):
    """Body of PATCH /customers/{customer_id}/teams/{team_id}."""

    name = SingleLine(required=True, min=1, max=100)


class MergeTeamRequest(Strict):
    """Body of POST /customers/{customer_id}/teams/{team_id}/merge."""

    into_team_id = fields.String(required=True, validate=validate.Length(min=1, max=40))


class MergeResultSchema(Strict):
    """Answer of POST /customers/{customer_id}/teams/{team_id}/merge: the team that went away,
    how many licenses (and invitation links) moved, and the team they are in now."""

    merged_team_id = fields.String(dump_only=True)
    moved_licenses = fields.Integer(dump_only=True)
    moved_invitation_links = fields.Integer(dump_only=True)
    team = fields.Nested(TeamSchema, dump_only=True)


TeamPageSchema = page_of(TeamSchema, "TeamPageSchema")


class TransferRequest(Strict):
    """Body of POST /customers/{customer_id}/teams/{team_id}/transfer."""

    license_ids = fields.List(
        fields.String(validate=validate.Length(min=1, max=40)),
        required=True,
        validate=validate.Length(min=1, max=MAX_ASSIGNEES),
    )
    to_team_id = fields.String(required=True, validate=validate.Length(min=1, max=40))


class TransferResultSchema(Strict):
    """Answer of POST /customers/{customer_id}/teams/{team_id}/transfer."""

    from_team_id = fields.String(dump_only=True)
    to_team_id = fields.String(dump_only=True)
    license_ids = fields.List(fields.String(), dump_only=True)


# -- subscription packs -------------------------------------------------------------------------


class PackSubscriptionSchema(Strict):
    """A subscription (product and end date) inside a pack."""

    product = fields.String(dump_only=True)
    valid_until = fields.Date(dump_only=True)
    quantity = fields.Integer(dump_only=True)
    license_ids = fields.List(fields.String(), dump_only=True)
    order_numbers = fields.List(fields.String(), dump_only=True)


class SubscriptionPackSchema(Strict):
    """A pack in GET /customers/{customer_id}/subscription-packs."""

    number = fields.String(dump_only=True)
    subscriptions = fields.List(fields.Nested(PackSubscriptionSchema), dump_only=True)
    # The end date every subscription in the pack shares (co-termed), or null when they differ.
    common_end_date = fields.Date(dump_only=True, allow_none=True)
    latest_end_date = fields.Date(dump_only=True, allow_none=True)


SubscriptionPackPageSchema = page_of(SubscriptionPackSchema, "SubscriptionPackPageSchema")


# -- invitation links ---------------------------------------------------------------------------


class CreateInvitationLinkRequest(Strict):
    """Body of POST /customers/{customer_id}/invitation-links."""

    product = fields.String(required=True, validate=validate.Length(min=1, max=20))
    team_id = fields.String(required=True, validate=validate.Length(min=1, max=40))
    expires_at = fields.AwareDateTime(allow_none=True)
    allowed_domains = fields.List(
        fields.String(validate=validate.Length(min=1, max=253)),
        allow_none=True,
        validate=validate.Length(max=50),
    )
    max_claims = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=100_000))


class InvitationLinkSchema(Strict):
    """A link in GET /customers/{customer_id}/invitation-links (url and token only on creation)."""

    id = fields.String(dump_only=True)
    product = fields.String(dump_only=True)
    team_id = fields.String(dump_only=True)
    expires_at = fields.DateTime(dump_only=True, allow_none=True)
    allowed_domains = fields.List(fields.String(), dump_only=True)
    max_claims = fields.Integer(dump_only=True, allow_none=True)
    claims = fields.Integer(dump_only=True)
    enabled = fields.Boolean(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    url = fields.String(dump_only=True)
    token = fields.String(dump_only=True)


InvitationLinkPageSchema = page_of(InvitationLinkSchema, "InvitationLinkPageSchema")


class ClaimRequest(PersonSchema):
    """Body of POST /invitations/{token}/claim (public)."""


# -- renewals -----------------------------------------------------------------------------------


class RenewalSearchArgs(ListArgs):
    """Query of GET /customers/{customer_id}/renewals (license_id is repeatable; a list, so it
    takes ``limit`` and ``cursor``)."""

    license_id = fields.List(fields.String(validate=validate.Length(min=1, max=40)))
    po_number = fields.String()
    order_number = fields.String()
    subscription_pack = fields.String()
    assignee_email = fields.String()
    # One product's subscriptions only (e.g. those to upgrade to the All Products Pack).
    product = fields.String(validate=validate.Length(min=1, max=20))


class RenewableSchema(Strict):
    """A renewable subscription in GET /customers/{customer_id}/renewals."""

    product = fields.String(dump_only=True)
    subscription_pack = fields.String(dump_only=True)
    # The team of the subscription's licenses, or null when they sit in several teams.
    team_id = fields.String(dump_only=True, allow_none=True)
    valid_until = fields.Date(dump_only=True)
    status = fields.String(dump_only=True)
    quantity = fields.Integer(dump_only=True)
    license_ids = fields.List(fields.String(), dump_only=True)
    order_numbers = fields.List(fields.String(), dump_only=True)
    po_numbers = fields.List(fields.String(), dump_only=True)
    allowed_actions = fields.List(
        fields.String(validate=validate.OneOf(["renew", "upgrade", "downgrade"])), dump_only=True
    )


RenewablePageSchema = page_of(RenewableSchema, "RenewablePageSchema")


# -- offline activation codes -------------------------------------------------------------------


class VerifyCodeRequest(Strict):
    """Body of POST /activation-codes/verify (public)."""

    code = fields.String(required=True, validate=validate.Length(min=1, max=4096))


class LicenseeSchema(Strict):
    """The licensee a code names, in the answer of POST /activation-codes/verify."""

    name = fields.String(dump_only=True)
    email = fields.String(dump_only=True)


class VerifyCodeResponse(Strict):
    """Answer of POST /activation-codes/verify."""

    valid = fields.Boolean(dump_only=True)
    license_id = fields.String(dump_only=True, allow_none=True)
    product = fields.String(dump_only=True, allow_none=True)
    licensee = fields.Nested(LicenseeSchema, dump_only=True, allow_none=True)
    valid_until = fields.Date(dump_only=True, allow_none=True)
    fallback_version = fields.String(dump_only=True, allow_none=True)
    issued_at = fields.String(dump_only=True, allow_none=True)
    # Signed and genuine, but the subscription has ended (the fallback right may still hold).
    expired = fields.Boolean(dump_only=True)
    reason = fields.String(dump_only=True, allow_none=True)


class PublicKeySchema(Strict):
    """Answer of GET /activation-codes/public-key (public)."""

    algorithm = fields.String(dump_only=True)
    public_key = fields.String(dump_only=True)
    public_key_pem = fields.String(dump_only=True)


# -- my licenses (a license holder, by an e-mailed link) ----------------------------------------


class MyLicenseSchema(Strict):
    """One license in GET /my/licenses: the holder's own, with the organisation it is from."""

    license_id = fields.String(dump_only=True)
    product = fields.String(dump_only=True)
    customer_name = fields.String(dump_only=True)
    status = fields.String(dump_only=True)
    valid_from = fields.Date(dump_only=True)
    valid_until = fields.Date(dump_only=True)
    fallback_version = fields.String(dump_only=True, allow_none=True)
    assignee = fields.Nested(PersonSchema, dump_only=True, allow_none=True)


class MyLicensesSchema(Strict):
    """Answer of GET /my/licenses."""

    email = fields.String(dump_only=True)
    items = fields.List(fields.Nested(MyLicenseSchema), dump_only=True)
    next_cursor = fields.String(dump_only=True, allow_none=True)


class MyActivationCodeSchema(Strict):
    """Answer of GET /my/licenses/{license_id}/activation-code."""

    license_id = fields.String(dump_only=True)
    product = fields.String(dump_only=True)
    customer_name = fields.String(dump_only=True)
    licensee = fields.Nested(PersonSchema, dump_only=True)
    activation_code = fields.String(dump_only=True)
    valid_until = fields.Date(dump_only=True)
    fallback_version = fields.String(dump_only=True, allow_none=True)
