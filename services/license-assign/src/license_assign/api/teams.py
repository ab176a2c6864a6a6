"""Routes of an account's teams: list, create, rename, merge, and moving licenses between them."""

from __future__ import annotations

from flask import Blueprint

from license_assign import queries
from license_assign.api.access import acting_on, handle, page_args, team_named_by
from license_assign.commands import CreateTeam, MergeTeam, RenameTeam, TransferLicenses
from portal_contracts.api.licenses import (
    CreateTeamRequest,
    MergeTeamRequest,
    RenameTeamRequest,
    TransferRequest,
)
from portal_runtime.web import current_service, json_body, schema

bp = Blueprint("teams", __name__)


@bp.get("/customers/<customer_id>/teams")
def list_teams(customer_id: str):
    acting_on(customer_id)
    with current_service().sessions() as session:
        return queries.teams(session, customer_id, *page_args())


@bp.post("/customers/<customer_id>/teams")
def create_team(customer_id: str):
    acting_on(customer_id)
    data = schema(CreateTeamRequest).load(json_body())
    body = handle(CreateTeam(customer_id, data["name"]))
    return body, 201, {"Location": f"/api/v1/customers/{customer_id}/teams/{body['team_id']}"}


@bp.patch("/customers/<customer_id>/teams/<team_id>")
def rename_team(customer_id: str, team_id: str):
    acting_on(customer_id)
    data = schema(RenameTeamRequest).load(json_body())
    return handle(RenameTeam(customer_id, team_id, data["name"]))


@bp.post("/customers/<customer_id>/teams/<team_id>/merge")
def merge_team(customer_id: str, team_id: str):
    acting_on(customer_id)
    data = schema(MergeTeamRequest).load(json_body())
    return handle(MergeTeam(customer_id, team_id, data["into_team_id"]))


@bp.post("/customers/<customer_id>/teams/<team_id>/transfer")
def transfer_licenses(customer_id: str, team_id: str):
    acting_on(customer_id)
    data = schema(TransferRequest).load(json_body())
    command = TransferLicenses(customer_id, team_id, data["to_team_id"], tuple(data["license_ids"]))
    with team_named_by("to_team_id"):
        return handle(command)
