"""Accounts: a reseller creating one, its admins (invited, re-sent a link, removed; the gateway
redeeming a password link), the resellers that manage it and a reseller's request to."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from license_assign import accounts, events, onboarding, views
from license_assign.accounts import token_hash
from license_assign.commands import (
    AddManagingReseller,
    CreateCustomer,
    DecideManagementRequest,
    InviteAdmin,
    RedeemPasswordLink,
    RemoveAdmin,
    RemoveManagingReseller,
    RequestManagement,
    ResendAdminLink,
)
from license_assign.config import LicenseAssignConfig
from license_assign.models import Customer, ManagementRequest, PasswordLink, RequestStatus
from portal_runtime.clock import Clock
from portal_runtime.errors import Conflict, DomainError, NotFound
from portal_runtime.uow import UnitOfWork

NUMBER_ATTEMPTS = 5


class NotNumbered(DomainError):
    """Every number tried was taken at the same moment by another new account."""

    status = 503


def create_customer(
    cmd: CreateCustomer, uow: UnitOfWork, clock: Clock, config: LicenseAssignConfig
) -> dict:
    """The account and its first admin, who gets a password link by e-mail."""
    contact = cmd.contact
    for _attempt in range(NUMBER_ATTEMPTS):
        try:
            with uow.session.begin_nested():
                customer = Customer(
                    id=onboarding.next_customer_id(uow.session),
                    name=cmd.name,
                    country=cmd.country,
                    vat_id=cmd.vat_id,
                    created_by_reseller_id=cmd.by.reseller_id,
                    created_at=clock.now(),
                )
                uow.session.add(customer)
                accounts.add_person(customer, contact["email"], "contact")
                for p in customer.people:
                    p.first_name, p.last_name = contact["first_name"], contact["last_name"]
                admin = onboarding.new_admin(customer, contact)
                uow.session.flush()
        except IntegrityError:
            continue  # someone took this number at the same moment: take the next one
        accounts.default_team(uow.session, customer.id)
        link = onboarding.issue_password_link(
            uow, customer, admin, "new_account", cmd.by, clock.now(), config.password_link_days
        )
        return dict(views.account_view(customer), admin=views.admin_view(admin, link))
    raise NotNumbered("Could not number the new account; try again.")


def redeem_password_link(cmd: RedeemPasswordLink, uow: UnitOfWork, clock: Clock) -> dict:
    return views.redeemed_view(onboarding.spend_password_link(uow.session, cmd.token, clock.now()))


def invite_admin(
    cmd: InviteAdmin, uow: UnitOfWork, clock: Clock, config: LicenseAssignConfig
) -> dict:
    email = cmd.person["email"].strip().lower()
    customer = accounts.require_customer(uow.session, cmd.customer_id)
    if any(p.email == email for p in customer.admins):
        raise Conflict(f"{email} is an admin of this account already.")
    admin = onboarding.new_admin(customer, cmd.person)
    uow.session.flush()
    link = onboarding.issue_password_link(
        uow, customer, admin, "invited", cmd.by, clock.now(), config.password_link_days
    )
    return views.admin_view(admin, link)


def resend_admin_link(
    cmd: ResendAdminLink, uow: UnitOfWork, clock: Clock, config: LicenseAssignConfig
) -> dict:
    """A new password link (the old one stops working), for an admin who has not set one."""
    customer = accounts.require_customer(uow.session, cmd.customer_id)
    person = onboarding.find_admin(uow.session, cmd.customer_id, cmd.user_id)
    if person.activated_at is not None:
        raise Conflict("This admin has set a password already.")
    link = onboarding.issue_password_link(
        uow, customer, person, "resent", cmd.by, clock.now(), config.password_link_days
    )
    return views.admin_view(person, link)


def remove_admin(cmd: RemoveAdmin, uow: UnitOfWork) -> None:
    # Removals on one account queue on its row: two admins removing each other at once
    # cannot leave it with none.
    customer = accounts.require_customer(uow.session, cmd.customer_id, lock=True)
    person = onboarding.find_admin(uow.session, cmd.customer_id, cmd.user_id)
    others = [p for p in customer.admins if p.id != person.id and p.activated_at is not None]
    if not others:
        raise Conflict(
            "An account keeps at least one admin who can sign in: invite another admin"
            " and let them set a password first."
        )
    uow.session.execute(delete(PasswordLink).where(PasswordLink.person_pk == person.id))
    customer.people.remove(person)


def add_managing_reseller(
    cmd: AddManagingReseller, uow: UnitOfWork, clock: Clock
) -> tuple[dict, bool]:
    """The entry, and whether it is new."""
    customer = accounts.require_customer(uow.session, cmd.customer_id)
    known = any(m.reseller_id == cmd.reseller_id for m in customer.managing_resellers)
    row = onboarding.add_manager(customer, cmd.reseller_id, cmd.reseller_name, clock.now())
    return views.managing_view(row), not known


def remove_managing_reseller(cmd: RemoveManagingReseller, uow: UnitOfWork) -> None:
    customer = accounts.require_customer(uow.session, cmd.customer_id)
    row = next((m for m in customer.managing_resellers if m.reseller_id == cmd.reseller_id), None)
    if row is None:
        raise NotFound("managing reseller")
    customer.managing_resellers.remove(row)


def request_management(
    cmd: RequestManagement, uow: UnitOfWork, clock: Clock, config: LicenseAssignConfig
) -> dict:
    """A link to approve or decline, e-mailed to the account's admins; one open request per
    reseller and account (asking again sends a fresh link)."""
    by = cmd.by
    customer = accounts.require_customer(uow.session, cmd.customer_id)
    if any(m.reseller_id == by.reseller_id for m in customer.managing_resellers):
        raise Conflict("Your company manages this account already.")
    admins = customer.admin_emails
    if not admins:
        raise Conflict("This account has no admins who could approve the request.")
    at = clock.now()
    uow.session.execute(
        update(ManagementRequest)
        .where(
            ManagementRequest.customer_id == cmd.customer_id,
            ManagementRequest.reseller_id == by.reseller_id,
            ManagementRequest.status == RequestStatus.PENDING,
        )
        .values(status=RequestStatus.REPLACED, decided_at=at)
    )
    token = secrets.token_urlsafe(32)
    req = ManagementRequest(
        customer_id=cmd.customer_id,
        reseller_id=by.reseller_id,
        reseller_name=by.reseller_name or by.reseller_id,
        requested_by_name=by.name,
        requested_by_email=by.email,
        token_hash=token_hash(token),
        status=RequestStatus.PENDING,
        created_at=at,
        expires_at=at + dt.timedelta(days=config.management_request_days),
    )
    req.customer = customer
    uow.session.add(req)
    uow.session.flush()
    req.request_id = f"MR-{req.id}"
    uow.record(
        "licensing.management.requested",
        events.management_requested(req, customer, by, admins, token),
    )
    return views.request_view(req)


def decide_management_request(cmd: DecideManagementRequest, uow: UnitOfWork, clock: Clock) -> dict:
    req = onboarding.find_request(uow.session, cmd.token, lock=True)
    onboarding.refuse_expired(req, clock.now())
    req.decide(cmd.approve, clock.now())
    if cmd.approve:
        onboarding.add_manager(req.customer, req.reseller_id, req.reseller_name, clock.now())
    return views.request_view(req)
