"""Signing in and who the caller is (served by the gateway itself)."""

from gateway import license_holders, sessions
from gateway.routes import SALES_OR_BILLING, Route
from portal_contracts.api.auth import (
    ChangePasswordRequest,
    MeSchema,
    MyLicensesLinkAnswer,
    MyLicensesLinkRequest,
    MyLicensesSessionRequest,
    MyLicensesSessionSchema,
    TokenRequest,
    TokenSchema,
)

TAG = "Auth"

ROUTES = [
    Route(
        "POST",
        "/auth/token",
        "gateway",
        "Sign in: a bearer token for a reseller user or a customer admin",
        TAG,
        public=True,
        body=TokenRequest,
        response=TokenSchema,
        handler=sessions.create_token,
        errors=(401, 429),
    ),
    Route(
        "GET",
        "/me",
        "gateway",
        "Who the token belongs to",
        TAG,
        roles=SALES_OR_BILLING,
        customer_admin=True,
        response=MeSchema,
        handler=sessions.me,
    ),
    Route(
        "POST",
        "/me/password",
        "gateway",
        "Change one's own password; ends the tokens issued before and answers a new one",
        TAG,
        roles=SALES_OR_BILLING,
        customer_admin=True,
        body=ChangePasswordRequest,
        response=TokenSchema,
        handler=sessions.change_password,
        errors=(429,),
    ),
    Route(
        "POST",
        "/auth/my-licenses-link",
        "gateway",
        "A license holder asks for a single-use link (7 days) to their own licenses by e-mail; "
        "the same 202 whether or not the email holds a license",
        TAG,
        public=True,
        body=MyLicensesLinkRequest,
        response=MyLicensesLinkAnswer,
        status=202,
        handler=license_holders.request_link,
        errors=(429,),
    ),
    Route(
        "POST",
        "/auth/my-licenses-session",
        "gateway",
        "Open an e-mailed My licenses link (once): a short-lived bearer token of kind "
        "license_holder that reads only /my/licenses of that email",
        TAG,
        public=True,
        body=MyLicensesSessionRequest,
        response=MyLicensesSessionSchema,
        handler=license_holders.open_session,
        errors=(404, 410),
    ),
    Route(
        "POST",
        "/auth/logout",
        "gateway",
        "Sign out: the caller's tokens (on every device) stop working",
        TAG,
        roles=SALES_OR_BILLING,
        customer_admin=True,
        status=204,
        handler=sessions.logout,
    ),
]
