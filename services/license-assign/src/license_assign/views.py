"""How licenses, teams, packs and links look from outside: the public shapes of API.md."""

from __future__ import annotations

import datetime as dt

from license_assign.models import (
    AssignmentJob,
    Customer,
    CustomerPerson,
    InvitationLink,
    License,
    ManagementRequest,
    ManagingReseller,
    PasswordLink,
    Team,
)
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


def issued_view(lic: License, today: dt.date) -> dict:
    """A license as ``licensing.licenses.issued`` lists it."""
    return {
        "license_id": lic.license_id,
        "product": lic.product,
        "valid_from": lic.valid_from,
        "valid_until": lic.valid_until,
        "team_id": lic.team.team_id,
        "subscription_pack": lic.pack.number,
        "fallback_version": lic.fallback_version,
        "status": lic.status(today),
        "assignee": lic.assignee,
        "activation_code": lic.activation_code,
    }


def claimed_view(lic: License) -> dict:
    """What a claimant gets: the license and its activation code."""
    body = assigned_view(lic)
    body["activation_code"] = lic.activation_code
    return body


def verified_view(payload: dict, today: dt.date) -> dict:
    """A validly signed code's payload as ``/activation-codes/verify`` answers it."""
    return {
        "valid": True,
        "license_id": payload["license_id"],
        "product": payload["product"],
        "licensee": payload["licensee"],
        "valid_until": payload["valid_until"],
        "fallback_version": payload.get("fallback_version"),
        "issued_at": payload.get("issued_at"),
        "expired": dt.date.fromisoformat(payload["valid_until"]) < today,
        "reason": None,
    }


def activation_code_view(lic: License) -> dict:
    return {
        "license_id": lic.license_id,
        "activation_code": lic.activation_code,
        "valid_until": lic.valid_until.isoformat(),
        "fallback_version": lic.fallback_version,
    }


def invitation_offer_view(link: InvitationLink, customer: Customer) -> dict:
    """What an invitation link offers, for the page a person opens."""
    return {
        "product": link.product,
        "customer_name": customer.name,
        "team_name": link.team.name,
        "allowed_domains": link.domains,
        "expires_at": link.expires_at.isoformat() if link.expires_at else None,
    }


def assignment_job_view(job: AssignmentJob, result: dict | None) -> dict:
    """The job's progress and, once finished, every row's outcome (``result``)."""
    body = ASSIGNMENT_JOB.dump(
        {
            "job_id": job.job_id,
            "status": job.status,
            "product": job.product,
            "team_id": job.team.team_id if job.team else None,
            "rows": job.total_rows,
            "processed": job.processed + job.rejected,
            "assigned": job.assigned_count,
            "failed": job.failed_count,
            "created_at": job.created_at,
            "finished_at": job.finished_at,
        }
    )
    body["result"] = result  # the rows' outcomes were stored already in their public shape
    return body


# -- the holder's own licenses ------------------------------------------------------------------


def held_view(lic: License, customer_name: str, today: dt.date) -> dict:
    return {
        "license_id": lic.license_id,
        "product": lic.product,
        "customer_name": customer_name,
        "status": lic.status(today),
        "valid_from": lic.valid_from.isoformat(),
        "valid_until": lic.valid_until.isoformat(),
        "fallback_version": lic.fallback_version,
        "assignee": lic.assignee,
    }


def held_code_view(lic: License, customer_name: str) -> dict:
    return {
        "license_id": lic.license_id,
        "product": lic.product,
        "customer_name": customer_name,
        "licensee": lic.assignee,
        "activation_code": lic.activation_code,
        "valid_until": lic.valid_until.isoformat(),
        "fallback_version": lic.fallback_version,
    }


# -- accounts, their admins and managers ----------------------------------------------------------


def admin_view(person: CustomerPerson, link: PasswordLink | None = None) -> dict:
    return {
        "user_id": person.user_id,
        "first_name": person.first_name,
        "last_name": person.last_name,
        "email": person.email,
        "status": person.status,
        "invited_at": person.invited_at.isoformat() if person.invited_at else None,
        "link_expires_at": link.expires_at.isoformat() if link else None,
    }


def account_view(customer: Customer) -> dict:
    return {
        "customer_id": customer.id,
        "name": customer.name,
        "country": customer.country,
        "vat_id": customer.vat_id,
        "contacts": customer.contacts,
        "created_at": customer.created_at.isoformat() if customer.created_at else None,
    }


def redeemed_view(person: CustomerPerson) -> dict:
    """Whose password link the gateway redeemed."""
    return {
        "user_id": person.user_id,
        "customer_id": person.customer_id,
        "email": person.email,
        "first_name": person.first_name,
        "last_name": person.last_name,
    }


def managing_view(row: ManagingReseller) -> dict:
    return {
        "reseller_id": row.reseller_id,
        "name": row.reseller_name or row.reseller_id,
        "since": row.since.isoformat() if row.since else None,
    }


def request_view(req: ManagementRequest) -> dict:
    return {
        "request_id": req.request_id,
        "customer_id": req.customer_id,
        "customer_name": req.customer.name,
        "reseller_id": req.reseller_id,
        "reseller_name": req.reseller_name,
        "status": req.status,
        "expires_at": req.expires_at.isoformat(),
    }


# -- internal reads -------------------------------------------------------------------------------


def customer_directory_view(customer: Customer) -> dict:
    return {
        "id": customer.id,
        "name": customer.name,
        "email": customer.email,
        "contacts": customer.contacts,
        "admin_emails": customer.admin_emails,
        "managing_reseller_ids": [m.reseller_id for m in customer.managing_resellers],
    }


def internal_license_view(lic: License, today: dt.date) -> dict:
    return {
        "license_id": lic.license_id,
        "product": lic.product,
        "status": lic.status(today),
        "valid_from": lic.valid_from.isoformat(),
        "valid_until": lic.valid_until.isoformat(),
        "team_id": lic.team.team_id,
        "subscription_pack": lic.pack.number,
        "assignee_email": lic.assignee_email,
        "fallback_version": lic.fallback_version,
        "pending_product": lic.downgrade_to,
    }


# -- the licensing report -------------------------------------------------------------------------


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


def report_line(row, today: dt.date) -> list[str]:
    """One license of the report (a row of ``queries.LICENSE_COLUMNS``) as its CSV cells."""
    return [
        report_cell(v)
        for v in (
            row.license_id,
            row.product,
            row.team_name,
            row.team_id,
            row.pack_number,
            row.assignee_first_name,
            row.assignee_last_name,
            row.assignee_email,
            row.valid_from.isoformat(),
            row.valid_until.isoformat(),
            License.status(row, today),  # the same rule, read from the row's columns
            row.fallback_version,
        )
    ]
