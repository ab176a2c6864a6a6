"""Signing in and who the caller is (served by the gateway itself)."""

from gateway import sessions
from gateway.routes import SALES_OR_BILLING, Route
from portal_contracts.api.auth import ChangePasswordRequest, MeSchema, TokenRequest, TokenSchema

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
        "Change one's own password (e.g. the temporary one of an invitation)",
        TAG,
        roles=SALES_OR_BILLING,
        customer_admin=True,
        body=ChangePasswordRequest,
        status=204,
        handler=sessions.change_password,
        errors=(429,),
    ),
]
