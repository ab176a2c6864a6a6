"""How licenses, teams, packs and links look from outside: the public shapes of API.md."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict

from license_assign.models import Customer, InvitationLink, License, Team
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


def pack_views(licenses: list[License], orders_of: dict[int, list[str]]) -> list[dict]:
    """Packs with their subscriptions (product and end date) and common end date."""
    packs: dict[str, dict[tuple, list[License]]] = defaultdict(lambda: defaultdict(list))
    for lic in licenses:
        packs[lic.pack.number][(lic.product, lic.valid_until)].append(lic)
    views = []
    for number in sorted(packs):
        subscriptions = []
        for (product, valid_until), members in sorted(packs[number].items()):
            orders = sorted({o for lic in members for o in orders_of.get(lic.id, [])})
            subscriptions.append(
                {
                    "product": product,
                    "valid_until": valid_until,
                    "quantity": len(members),
                    "license_ids": [lic.license_id for lic in members],
                    "order_numbers": orders,
                }
            )
        ends = {s["valid_until"] for s in subscriptions}
        views.append(
            PACK.dump(
                {
                    "number": number,
                    "subscriptions": subscriptions,
                    "common_end_date": next(iter(ends)) if len(ends) == 1 else None,
                    "latest_end_date": max(ends) if ends else None,
                }
            )
        )
    return views


def user_views(licenses: list[License], today: dt.date) -> list[dict]:
    """Active users: each person and the licenses they hold."""
    people: dict[str, dict] = {}
    for lic in licenses:
        person = people.setdefault(
            lic.assignee_email,
            {
                "email": lic.assignee_email,
                "first_name": lic.assignee_first_name,
                "last_name": lic.assignee_last_name,
                "licenses": [],
            },
        )
        person["licenses"].append(
            {
                "license_id": lic.license_id,
                "product": lic.product,
                "team_id": lic.team.team_id,
                "status": lic.status(today),
                "valid_until": lic.valid_until,
            }
        )
    return [USER.dump(people[email]) for email in sorted(people)]


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


def _cell(value) -> str:
    text = "" if value is None else str(value)
    # Spreadsheets run cells that start like formulas; a report must never do that.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def licensing_report(customer: Customer, licenses: list[License], today: dt.date) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(REPORT_COLUMNS)
    for lic in licenses:
        writer.writerow(
            [
                _cell(v)
                for v in (
                    lic.license_id,
                    lic.product,
                    lic.team.name,
                    lic.team.team_id,
                    lic.pack.number,
                    lic.assignee_first_name,
                    lic.assignee_last_name,
                    lic.assignee_email,
                    lic.valid_from.isoformat(),
                    lic.valid_until.isoformat(),
                    lic.status(today),
                    lic.fallback_version,
                )
            ]
        )
    return out.getvalue()
