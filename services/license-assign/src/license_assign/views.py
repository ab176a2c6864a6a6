"""How licenses, teams, packs and links look from outside: the public shapes of API.md."""

from __future__ import annotations

import datetime as dt

from license_assign.models import InvitationLink, License, Team
from portal_contracts.api.licenses import (
    AssignedSchema,
    AssignmentJobSchema,
    InvitationLinkSchema,
    LicenseSchema,
    RenewableSchema,
    SubscriptionPackSchema,
    TeamSchema,
    UserSchema,
)

LICENSE = LicenseSchema()
ASSIGNED = AssignedSchema()
TEAM = TeamSchema()
PACK = SubscriptionPackSchema()
LINK = InvitationLinkSchema()
USER = UserSchema()
RENEWABLE = RenewableSchema()
ASSIGNMENT_JOB = AssignmentJobSchema()


def license_view(lic: License, today: dt.date) -> dict:
    return LICENSE.dump(
        {
            "license_id": lic.license_id,
            "product": lic.product,
            "team_id": lic.team.team_id,
            "team_name": lic.team.name,
            "subscription_pack": lic.pack.number,
            "status": lic.status(today),
            "valid_from": lic.valid_from,
            "valid_until": lic.valid_until,
            "fallback_version": lic.fallback_version,
            "grace_until": lic.grace_until,
            "pending_product": lic.downgrade_to,
            "assignee": lic.assignee,
        }
    )


def assigned_view(lic: License, row: int | None = None) -> dict:
    return ASSIGNED.dump(
        {
            "license_id": lic.license_id,
            "product": lic.product,
            "team_id": lic.team.team_id,
            "valid_until": lic.valid_until,
            "fallback_version": lic.fallback_version,
            "assignee": lic.assignee,
            "row": row,
        }
    )


def team_view(team: Team, license_count: int = 0) -> dict:
    return TEAM.dump(
        {
            "team_id": team.team_id,
            "name": team.name,
            "is_default": team.is_default,
            "license_count": license_count,
        }
    )


def link_view(link: InvitationLink, url: str | None = None, token: str | None = None) -> dict:
    body = {
        "id": link.link_id,
        "product": link.product,
        "team_id": link.team.team_id,
        "expires_at": link.expires_at,
        "allowed_domains": link.domains,
        "max_claims": link.max_claims,
        "claims": link.claims_count,
        "enabled": link.enabled,
        "created_at": link.created_at,
    }
    if token is not None:
        body.update(url=url, token=token)
    return LINK.dump(body)


REPORT_COLUMNS = [
    "license_id",
    "product",
    "team",
    "team_id",
    "subscription_pack",
    "assignee_first_name",
    "assignee_last_name",
    "assignee_email",
    "valid_from",
    "valid_until",
    "status",
    "fallback_version",
]


def report_cell(value) -> str:
    text = "" if value is None else str(value)
    # Spreadsheets run cells that start like formulas; a report must never do that.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
