"""Assigning licenses to people, and taking them back.

A license is taken for a person by a row lock that concurrent takers skip
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite serialises writers at BEGIN) followed by a
conditional update that only succeeds while the license is still free: no license is ever given
to two people, however many claim the last seat at once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from license_assign.activation_codes import ActivationCodes
from license_assign.config import LicenseAssignConfig
from license_assign.license_holders import issue_holder_link
from license_assign.models import Customer, License, Revocation
from portal_runtime.clock import Clock
from portal_runtime.uow import UnitOfWork


@dataclass
class Licensing:
    """What the handlers and views need besides the unit of work."""

    codes: ActivationCodes
    clock: Clock
    config: LicenseAssignConfig

    def today(self) -> dt.date:
        return self.clock.today()


class NoFreeLicense(Exception):
    """No free license of the product (in the team) is left."""


def person_of(data: dict) -> dict:
    return {
        "first_name": data["first_name"].strip(),
        "last_name": data["last_name"].strip(),
        "email": data["email"].strip().lower(),
    }


def usable(query, today: dt.date):
    """Licenses that exist, are not suspended and have not expired."""
    return query.where(
        License.removed_at.is_(None),
        License.suspended.is_(False),
        License.valid_until >= today,
    )


def holds_product(
    session: Session, customer_id: str, product: str, email: str, today: dt.date
) -> bool:
    query = select(License.id).where(
        License.customer_id == customer_id,
        License.product == product,
        func.lower(License.assignee_email) == email.lower(),
    )
    return session.scalar(usable(query, today).limit(1)) is not None


def take_free_license(
    session: Session,
    customer_id: str,
    product: str,
    team_pk: int | None,
    email: str,
    today: dt.date,
    now: dt.datetime,
) -> License:
    """Reserve one free license for ``email``, or raise :class:`NoFreeLicense`."""
    for _ in range(5):
        query = select(License).where(
            License.customer_id == customer_id,
            License.product == product,
            License.assignee_email.is_(None),
        )
        if team_pk is not None:
            query = query.where(License.team_pk == team_pk)
        query = usable(query, today).order_by(License.valid_until.desc(), License.id)
        lic = session.scalar(query.limit(1).with_for_update(skip_locked=True, of=License))
        if lic is None:
            raise NoFreeLicense(product)
        if take(session, lic, email, now):
            return lic
    raise NoFreeLicense(product)


def take(session: Session, lic: License, email: str, now: dt.datetime) -> bool:
    """Mark ``lic`` as this person's if it is still free; False when someone was faster."""
    result = session.execute(
        update(License)
        .where(License.id == lic.id, License.assignee_email.is_(None))
        .values(assignee_email=email, assigned_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    session.refresh(lic)
    return True


def issue_code(ctx: Licensing, lic: License) -> str:
    lic.activation_code = ctx.codes.issue(
        license_id=lic.license_id,
        product=lic.product,
        licensee_name=f"{lic.assignee_first_name} {lic.assignee_last_name}".strip(),
        licensee_email=lic.assignee_email,
        valid_until=lic.valid_until,
        fallback_version=lic.fallback_version,
        issued_at=ctx.clock.now(),
    )
    return lic.activation_code


def complete_assignment(
    uow: UnitOfWork,
    ctx: Licensing,
    customer: Customer,
    lic: License,
    person: dict,
    reason: str,
    order_number: str | None = None,
) -> None:
    """Name the holder, sign a new activation code and tell them (the event emails them)."""
    lic.assignee_first_name = person["first_name"]
    lic.assignee_last_name = person["last_name"]
    lic.assignee_email = person["email"]
    lic.assigned_at = lic.assigned_at or ctx.clock.now()
    issue_code(ctx, lic)
    publish_assigned(uow, ctx, customer, lic, reason, order_number)


def publish_assigned(
    uow: UnitOfWork,
    ctx: Licensing,
    customer: Customer,
    lic: License,
    reason: str,
    order_number: str | None = None,
) -> None:
    """The event that e-mails the holder their license; it carries a fresh single-use link to
    their own "My licenses" page (``my_licenses_token``)."""
    token, expires_at = issue_holder_link(uow, ctx, lic.assignee_email)
    uow.record(
        "licensing.license.assigned",
        {
            "license_id": lic.license_id,
            "customer_id": customer.id,
            "customer_name": customer.name,
            "product": lic.product,
            "assignee": lic.assignee,
            "valid_until": lic.valid_until,
            "fallback_version": lic.fallback_version,
            "activation_code": lic.activation_code,
            "reason": reason,
            "team_id": lic.team.team_id,
            "subscription_pack": lic.pack.number,
            "order_number": order_number,
            "my_licenses_token": token,
            "my_licenses_expires_at": expires_at,
        },
    )


def assign(
    uow: UnitOfWork,
    ctx: Licensing,
    customer: Customer,
    product: str,
    team_pk: int | None,
    person: dict,
    reason: str = "assigned",
) -> License:
    """Give one free license of ``product`` (in the team, if given) to ``person``."""
    now = ctx.clock.now()
    lic = take_free_license(
        uow.session, customer.id, product, team_pk, person["email"], ctx.today(), now
    )
    complete_assignment(uow, ctx, customer, lic, person, reason)
    return lic


def revocations_this_month(session: Session, customer_id: str, now: dt.datetime) -> int:
    month_start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return session.scalar(
        select(func.count(Revocation.id)).where(
            Revocation.customer_id == customer_id,
            Revocation.reason == "revoked",
            Revocation.revoked_at >= month_start,
        )
    )


def revoke(
    uow: UnitOfWork, ctx: Licensing, customer: Customer, lic: License, reason: str = "revoked"
) -> None:
    """Take the license back from its holder at once; the holder is told (the event emails)."""
    former = lic.assignee
    uow.session.add(
        Revocation(
            customer_id=customer.id,
            license_id=lic.license_id,
            former_email=former["email"],
            reason=reason,
            revoked_at=ctx.clock.now(),
        )
    )
    lic.assignee_first_name = lic.assignee_last_name = lic.assignee_email = None
    lic.assigned_at = None
    lic.activation_code = None
    uow.record(
        "licensing.license.revoked",
        {
            "license_id": lic.license_id,
            "customer_id": customer.id,
            "customer_name": customer.name,
            "product": lic.product,
            "former_assignee": former,
            "reason": reason,
        },
    )
