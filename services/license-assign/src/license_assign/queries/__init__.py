"""The read side for the GET routes: licenses, teams, links, an account's people, the holder's
own licenses and the internal reads other services make. The grouped lists (users, packs,
renewals) and the licensing report are in ``queries.lists``. Nothing here writes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from license_assign import accounts, invitations, onboarding, views
from license_assign.accounts import Gone, token_hash
from license_assign.assignments import find_license, live_licenses, revocations_this_month
from license_assign.bulk_assignments import job_result
from license_assign.models import (
    AssignmentJob,
    Customer,
    CustomerPerson,
    InvitationLink,
    License,
    ManagingReseller,
    SubscriptionPack,
    Team,
)
from license_assign.teams import license_counts
from portal_runtime.errors import Conflict, NotFound
from portal_runtime.queries import equals_ci, page

# -- licenses -----------------------------------------------------------------------------------


def licenses(session: Session, customer_id: str, args: dict, today: dt.date, limit, cursor):
    """A page of the account's licenses, filtered by ``LicenseListArgs``."""
    query = live_licenses(customer_id)
    if args.get("product"):
        query = query.where(License.product == args["product"].strip().upper())
    if args.get("team_id"):
        query = query.join(Team, Team.id == License.team_pk).where(Team.team_id == args["team_id"])
    if args.get("subscription_pack"):
        query = query.join(SubscriptionPack, SubscriptionPack.id == License.pack_pk).where(
            SubscriptionPack.number == args["subscription_pack"].strip().upper()
        )
    if args.get("assignee_email"):
        query = query.where(equals_ci(License.assignee_email, args["assignee_email"]))
    status = args.get("status")
    if status == "suspended":
        query = query.where(License.suspended.is_(True))
    elif status == "expired":
        query = query.where(License.suspended.is_(False), License.valid_until < today)
    elif status in ("assigned", "available"):
        query = query.where(License.suspended.is_(False), License.valid_until >= today)
        held = License.assignee_email.is_not(None)
        query = query.where(held if status == "assigned" else ~held)
    rows, next_cursor = page(session, query, License.id, limit, cursor)
    return {"items": [views.license_view(lic, today) for lic in rows], "next_cursor": next_cursor}


def one_license(session: Session, customer_id: str, license_id: str, today: dt.date) -> dict:
    return views.license_view(find_license(session, customer_id, license_id), today)


def revocation_limit(session: Session, customer_id: str, cap: int | None, now: dt.datetime):
    """How many revocations the account may make per month (None: no cap) and has made."""
    made = revocations_this_month(session, customer_id, now)
    return {"monthly_limit": cap, "revoked_this_month": made}


def activation_code(session: Session, customer_id: str, license_id: str) -> dict:
    lic = find_license(session, customer_id, license_id)
    if not lic.activation_code:
        raise Conflict("The license is not assigned; assign it to get an activation code.")
    return views.activation_code_view(lic)


def code_standing(session: Session, license_id: str, code: str) -> str | None:
    """Why a validly signed code is no longer good online, or None while it is."""
    lic = session.scalar(
        select(License).where(License.license_id == license_id, License.removed_at.is_(None))
    )
    if lic is None or lic.activation_code is None:
        return "The license is no longer assigned."
    if lic.activation_code != code.strip():
        return "A newer activation code replaces this one."
    if lic.suspended:
        return "The license is suspended until payment."
    return None


def assignment_job(session: Session, customer_id: str, job_id: str) -> dict:
    job = session.scalar(
        select(AssignmentJob).where(
            AssignmentJob.customer_id == customer_id,
            AssignmentJob.job_id == job_id.strip().upper(),
        )
    )
    if job is None:
        raise NotFound("assignment job")
    return views.assignment_job_view(job, job_result(session, job))


# -- teams and invitation links -------------------------------------------------------------------


def teams(session: Session, customer_id: str, limit, cursor) -> dict:
    accounts.require_customer(session, customer_id)
    counts = license_counts(session, customer_id)
    rows, next_cursor = page(
        session,
        select(Team).where(Team.customer_id == customer_id),
        Team.id,
        limit,
        cursor,
        oldest_first=True,
    )
    return {
        "items": [views.team_view(t, counts.get(t.id, 0)) for t in rows],
        "next_cursor": next_cursor,
    }


def invitation_links(session: Session, customer_id: str, limit, cursor) -> dict:
    links, next_cursor = page(
        session,
        select(InvitationLink).where(InvitationLink.customer_id == customer_id),
        InvitationLink.id,
        limit,
        cursor,
        oldest_first=True,
    )
    return {"items": [views.link_view(link) for link in links], "next_cursor": next_cursor}


def invitation_offer(session: Session, token: str, now: dt.datetime, today: dt.date) -> dict:
    """What a link offers (product, organisation, team), or in words why it no longer works
    (410): disabled, expired, replaced by a regenerated link, or no license left."""
    link = session.scalar(
        select(InvitationLink).where(InvitationLink.token_hash == token_hash(token))
    )
    if link is None:
        raise invitations.replaced_or_missing(session, token)
    if not link.enabled:
        raise Gone("This invitation link has been disabled by the account's admins.")
    if invitations.expired(link, now):
        raise Gone(invitations.EXPIRED)
    full = link.max_claims is not None and link.claims_count >= link.max_claims
    free = session.scalar(
        select(func.count(License.id)).where(
            License.customer_id == link.customer_id,
            License.product == link.product,
            License.team_pk == link.team_pk,
            License.removed_at.is_(None),
            License.assignee_email.is_(None),
            License.suspended.is_(False),
            License.valid_until >= today,
        )
    )
    if full or not free:
        raise Gone("No license is left to claim through this invitation link.")
    return views.invitation_offer_view(link, session.get(Customer, link.customer_id))


# -- the holder's own licenses ------------------------------------------------------------------


def held_licenses(session: Session, email: str) -> list[License]:
    return session.scalars(
        select(License)
        .where(License.assignee_email == email.strip().lower(), License.removed_at.is_(None))
        .order_by(License.id)
    ).all()


def my_licenses(session: Session, email: str, today: dt.date) -> dict:
    held = held_licenses(session, email)
    names = dict(
        session.execute(
            select(Customer.id, Customer.name).where(
                Customer.id.in_({lic.customer_id for lic in held})
            )
        ).all()
    )
    items = [views.held_view(lic, names.get(lic.customer_id, ""), today) for lic in held]
    return {"email": email, "items": items, "next_cursor": None}


def my_activation_code(session: Session, email: str, license_id: str) -> dict:
    lic = session.scalar(
        select(License).where(
            License.license_id == license_id,
            License.assignee_email == email.strip().lower(),
            License.removed_at.is_(None),
        )
    )
    if lic is None or not lic.activation_code:
        raise NotFound("license")
    customer = session.get(Customer, lic.customer_id)
    return views.held_code_view(lic, customer.name if customer else "")


# -- an account's admins and managers -------------------------------------------------------------


def admins(session: Session, customer_id: str, limit, cursor) -> dict:
    accounts.require_customer(session, customer_id)
    rows, next_cursor = page(
        session,
        select(CustomerPerson).where(
            CustomerPerson.customer_id == customer_id, CustomerPerson.role == "admin"
        ),
        CustomerPerson.id,
        limit,
        cursor,
        oldest_first=True,
    )
    items = [
        views.admin_view(p, None if p.activated_at else onboarding.current_link(session, p))
        for p in rows
    ]
    return {"items": items, "next_cursor": next_cursor}


def managing_resellers(session: Session, customer_id: str) -> dict:
    customer = accounts.require_customer(session, customer_id)
    return {
        "items": [views.managing_view(m) for m in customer.managing_resellers],
        "next_cursor": None,
    }


def management_request(session: Session, token: str) -> dict:
    return views.request_view(onboarding.find_request(session, token))


# -- internal reads -----------------------------------------------------------------------------


def directory_entry(session: Session, customer_id: str) -> dict:
    return views.customer_directory_view(accounts.require_customer(session, customer_id))


def accounts_of(session: Session, contact_email: str = "", managed_by: str = "") -> dict:
    """The accounts a contact's email is on, or those a reseller manages."""
    if contact_email:
        query = (
            select(Customer)
            .join(CustomerPerson, CustomerPerson.customer_id == Customer.id)
            .where(CustomerPerson.email == contact_email)
        )
    else:
        query = (
            select(Customer)
            .join(ManagingReseller, ManagingReseller.customer_id == Customer.id)
            .where(ManagingReseller.reseller_id == managed_by)
        )
    customers = session.scalars(query.distinct().order_by(Customer.id))
    return {"accounts": [{"customer_id": c.id, "name": c.name} for c in customers]}


def account_known_to(session: Session, by: str, value: str, email: str) -> Customer | None:
    """The account named by its id or one of its packs' numbers, if ``email`` is one of its
    people; None for every failure alike."""
    customer = None
    if by == "customer_id":
        customer = session.get(Customer, value.strip().upper())
    elif by == "subscription_pack":
        pack = accounts.find_pack(session, value)
        customer = session.get(Customer, pack.customer_id) if pack else None
    if customer is None or not customer.knows_email(email):
        return None
    return customer


def team_of(session: Session, customer_id: str, team_id: str) -> dict:
    team = accounts.find_team(session, customer_id, team_id)
    if team is None:
        raise NotFound("team")
    return {"team_id": team.team_id, "name": team.name}


def pack_of(session: Session, customer_id: str, number: str) -> dict:
    pack = accounts.pack_of(session, customer_id, number)
    if pack is None:
        raise NotFound("subscription pack")
    return {"number": pack.number}


def internal_licenses(
    session: Session, customer_id: str, wanted: list[str], today: dt.date
) -> dict:
    accounts.require_customer(session, customer_id)
    query = live_licenses(customer_id)
    if wanted:
        query = query.where(License.license_id.in_(wanted))
    rows = session.scalars(query.order_by(License.id))
    return {"items": [views.internal_license_view(lic, today) for lic in rows]}
