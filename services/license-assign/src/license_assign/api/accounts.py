"""Routes of accounts and their people: a reseller creating an account, the account's admins
and the password links the gateway redeems, the resellers managing it, and a reseller's request
to manage it (approved or declined through an e-mailed link)."""

from __future__ import annotations

from flask import Blueprint

from license_assign import queries
from license_assign.api.access import handle, managing, own_admin, page_args
from license_assign.commands import (
    AddManagingReseller,
    CreateCustomer,
    DecideManagementRequest,
    InviteAdmin,
    RedeemPasswordLink,
    RemoveAdmin,
    RemoveManagingReseller,
    RequestManagement,
    ResendAdminLink,
)
from portal_contracts.api.admins import CreateCustomerRequest, InviteAdminRequest
from portal_runtime.errors import Forbidden, Invalid, NotFound
from portal_runtime.web import current_identity, current_service, json_body, require_role, schema

bp = Blueprint("accounts", __name__)


@bp.post("/internal/customers")
def create_customer():
    """A reseller creates an account (the gateway then grants it access): the contact becomes
    its first admin and gets a password link by e-mail."""
    identity = current_identity()
    if not identity.is_reseller:
        raise NotFound("route")
    require_role(identity, "admin", "sales")
    data = schema(CreateCustomerRequest).load(json_body())
    body = handle(
        CreateCustomer(data["name"], data["country"], data.get("vat_id"), data["contact"], identity)
    )
    return body, 201, {"Location": f"/customers/{body['customer_id']}"}


@bp.post("/internal/password-links/redeem")
def redeem_password_link():
    """The gateway, setting a password: whose link this is. Single use; 410 once used,
    replaced or expired; 404 for a token that never was one."""
    if not current_identity().is_service:
        raise NotFound("link")
    token = json_body().get("token")
    if not isinstance(token, str) or not token:
        raise Invalid("token", "Missing.")
    return handle(RedeemPasswordLink(token))


# -- admins -------------------------------------------------------------------------------------


@bp.get("/customers/<customer_id>/admins")
def list_admins(customer_id: str):
    managing(customer_id)
    with current_service().sessions() as session:
        return queries.admins(session, customer_id, *page_args())


@bp.post("/customers/<customer_id>/admins")
def invite_admin(customer_id: str):
    identity = own_admin(customer_id)
    data = schema(InviteAdminRequest).load(json_body())
    body = handle(InviteAdmin(customer_id, data, identity))
    return body, 202, {"Location": f"/customers/{customer_id}/admins/{body['user_id']}"}


@bp.post("/customers/<customer_id>/admins/<user_id>/resend")
def resend_admin_link(customer_id: str, user_id: str):
    identity = managing(customer_id)
    return handle(ResendAdminLink(customer_id, user_id, identity)), 202


@bp.delete("/customers/<customer_id>/admins/<user_id>")
def remove_admin(customer_id: str, user_id: str):
    own_admin(customer_id)
    handle(RemoveAdmin(customer_id, user_id))
    return "", 204


# -- resellers managing the account -------------------------------------------------------------


@bp.get("/customers/<customer_id>/managing-resellers")
def list_managing_resellers(customer_id: str):
    managing(customer_id)
    with current_service().sessions() as session:
        return queries.managing_resellers(session, customer_id)


@bp.post("/internal/customers/<customer_id>/managing-resellers")
def add_managing_reseller(customer_id: str):
    """The gateway, for a customer admin who named a reseller user's email."""
    own_admin(customer_id)
    body = json_body()
    reseller_id, name = body.get("reseller_id"), body.get("reseller_name")
    if not isinstance(reseller_id, str) or not isinstance(name, str):
        raise Invalid("reseller_id", "Give reseller_id and reseller_name.")
    entry, created = handle(AddManagingReseller(customer_id, reseller_id, name))
    return entry, 201 if created else 200


@bp.delete("/customers/<customer_id>/managing-resellers/<reseller_id>")
def remove_managing_reseller(customer_id: str, reseller_id: str):
    own_admin(customer_id)
    handle(RemoveManagingReseller(customer_id, reseller_id))
    return "", 204


# -- a reseller asks to manage the account ------------------------------------------------------


@bp.post("/customers/<customer_id>/management-requests")
def request_management(customer_id: str):
    identity = managing(customer_id)
    if not identity.is_reseller:
        raise Forbidden("Only a reseller asks to manage an account.")
    json_body(optional=True)
    return handle(RequestManagement(customer_id, identity)), 202


@bp.get("/management-requests/<token>")
def show_management_request(token: str):
    """Public, by the e-mailed token: what is asked, for the admin's approve/decline page."""
    with current_service().sessions() as session:
        return queries.management_request(session, token)


@bp.post("/management-requests/<token>/approve")
def approve_management_request(token: str):
    json_body(optional=True)
    return handle(DecideManagementRequest(token, approve=True))


@bp.post("/management-requests/<token>/decline")
def decline_management_request(token: str):
    json_body(optional=True)
    return handle(DecideManagementRequest(token, approve=False))
