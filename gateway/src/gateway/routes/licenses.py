"""A customer account's licenses, people, teams, packs, links and renewals (license-assign)."""

from gateway.routes import SALES, Route
from gateway.routes._schemas import contract
from portal_contracts.api.common import ListArgs

TAG = "Licenses"
PUBLIC_TAG = "Activation"
C = "/customers/{customer_id}"


def _customer(method, path, summary, **kw) -> Route:
    return Route(
        method,
        C + path,
        "license-assign",
        summary,
        TAG,
        roles=SALES,
        customer_admin=True,
        customer_in="path",
        **kw,
    )


ROUTES = [
    _customer(
        "GET",
        "/licenses",
        "The account's licenses",
        query=contract("licenses", "LicenseListArgs"),
        response=contract("licenses", "LicensePageSchema"),
    ),
    _customer(
        "POST",
        "/assignments",
        "Assign licenses to people (JSON, or text/csv rows first_name,last_name,email); "
        "more than 200 rows (up to 10,000) are assigned as a job: 202 and its Location",
        query=contract("licenses", "CsvAssignmentArgs"),
        body=contract("licenses", "AssignmentRequest"),
        accepts=("text/csv",),
        response=contract("licenses", "AssignmentResultSchema"),
        accepted=contract("licenses", "AssignmentJobSchema"),
    ),
    _customer(
        "GET",
        "/assignment-jobs/{job_id}",
        "A big assignment upload: its progress and, when done, every row's outcome",
        response=contract("licenses", "AssignmentJobSchema"),
    ),
    _customer(
        "GET",
        "/users",
        "Active users: who holds which license",
        query=ListArgs,
        response=contract("licenses", "UserPageSchema"),
    ),
    _customer(
        "GET",
        "/licenses/{license_id}",
        "One license",
        response=contract("licenses", "LicenseSchema"),
    ),
    _customer(
        "POST",
        "/licenses/{license_id}/revoke",
        "Revoke a license now; it is available again",
        response=contract("licenses", "RevokeResultSchema"),
        errors=(409,),
    ),
    _customer(
        "GET",
        "/licenses/{license_id}/activation-code",
        "The license's current offline activation code",
        response=contract("licenses", "ActivationCodeSchema"),
    ),
    _customer(
        "GET",
        "/teams",
        "The account's teams",
        query=ListArgs,
        response=contract("licenses", "TeamPageSchema"),
    ),
    _customer(
        "POST",
        "/teams",
        "Create a team",
        body=contract("licenses", "CreateTeamRequest"),
        response=contract("licenses", "TeamSchema"),
        status=201,
    ),
    _customer(
        "PATCH",
        "/teams/{team_id}",
        "Rename a team (names are unique per account, whatever their case)",
        body=contract("licenses", "RenameTeamRequest"),
        response=contract("licenses", "TeamSchema"),
        errors=(409,),
    ),
    _customer(
        "POST",
        "/teams/{team_id}/merge",
        "Merge a team into another: all its licenses and invitation links move, the team goes away",
        body=contract("licenses", "MergeTeamRequest"),
        response=contract("licenses", "MergeResultSchema"),
        errors=(409,),
    ),
    _customer(
        "POST",
        "/teams/{team_id}/transfer",
        "Move licenses to another team",
        body=contract("licenses", "TransferRequest"),
        response=contract("licenses", "TransferResultSchema"),
    ),
    _customer(
        "GET",
        "/subscription-packs",
        "Subscription packs with their subscriptions and common end date",
        query=ListArgs,
        response=contract("licenses", "SubscriptionPackPageSchema"),
    ),
    _customer(
        "GET",
        "/invitation-links",
        "The account's invitation links",
        query=ListArgs,
        response=contract("licenses", "InvitationLinkPageSchema"),
    ),
    _customer(
        "POST",
        "/invitation-links",
        "Create an invitation link for a team's product pool",
        body=contract("licenses", "CreateInvitationLinkRequest"),
        response=contract("licenses", "InvitationLinkSchema"),
        status=201,
    ),
    _customer(
        "POST",
        "/invitation-links/{link_id}/regenerate",
        "A new URL for a link; the old one stops working",
        response=contract("licenses", "InvitationLinkSchema"),
    ),
    _customer(
        "DELETE",
        "/invitation-links/{link_id}",
        "Disable an invitation link",
        status=204,
    ),
    _customer(
        "GET",
        "/licensing-report",
        "Every license of the account, as CSV",
        produces=("text/csv",),
    ),
    _customer(
        "GET",
        "/renewals",
        "Renewable subscriptions, each with its allowed actions",
        query=contract("licenses", "RenewalSearchArgs"),
        response=contract("licenses", "RenewablePageSchema"),
    ),
    Route(
        "POST",
        "/invitations/{token}/claim",
        "license-assign",
        "Claim a license through an invitation link",
        PUBLIC_TAG,
        public=True,
        body=contract("licenses", "ClaimRequest"),
        response=contract("licenses", "AssignedSchema"),
        status=201,
        errors=(404, 409, 410),
    ),
    Route(
        "POST",
        "/activation-codes/verify",
        "license-assign",
        "Verify an offline activation code",
        PUBLIC_TAG,
        public=True,
        body=contract("licenses", "VerifyCodeRequest"),
        response=contract("licenses", "VerifyCodeResponse"),
    ),
    Route(
        "GET",
        "/activation-codes/public-key",
        "license-assign",
        "The Ed25519 public key that verifies activation codes offline",
        PUBLIC_TAG,
        public=True,
        response=contract("licenses", "PublicKeySchema"),
    ),
    Route(
        "GET",
        "/my/licenses",
        "license-assign",
        "A license holder's own licenses (with a My licenses token only)",
        PUBLIC_TAG,
        license_holder=True,
        resellers=False,
        response=contract("licenses", "MyLicensesSchema"),
    ),
    Route(
        "GET",
        "/my/licenses/{license_id}/activation-code",
        "license-assign",
        "The offline activation code of one of the holder's own licenses",
        PUBLIC_TAG,
        license_holder=True,
        resellers=False,
        response=contract("licenses", "MyActivationCodeSchema"),
    ),
]
