"""Onboarding and the people of an account: a reseller creates a customer account, the account's
admins (invited by a single-use, expiring password link), the resellers that manage it, and a
reseller's request to manage it (approved or declined by an admin through an e-mailed link).

The gateway keeps the admins' passwords; this service owns who is an admin of which account and
the links that let a person set a password (the gateway redeems them). The rules are here; the
commands that use them are in ``handlers.accounts``.
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from license_assign import events
from license_assign.accounts import Gone, token_hash
from license_assign.models import (
    Customer,
    CustomerPerson,
    ManagementRequest,
    ManagingReseller,
    PasswordLink,
    RequestStatus,
)
from portal_runtime.errors import NotFound
from portal_runtime.identity import Identity
from portal_runtime.uow import UnitOfWork

FIRST_NUMBER = 100001


def new_user_id() -> str:
    return "U-" + secrets.token_hex(6)


def next_customer_id(session: Session) -> str:
    """One past the highest ``C-<n>`` there is (accounts learnt from orders count too)."""
    ids = session.scalars(select(Customer.id).where(Customer.id.like("C-%")))
    numbers = [int(i[2:]) for i in ids if i[2:].isdigit()]
    return f"C-{max(numbers, default=FIRST_NUMBER - 1) + 1}"


# -- admins and their password links ---------------------------------------------------------------


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


def find_admin(session: Session, customer_id: str, user_id: str) -> CustomerPerson:
    person = session.scalar(
        select(CustomerPerson).where(
            CustomerPerson.customer_id == customer_id,
            CustomerPerson.role == "admin",
            CustomerPerson.user_id == user_id,
        )
    )
    if person is None:
        raise NotFound("admin")
    return person


def issue_password_link(
    uow: UnitOfWork,
    customer: Customer,
    person: CustomerPerson,
    reason: str,
    by: Identity | None,
    now: dt.datetime,
    days: int,
) -> PasswordLink:
    """A new single-use link for ``person``; older unused ones stop working. Records
    ``licensing.admin.invited`` so that the person gets it by e-mail."""
    uow.session.execute(
        update(PasswordLink)
        .where(
            PasswordLink.person_pk == person.id,
            PasswordLink.used_at.is_(None),
            PasswordLink.replaced_at.is_(None),
        )
        .values(replaced_at=now)
    )
    token = secrets.token_urlsafe(32)
    link = PasswordLink(
        person_pk=person.id,
        token_hash=token_hash(token),
        created_at=now,
        expires_at=now + dt.timedelta(days=days),
    )
    link.person = person
    uow.session.add(link)
    person.invited_at = now
    uow.record(
        "licensing.admin.invited", events.admin_invited(customer, person, link, token, reason, by)
    )
    return link


def current_link(session: Session, person: CustomerPerson) -> PasswordLink | None:
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


def spend_password_link(session: Session, token: str, now: dt.datetime) -> CustomerPerson:
    """Whose link this is, the link used now: once (410 used, replaced or expired; 404 for a
    token that never was one)."""
    link = session.scalar(
        select(PasswordLink)
        .where(PasswordLink.token_hash == token_hash(token))
        .with_for_update(of=PasswordLink)
    )
    if link is None:
        raise NotFound("password link")
    if link.used_at is not None:
        raise Gone("This link has been used already. Ask for a new one.")
    if link.replaced_at is not None:
        raise Gone("A newer link replaces this one: use the latest e-mail.")
    if link.expires_at <= now:
        raise Gone("This link has expired. Ask an admin to send a new one.")
    person = link.person
    link.used_at = now
    person.activated_at = person.activated_at or now
    return person


# -- resellers managing the account ---------------------------------------------------------------


def add_manager(
    customer: Customer, reseller_id: str, reseller_name: str, now: dt.datetime
) -> ManagingReseller:
    for row in customer.managing_resellers:
        if row.reseller_id == reseller_id:
            return row
    row = ManagingReseller(reseller_id=reseller_id, reseller_name=reseller_name, since=now)
    customer.managing_resellers.append(row)
    return row


def find_request(session: Session, token: str, *, lock: bool = False) -> ManagementRequest:
    query = select(ManagementRequest).where(ManagementRequest.token_hash == token_hash(token))
    if lock:
        query = query.with_for_update(of=ManagementRequest)
    req = session.scalar(query)
    if req is None or req.status == RequestStatus.REPLACED:
        raise NotFound("request")
    return req


def refuse_expired(req: ManagementRequest, now: dt.datetime) -> None:
    """A pending request past its day is a 410 (one decided already: its own 409 first)."""
    if req.status != RequestStatus.PENDING:
        return
    if req.expires_at <= now:
        raise Gone("This request has expired; the reseller may ask again.")
