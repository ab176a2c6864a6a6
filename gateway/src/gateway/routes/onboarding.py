"""Onboarding and the people of an account: new customer accounts, customer admins and their
password links, managing resellers and requests to manage an account."""

from gateway import onboarding
from gateway.routes import SALES, Route
from portal_contracts.api import admins as schemas
from portal_contracts.api.auth import SetPasswordRequest, SetPasswordSchema
from portal_contracts.api.common import ListArgs

TAG = "Onboarding"
C = "/customers/{customer_id}"


def _customer(method, path, summary, *, resellers=True, customer_admin=True, **kw) -> Route:
    return Route(
        method,
        C + path,
        kw.pop("service", "license-assign"),
        summary,
        TAG,
        roles=SALES,
        customer_admin=customer_admin,
        resellers=resellers,
        customer_in="path",
        **kw,
    )


ROUTES = [
    Route(
        "POST",
        "/customers",
        "gateway",
        "Create a customer account (and enter it); its contact becomes the first admin",
        TAG,
        roles=SALES,
        body=schemas.CreateCustomerRequest,
        response=schemas.CreatedCustomerSchema,
        status=201,
        handler=onboarding.create_customer,
        errors=(503,),
    ),
    _customer(
        "GET",
        "/admins",
        "The account's admins (invited until they have set a password)",
        query=schemas.AdminListArgs,
        response=schemas.AdminPageSchema,
    ),
    _customer(
        "POST",
        "/admins",
        "Invite an admin: a single-use password link by e-mail (7 days)",
        resellers=False,
        body=schemas.InviteAdminRequest,
        response=schemas.AdminSchema,
        status=202,
        handler=onboarding.invite_admin,
        errors=(409,),
    ),
    _customer(
        "POST",
        "/admins/{user_id}/resend",
        "Send an invited admin a new password link (the old one stops working)",
        response=schemas.AdminSchema,
        status=202,
        errors=(409,),
    ),
    _customer(
        "DELETE",
        "/admins/{user_id}",
        "Remove an admin (never the last one who can sign in: 409)",
        resellers=False,
        status=204,
        handler=onboarding.remove_admin,
        errors=(409,),
    ),
    _customer(
        "GET",
        "/managing-resellers",
        "The resellers that manage the account",
        query=ListArgs,
        response=schemas.ManagingResellerPageSchema,
    ),
    _customer(
        "POST",
        "/managing-resellers",
        "Add a reseller as admin of the account, by one of its users' email",
        resellers=False,
        body=schemas.AddManagingResellerRequest,
        response=schemas.ManagingResellerSchema,
        status=201,
        handler=onboarding.add_managing_reseller,
    ),
    _customer(
        "DELETE",
        "/managing-resellers/{reseller_id}",
        "Stop a reseller managing the account",
        resellers=False,
        status=204,
    ),
    _customer(
        "GET",
        "/revocation-limit",
        "The account's monthly cap on revocations (null: none) and how many it made this month",
    ),
    _customer(
        "POST",
        "/management-requests",
        "Ask to manage the account: its admins get Approve / Decline links",
        customer_admin=False,
        response=schemas.ManagementRequestSchema,
        status=202,
        errors=(409,),
    ),
    Route(
        "GET",
        "/management-requests/{token}",
        "license-assign",
        "A request to manage an account, by its e-mailed token",
        TAG,
        public=True,
        response=schemas.ManagementRequestSchema,
        errors=(404,),
    ),
    Route(
        "POST",
        "/management-requests/{token}/approve",
        "license-assign",
        "Approve a request to manage the account (by its e-mailed token)",
        TAG,
        public=True,
        response=schemas.ManagementRequestSchema,
        errors=(404, 409, 410),
    ),
    Route(
        "POST",
        "/management-requests/{token}/decline",
        "license-assign",
        "Decline a request to manage the account (by its e-mailed token)",
        TAG,
        public=True,
        response=schemas.ManagementRequestSchema,
        errors=(404, 409, 410),
    ),
    Route(
        "GET",
        "/invitations/{token}",
        "license-assign",
        "What an invitation link offers, or why it no longer works (410)",
        "Activation",
        public=True,
        errors=(404, 410),
    ),
    Route(
        "POST",
        "/auth/password",
        "gateway",
        "Set a password from a single-use, expiring e-mail link",
        TAG,
        public=True,
        body=SetPasswordRequest,
        response=SetPasswordSchema,
        handler=onboarding.set_password,
        errors=(404, 409, 410),
    ),
]
