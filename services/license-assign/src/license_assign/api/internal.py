"""Internal reads other services make (each caller listed in ``bootstrap.CALLERS``): an
account's directory entry, accounts by contact or manager, checking a person knows an account,
and an account's teams, packs and licenses."""

from __future__ import annotations

from flask import Blueprint, request

from license_assign import queries
from license_assign.api.access import internal_caller_for
from portal_runtime.errors import Invalid, NotFound
from portal_runtime.web import current_identity, current_service

bp = Blueprint("internal", __name__)


@bp.get("/internal/customers/<customer_id>")
def internal_customer(customer_id: str):
    internal_caller_for(customer_id)
    with current_service().sessions() as session:
        return queries.directory_entry(session, customer_id)


@bp.get("/internal/customers")
def internal_customers():
    current_identity()
    email = (request.args.get("contact_email") or "").strip().lower()
    reseller = (request.args.get("managed_by") or "").strip()
    if not email and not reseller:
        raise Invalid("contact_email", "Give contact_email or managed_by.")
    with current_service().sessions() as session:
        return queries.accounts_of(session, contact_email=email, managed_by=reseller)


@bp.post("/internal/customer-access/verify")
def internal_verify_access():
    """One identical 404 for every failure: the caller learns nothing about which part failed."""
    current_identity()
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise NotFound("customer")
    by, value, email = body.get("by"), body.get("value"), body.get("email")
    if not all(isinstance(x, str) and x.strip() for x in (by, value, email)):
        raise NotFound("customer")
    with current_service().sessions() as session:
        customer = queries.account_known_to(session, by, value, email)
        if customer is None:
            raise NotFound("customer")
        return {"customer_id": customer.id, "name": customer.name}


@bp.get("/internal/customers/<customer_id>/teams/<team_id>")
def internal_team(customer_id: str, team_id: str):
    """Whether a team is this account's (carts check the team a line is to go to)."""
    internal_caller_for(customer_id)
    with current_service().sessions() as session:
        return queries.team_of(session, customer_id, team_id)


@bp.get("/internal/customers/<customer_id>/subscription-packs/<number>")
def internal_pack(customer_id: str, number: str):
    """Whether a subscription pack is this account's (carts check the pack of a line)."""
    internal_caller_for(customer_id)
    with current_service().sessions() as session:
        return queries.pack_of(session, customer_id, number)


@bp.get("/internal/customers/<customer_id>/licenses")
def internal_licenses(customer_id: str):
    internal_caller_for(customer_id)
    wanted = [x.strip() for x in request.args.getlist("license_id") if x.strip()]
    service = current_service()
    with service.sessions() as session:
        return queries.internal_licenses(session, customer_id, wanted, service.clock.today())
