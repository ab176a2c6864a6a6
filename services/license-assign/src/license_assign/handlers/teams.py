"""Creating, renaming and merging teams, and moving licenses between them."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from license_assign import accounts, views
from license_assign.assignments import live_licenses
from license_assign.commands import CreateTeam, MergeTeam, RenameTeam, TransferLicenses
from license_assign.models import AssignmentJob, InvitationLink, License, Team
from license_assign.teams import license_count, refuse_taken_name, team_name
from portal_runtime.errors import Conflict, Invalid, NotFound
from portal_runtime.uow import UnitOfWork


def create_team(cmd: CreateTeam, uow: UnitOfWork) -> dict:
    name = team_name(cmd.name)
    accounts.require_customer(uow.session, cmd.customer_id)
    refuse_taken_name(uow.session, cmd.customer_id, name)
    try:
        team = accounts.create_team(uow.session, cmd.customer_id, name)
        uow.session.flush()
    except IntegrityError:
        raise Conflict("This account already has a team of that name.") from None
    return views.team_view(team)


def rename_team(cmd: RenameTeam, uow: UnitOfWork) -> dict:
    name = team_name(cmd.name)
    team = uow.session.scalar(
        select(Team)
        .where(Team.customer_id == cmd.customer_id, Team.team_id == cmd.team_id)
        .with_for_update()
    )
    if team is None:
        raise NotFound("team")
    refuse_taken_name(uow.session, cmd.customer_id, name, other_than=team.id)
    team.name = name
    try:
        uow.session.flush()
    except IntegrityError:
        raise Conflict(f"This account already has a team named {name!r}.") from None
    return views.team_view(team, license_count(uow.session, team))


def merge_team(cmd: MergeTeam, uow: UnitOfWork) -> dict:
    """Every license (and invitation link, and waiting assignment job) of the team moves into
    the other team, and the team goes away. Merging the default team makes the other one the
    default (new licenses land there)."""
    team_id, into_id = cmd.team_id, cmd.into_team_id.strip()
    if into_id == team_id:
        raise Conflict("A team cannot be merged into itself: choose another team.")
    # Both rows locked, in key order: two merges at once cannot lose a team's licenses.
    teams = {
        t.team_id: t
        for t in uow.session.scalars(
            select(Team)
            .where(Team.customer_id == cmd.customer_id, Team.team_id.in_([team_id, into_id]))
            .order_by(Team.id)
            .with_for_update()
        )
    }
    source = teams.get(team_id)
    if source is None:
        raise NotFound("team")
    target = teams.get(into_id)
    if target is None:
        raise Invalid("into_team_id", "No such team in this account.")
    moved = uow.session.execute(
        update(License).where(License.team_pk == source.id).values(team_pk=target.id)
    ).rowcount
    links = uow.session.execute(
        update(InvitationLink).where(InvitationLink.team_pk == source.id).values(team_pk=target.id)
    ).rowcount
    uow.session.execute(
        update(AssignmentJob).where(AssignmentJob.team_pk == source.id).values(team_pk=target.id)
    )
    if source.is_default:
        target.is_default = True
    uow.session.delete(source)
    uow.session.flush()
    return {
        "merged_team_id": team_id,
        "moved_licenses": moved,
        "moved_invitation_links": links,
        "team": views.team_view(target, license_count(uow.session, target)),
    }


def transfer_licenses(cmd: TransferLicenses, uow: UnitOfWork) -> dict:
    source = accounts.find_team(uow.session, cmd.customer_id, cmd.team_id)
    if source is None:
        raise NotFound("team")
    target = accounts.require_team(uow.session, cmd.customer_id, cmd.to_team_id)
    wanted = list(dict.fromkeys(cmd.license_ids))
    rows = uow.session.scalars(
        live_licenses(cmd.customer_id).where(
            License.license_id.in_(wanted), License.team_pk == source.id
        )
    ).all()
    found = {lic.license_id for lic in rows}
    missing = [lid for lid in wanted if lid not in found]
    if missing:
        raise Invalid("license_ids", f"Not in team {cmd.team_id}: {', '.join(missing)}.")
    for lic in rows:
        lic.team_pk = target.id
        lic.team = target
    return {"from_team_id": cmd.team_id, "to_team_id": target.team_id, "license_ids": wanted}
