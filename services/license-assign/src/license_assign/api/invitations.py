"""Routes of invitation links: an account's links (list, create, regenerate, disable), and the
public page and claim of a link (anyone with its URL)."""

from __future__ import annotations

from flask import Blueprint

from license_assign import queries
from license_assign.api.access import acting_on, handle, page_args, team_named_by
from license_assign.assignments import person_of
from license_assign.commands import (
    ClaimInvitation,
    CreateInvitationLink,
    DisableInvitationLink,
    RegenerateInvitationLink,
)
from portal_contracts.api.licenses import ClaimRequest, CreateInvitationLinkRequest
from portal_runtime.web import current_service, json_body, schema

bp = Blueprint("invitations", __name__)


@bp.get("/customers/<customer_id>/invitation-links")
def list_links(customer_id: str):
    acting_on(customer_id)
    with current_service().sessions() as session:
        return queries.invitation_links(session, customer_id, *page_args())


@bp.post("/customers/<customer_id>/invitation-links")
def create_link(customer_id: str):
    acting_on(customer_id)
    data = schema(CreateInvitationLinkRequest).load(json_body())
    command = CreateInvitationLink(
        customer_id,
        data["product"],
        data["team_id"],
        allowed_domains=tuple(data.get("allowed_domains") or ()),
        expires_at=data.get("expires_at"),
        max_claims=data.get("max_claims"),
    )
    with team_named_by("team_id"):
        body = handle(command)
    location = f"/api/v1/customers/{customer_id}/invitation-links/{body['id']}"
    return body, 201, {"Location": location}


@bp.post("/customers/<customer_id>/invitation-links/<link_id>/regenerate")
def regenerate_link(customer_id: str, link_id: str):
    acting_on(customer_id)
    return handle(RegenerateInvitationLink(customer_id, link_id))


@bp.delete("/customers/<customer_id>/invitation-links/<link_id>")
def disable_link(customer_id: str, link_id: str):
    acting_on(customer_id)
    handle(DisableInvitationLink(customer_id, link_id))
    return "", 204


@bp.get("/invitations/<token>")
def show_invitation(token: str):
    """Public: what a link offers, or in words why it no longer works (410)."""
    service = current_service()
    with service.sessions() as session:
        return queries.invitation_offer(session, token, service.clock.now(), service.clock.today())


@bp.post("/invitations/<token>/claim")
def claim_invitation(token: str):
    """Public: anyone with the URL claims a free license, once per person per link."""
    person = person_of(schema(ClaimRequest).load(json_body()))
    return handle(ClaimInvitation(token, person)), 201
