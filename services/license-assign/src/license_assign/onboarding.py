"""Onboarding and the people of an account: a reseller creates a customer account, the account's
admins (invited by a single-use, expiring password link), the resellers that manage it, and a
reseller's request to manage it (approved or declined by an admin through an e-mailed link).

The gateway keeps the admins' passwords; this service owns who is an admin of which account and
the links that let a person set a password (the gateway redeems them).
"""

from __future__ import annotations

import datetime as dt
import secrets

from flask import Blueprint, request
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from license_assign import accounts
from license_assign.accounts import token_hash
from license_assign.api import replaced_or_missing
from license_assign.assignments import revocations_this_month
from license_assign.models import (
    Customer,
    CustomerPerson,
    InvitationLink,
    License,
    ManagementRequest,
    ManagingReseller,
    PasswordLink,
)
from portal_contracts.api.admins import CreateCustomerRequest, InviteAdminRequest
from portal_runtime.identity import Identity
from portal_runtime.problems import Problem, conflict, invalid, not_found
from portal_runtime.queries import page
from portal_runtime.web import (
    current_identity,
    current_service,
    customer_access,
    json_body,
    require_role,
    unit_of_work,
)

bp = Blueprint("onboarding", __name__)

MANAGING_ROLES = ("admin", "sales")
FIRST_NUMBER = 100001
NUMBER_ATTEMPTS = 5


def new_user_id() -> str:
    return "U-" + secrets.token_hex(6)


def now() -> dt.datetime:
    return current_service().clock.now()


def config():
    return current_service().config


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


def inviter(identity: Identity | None) -> dict | None:
    if identity is None or identity.is_service:
        return None
    return {"name": identity.name or None, "email": identity.email or None}


# -- password links -----------------------------------------------------------------------------


def issue_password_link(uow, customer: Customer, person: CustomerPerson, reason: str, by) -> dict:
    """A new single-use link for ``person``; older unused ones stop working. Publishes
    ``licensing.admin.invited`` so that the person gets it by e-mail."""
    at = now()
    uow.session.execute(
        update(PasswordLink)
        .where(
            PasswordLink.person_pk == person.id,
            PasswordLink.used_at.is_(None),
            PasswordLink.replaced_at.is_(None),
        )
        .values(replaced_at=at)
    )
    token = secrets.token_urlsafe(32)
    link = PasswordLink(
        person_pk=person.id,
        token_hash=token_hash(token),
        created_at=at,
        expires_at=at + dt.timedelta(days=config().password_link_days),
    )
    link.person = person
    uow.session.add(link)
    person.invited_at = at
    uow.record(
        "licensing.admin.invited",
        {
            "customer_id": customer.id,
            "customer_name": customer.name,
            "user_id": person.user_id,
            "admin": {
                "first_name": person.first_name or "",
                "last_name": person.last_name or "",
                "email": person.email,
            },
            "token": token,
            "expires_at": link.expires_at,
            "reason": reason,
            "invited_by": inviter(by),
        },
    )
    return admin_view(person, link)


def current_link(session, person: CustomerPerson) -> PasswordLink | None:
    return session.scalar(
        select(PasswordLink)
        .where(
            PasswordLink.person_pk == person.id,
            PasswordLink.used_at.is_(None),
            PasswordLink.replaced_at.is_(None),
        )
        .order_by(PasswordLink.id.desc())
        .limit(1)
    )


def new_admin(customer: Customer, person: dict) -> CustomerPerson:
    admin = CustomerPerson(
        email=person["email"].strip().lower(),
        role="admin",
        first_name=person["first_name"].strip(),
        last_name=person["last_name"].strip(),
        user_id=new_user_id(),
    )
    customer.people.append(admin)
    return admin


@bp.post("/internal/password-links/redeem")
def redeem_password_link():
    """The gateway, setting a password: whose link this is. Single use; 410 once used,
    replaced or expired; 404 for a token that never was one."""
    identity = current_identity()
    if not identity.is_service:
        raise not_found("link")
    body = json_body()
    token = body.get("token")
    if not isinstance(token, str) or not token:
        raise invalid({"token": ["Missing."]})
    with unit_of_work() as uow:
        link = uow.session.scalar(
            select(PasswordLink)
            .where(PasswordLink.token_hash == token_hash(token))
            .with_for_update(of=PasswordLink)
        )
        if link is None:
            raise not_found("password link")
        if link.used_at is not None:
            raise Problem(410, "This link has been used already. Ask for a new one.")
        if link.replaced_at is not None:
            raise Problem(410, "A newer link replaces this one: use the latest e-mail.")
        if link.expires_at <= now():
            raise Problem(410, "This link has expired. Ask an admin to send a new one.")
        person = link.person
        link.used_at = now()
        person.activated_at = person.activated_at or now()
        uow.commit()
        return {
            "user_id": person.user_id,
            "customer_id": person.customer_id,
            "email": person.email,
            "first_name": person.first_name,
            "last_name": person.last_name,
        }


# -- a new customer account ---------------------------------------------------------------------


def next_customer_id(session) -> str:
    """One past the highest ``C-<n>`` there is (accounts learnt from orders count too)."""
    ids = session.scalars(select(Customer.id).where(Customer.id.like("C-%")))
    numbers = [int(i[2:]) for i in ids if i[2:].isdigit()]
    return f"C-{max(numbers, default=FIRST_NUMBER - 1) + 1}"


@bp.post("/internal/customers")
def create_customer():
    """A reseller creates an account (the gateway then grants it access): the contact becomes
    its first admin and gets a password link by e-mail."""
    identity = current_identity()
    if not identity.is_reseller:
        raise not_found("route")
    require_role(identity, *MANAGING_ROLES)
    data = CreateCustomerRequest().load(json_body())
    contact = data["contact"]
    for _attempt in range(NUMBER_ATTEMPTS):
        with unit_of_work() as uow:
            customer = Customer(
                id=next_customer_id(uow.session),
                name=data["name"],
                country=data["country"],
                vat_id=data.get("vat_id"),
                created_by_reseller_id=identity.reseller_id,
                created_at=now(),
            )
            uow.session.add(customer)
            accounts.add_person(customer, contact["email"], "contact")
            for p in customer.people:
                p.first_name, p.last_name = contact["first_name"], contact["last_name"]
            admin = new_admin(customer, contact)
            try:
                uow.session.flush()
            except IntegrityError:
                # Someone took this number at the same moment: take the next one.
                uow.rollback()
                continue
            accounts.default_team(uow.session, customer.id)
            admin_body = issue_password_link(uow, customer, admin, "new_account", identity)
            uow.commit()
            body = dict(account_view(customer), admin=admin_body)
            return body, 201, {"Location": f"/customers/{customer.id}"}
    raise Problem(503, "Could not number the new account; try again.")


# -- admins -------------------------------------------------------------------------------------


def acting_on(customer_id: str) -> Identity:
    identity = customer_access(customer_id)
    require_role(identity, *MANAGING_ROLES)
    return identity


def own_admin(customer_id: str) -> Identity:
    """Only the account's own admins change who administers it: a reseller's grant is
    temporary, and must not become a lasting admin login."""
    identity = customer_access(customer_id)
    if not identity.is_customer_admin:
        raise Problem(403, "Only the account's admins may change its admins.")
    return identity


def find_admin(session, customer_id: str, user_id: str) -> CustomerPerson:
    person = session.scalar(
        select(CustomerPerson).where(
            CustomerPerson.customer_id == customer_id,
            CustomerPerson.role == "admin",
            CustomerPerson.user_id == user_id,
        )
    )
    if person is None:
        raise not_found("admin")
    return person


@bp.get("/customers/<customer_id>/admins")
def list_admins(customer_id: str):
    acting_on(customer_id)
    with current_service().sessions() as session:
        accounts.require_customer(session, customer_id)
        rows, next_cursor = page(
            session,
            select(CustomerPerson).where(
                CustomerPerson.customer_id == customer_id, CustomerPerson.role == "admin"
            ),
            CustomerPerson.id,
            request.args.get("limit"),
            request.args.get("cursor"),
            oldest_first=True,
        )
        items = [admin_view(p, None if p.activated_at else current_link(session, p)) for p in rows]
        return {"items": items, "next_cursor": next_cursor}


@bp.post("/customers/<customer_id>/admins")
def invite_admin(customer_id: str):
    identity = own_admin(customer_id)
    data = InviteAdminRequest().load(json_body())
    email = data["email"].strip().lower()
    with unit_of_work() as uow:
        customer = accounts.require_customer(uow.session, customer_id)
        if any(p.email == email for p in customer.admins):
            raise conflict(f"{email} is an admin of this account already.")
        admin = new_admin(customer, data)
        uow.session.flush()
        body = issue_password_link(uow, customer, admin, "invited", identity)
        uow.commit()
    return body, 202, {"Location": f"/customers/{customer_id}/admins/{admin.user_id}"}


@bp.post("/customers/<customer_id>/admins/<user_id>/resend")
def resend_admin_link(customer_id: str, user_id: str):
    """A new password link (the old one stops working), for an admin who has not set one."""
    identity = acting_on(customer_id)
    with unit_of_work() as uow:
        customer = accounts.require_customer(uow.session, customer_id)
        person = find_admin(uow.session, customer_id, user_id)
        if person.activated_at is not None:
            raise conflict("This admin has set a password already.")
        body = issue_password_link(uow, customer, person, "resent", identity)
        uow.commit()
    return body, 202


@bp.delete("/customers/<customer_id>/admins/<user_id>")
def remove_admin(customer_id: str, user_id: str):
    own_admin(customer_id)
    with unit_of_work() as uow:
        # Removals on one account queue on its row: two admins removing each other at once
        # cannot leave it with none.
        customer = uow.session.scalar(
            select(Customer).where(Customer.id == customer_id).with_for_update()
        )
        if customer is None:
            raise not_found("customer")
        person = find_admin(uow.session, customer_id, user_id)
        others = [p for p in customer.admins if p.id != person.id and p.activated_at is not None]
        if not others:
            raise conflict(
                "An account keeps at least one admin who can sign in: invite another admin"
                " and let them set a password first."
            )
        uow.session.execute(delete(PasswordLink).where(PasswordLink.person_pk == person.id))
        customer.people.remove(person)
        uow.commit()
    return "", 204


# -- resellers managing the account -------------------------------------------------------------


def managing_view(row: ManagingReseller) -> dict:
    return {
        "reseller_id": row.reseller_id,
        "name": row.reseller_name or row.reseller_id,
        "since": row.since.isoformat() if row.since else None,
    }


@bp.get("/customers/<customer_id>/managing-resellers")
def list_managing_resellers(customer_id: str):
    acting_on(customer_id)
    with current_service().sessions() as session:
        customer = accounts.require_customer(session, customer_id)
        return {
            "items": [managing_view(m) for m in customer.managing_resellers],
            "next_cursor": None,
        }


def add_manager(customer: Customer, reseller_id: str, reseller_name: str) -> ManagingReseller:
    for row in customer.managing_resellers:
        if row.reseller_id == reseller_id:
            return row
    row = ManagingReseller(reseller_id=reseller_id, reseller_name=reseller_name, since=now())
    customer.managing_resellers.append(row)
    return row


@bp.post("/internal/customers/<customer_id>/managing-resellers")
def add_managing_reseller(customer_id: str):
    """The gateway, for a customer admin who named a reseller user's email."""
    own_admin(customer_id)
    body = json_body()
    reseller_id, name = body.get("reseller_id"), body.get("reseller_name")
    if not isinstance(reseller_id, str) or not isinstance(name, str):
        raise invalid({"reseller_id": ["Give reseller_id and reseller_name."]})
    with unit_of_work() as uow:
        customer = accounts.require_customer(uow.session, customer_id)
        known = any(m.reseller_id == reseller_id for m in customer.managing_resellers)
        row = add_manager(customer, reseller_id, name)
        uow.commit()
        return managing_view(row), 200 if known else 201


@bp.delete("/customers/<customer_id>/managing-resellers/<reseller_id>")
def remove_managing_reseller(customer_id: str, reseller_id: str):
    own_admin(customer_id)
    with unit_of_work() as uow:
        customer = accounts.require_customer(uow.session, customer_id)
        row = next((m for m in customer.managing_resellers if m.reseller_id == reseller_id), None)
        if row is None:
            raise not_found("managing reseller")
        customer.managing_resellers.remove(row)
        uow.commit()
    return "", 204


# -- a reseller asks to manage the account ------------------------------------------------------


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


@bp.post("/customers/<customer_id>/management-requests")
def request_management(customer_id: str):
    identity = acting_on(customer_id)
    if not identity.is_reseller:
        raise Problem(403, "Only a reseller asks to manage an account.")
    json_body(optional=True)
    with unit_of_work() as uow:
        customer = accounts.require_customer(uow.session, customer_id)
        if any(m.reseller_id == identity.reseller_id for m in customer.managing_resellers):
            raise conflict("Your company manages this account already.")
        admins = customer.admin_emails
        if not admins:
            raise conflict("This account has no admins who could approve the request.")
        at = now()
        # One open request per reseller and account: asking again sends a fresh link.
        uow.session.execute(
            update(ManagementRequest)
            .where(
                ManagementRequest.customer_id == customer_id,
                ManagementRequest.reseller_id == identity.reseller_id,
                ManagementRequest.status == "pending",
            )
            .values(status="replaced", decided_at=at)
        )
        token = secrets.token_urlsafe(32)
        req = ManagementRequest(
            customer_id=customer_id,
            reseller_id=identity.reseller_id,
            reseller_name=identity.reseller_name or identity.reseller_id,
            requested_by_name=identity.name,
            requested_by_email=identity.email,
            token_hash=token_hash(token),
            status="pending",
            created_at=at,
            expires_at=at + dt.timedelta(days=config().management_request_days),
        )
        req.customer = customer
        uow.session.add(req)
        uow.session.flush()
        req.request_id = f"MR-{req.id}"
        uow.record(
            "licensing.management.requested",
            {
                "request_id": req.request_id,
                "customer_id": customer.id,
                "customer_name": customer.name,
                "reseller_id": req.reseller_id,
                "reseller_name": req.reseller_name,
                "requested_by": inviter(identity),
                "admin_emails": admins,
                "token": token,
                "expires_at": req.expires_at,
            },
        )
        uow.commit()
        return request_view(req), 202


def find_request(session, token: str, *, lock: bool = False) -> ManagementRequest:
    query = select(ManagementRequest).where(ManagementRequest.token_hash == token_hash(token))
    if lock:
        query = query.with_for_update(of=ManagementRequest)
    req = session.scalar(query)
    if req is None or req.status == "replaced":
        raise not_found("request")
    return req


def still_open(req: ManagementRequest) -> None:
    if req.status != "pending":
        raise conflict(f"This request has been {req.status} already.")
    if req.expires_at <= now():
        raise Problem(410, "This request has expired; the reseller may ask again.")


@bp.get("/management-requests/<token>")
def show_management_request(token: str):
    """Public, by the e-mailed token: what is asked, for the admin's approve/decline page."""
    with current_service().sessions() as session:
        return request_view(find_request(session, token))


def decide(token: str, approve: bool):
    with unit_of_work() as uow:
        req = find_request(uow.session, token, lock=True)
        still_open(req)
        req.status = "approved" if approve else "declined"
        req.decided_at = now()
        if approve:
            add_manager(req.customer, req.reseller_id, req.reseller_name)
        uow.commit()
        return request_view(req)


@bp.post("/management-requests/<token>/approve")
def approve_management_request(token: str):
    json_body(optional=True)
    return decide(token, approve=True)


@bp.post("/management-requests/<token>/decline")
def decline_management_request(token: str):
    json_body(optional=True)
    return decide(token, approve=False)


# -- an invitation link opened in a browser -----------------------------------------------------


@bp.get("/invitations/<token>")
def show_invitation(token: str):
    """Public: what a link offers (product, organisation, team), or in words why it no longer
    works (410): disabled, expired, replaced by a regenerated link, or no license left."""
    today = current_service().licensing.today()
    with current_service().sessions() as session:
        link = session.scalar(
            select(InvitationLink).where(InvitationLink.token_hash == token_hash(token))
        )
        if link is None:
            raise replaced_or_missing(session, token)
        if not link.enabled:
            raise Problem(410, "This invitation link has been disabled by the account's admins.")
        if link.expires_at is not None and link.expires_at <= now():
            raise Problem(410, "This invitation link has expired.")
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
            raise Problem(410, "No license is left to claim through this invitation link.")
        customer = session.get(Customer, link.customer_id)
        return {
            "product": link.product,
            "customer_name": customer.name,
            "team_name": link.team.name,
            "allowed_domains": link.domains,
            "expires_at": link.expires_at.isoformat() if link.expires_at else None,
        }


@bp.get("/customers/<customer_id>/revocation-limit")
def revocation_limit(customer_id: str):
    """How many revocations the account may make per month (None: no cap) and has made."""
    acting_on(customer_id)
    with current_service().sessions() as session:
        accounts.require_customer(session, customer_id)
        made = revocations_this_month(session, customer_id, now())
    return {"monthly_limit": config().monthly_revocation_cap, "revoked_this_month": made}
