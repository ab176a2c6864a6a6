"""My licenses: a license holder's own page, opened by a single-use, expiring e-mailed link.

A holder asks for a link by email (``POST /api/v1/auth/my-licenses-link``; the gateway asks here
and always answers 202), or finds one in the assignment e-mail. The gateway redeems the link
here (``/internal/holder-links/redeem``: once, before it expires) and gives the browser a
short-lived token of its own kind, ``license_holder``, bound to that email. With it the gateway
lets through only ``/my/licenses...``, and this service answers those with the licenses assigned
to that email, and nothing else of any account.
"""

from __future__ import annotations

from flask import Blueprint

from license_assign import queries
from license_assign.api.access import gateway_only, handle, holder
from license_assign.commands import RedeemHolderLink, RequestHolderLink
from portal_contracts.api.auth import MyLicensesLinkRequest
from portal_runtime.errors import Invalid
from portal_runtime.web import current_service, json_body, schema

bp = Blueprint("my_licenses", __name__)


@bp.post("/internal/holder-links")
def request_holder_link():
    """The gateway, for ``POST /auth/my-licenses-link``: the same 202 whether or not a link
    went out (the gateway adds nothing to it)."""
    gateway_only()
    handle(RequestHolderLink(schema(MyLicensesLinkRequest).load(json_body())["email"]))
    return {}, 202


@bp.post("/internal/holder-links/redeem")
def redeem_holder_link():
    """The gateway, opening a My licenses session: whose link this is. Single use; 410 once used
    or expired, 404 for a token that never was one."""
    gateway_only()
    token = json_body().get("token")
    if not isinstance(token, str) or not token:
        raise Invalid("token", "Missing.")
    return handle(RedeemHolderLink(token))


@bp.get("/my/licenses")
def my_licenses():
    identity = holder()
    service = current_service()
    with service.sessions() as session:
        return queries.my_licenses(session, identity.email, service.clock.today())


@bp.get("/my/licenses/<license_id>/activation-code")
def my_activation_code(license_id: str):
    identity = holder()
    with current_service().sessions() as session:
        return queries.my_activation_code(session, identity.email, license_id)
