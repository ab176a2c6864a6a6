"""Assigning licenses to people, and taking them back.

A license is taken for a person by a row lock that concurrent takers skip
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite serialises writers at BEGIN) followed by a
conditional update that only succeeds while the license is still free: no license is ever given
to two people, however many claim the last seat at once.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from license_assign import events
from license_assign.config import LicenseAssignConfig
from license_assign.holder_links import issue_holder_link
from license_assign.models import Customer, License, Revocation
from license_assign.ports import CodeSigner
from portal_runtime.clock import Clock
from portal_runtime.errors import Invalid, NotFound
from portal_runtime.uow import UnitOfWork


class NoFreeLicense(Exception):
    """No free license of the product (in the team) is left."""


def person_of(data: dict) -> dict:
    return {
        "first_name": data["first_name"].strip(),
        "last_name": data["last_name"].strip(),
        "email": data["email"].strip().lower(),
    }


def live_licenses(customer_id: str):
    """The account's licenses that exist (a query to narrow down)."""
    return select(License).where(License.customer_id == customer_id, License.removed_at.is_(None))


def find_license(session: Session, customer_id: str, license_id: str, lock: bool = False):
    """One of the account's licenses, or a 404; ``lock``: its row locked until commit."""
    query = live_licenses(customer_id).where(License.license_id == license_id)
    if lock:
        query = query.with_for_update(of=License)
    lic = session.scalar(query)
    if lic is None:
        raise NotFound("license")
    return lic


def require_known_product(session: Session, customer_id: str, product: str) -> str:
    """The product code, if the account holds (or held: expired and suspended count) licenses of
    it; a product it has no licenses of is unknown to it (422), whether or not it is sold."""
    code = product.strip().upper()
    held = session.scalar(live_licenses(customer_id).where(License.product == code).limit(1))
    if held is None:
        raise Invalid("product", f"No such product in this account: it holds no {code} licenses.")
    return code


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


def issue_code(lic: License, codes: CodeSigner, clock: Clock) -> str:
    lic.activation_code = codes.issue(
        license_id=lic.license_id,
        product=lic.product,
        licensee_name=f"{lic.assignee_first_name} {lic.assignee_last_name}".strip(),
        licensee_email=lic.assignee_email,
        valid_until=lic.valid_until,
        fallback_version=lic.fallback_version,
        issued_at=clock.now(),
    )
    return lic.activation_code


def complete_assignment(
    uow: UnitOfWork,
    customer: Customer,
    lic: License,
    person: dict,
    reason: str,
    *,
    codes: CodeSigner,
    clock: Clock,
    config: LicenseAssignConfig,
    order_number: str | None = None,
) -> None:
    """Name the holder, sign a new activation code and tell them (the event emails them)."""
    lic.assignee_first_name = person["first_name"]
    lic.assignee_last_name = person["last_name"]
    lic.assignee_email = person["email"]
    lic.assigned_at = lic.assigned_at or clock.now()
    issue_code(lic, codes, clock)
    publish_assigned(
        uow, customer, lic, reason, clock=clock, config=config, order_number=order_number
    )


def publish_assigned(
    uow: UnitOfWork,
    customer: Customer,
    lic: License,
    reason: str,
    *,
    clock: Clock,
    config: LicenseAssignConfig,
    order_number: str | None = None,
) -> None:
    """The event that e-mails the holder their license; it carries a fresh single-use link to
    their own "My licenses" page (``my_licenses_token``)."""
    token, expires_at = issue_holder_link(
        uow, lic.assignee_email, clock.now(), config.holder_link_days
    )
    uow.record(
        "licensing.license.assigned",
        events.license_assigned(lic, customer, reason, order_number, token, expires_at),
    )


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
    uow: UnitOfWork, customer: Customer, lic: License, now: dt.datetime, reason: str = "revoked"
) -> None:
    """Take the license back from its holder at once; the holder is told (the event emails)."""
    former = lic.assignee
    uow.session.add(
        Revocation(
            customer_id=customer.id,
            license_id=lic.license_id,
            former_email=former["email"],
            reason=reason,
            revoked_at=now,
        )
    )
    lic.assignee_first_name = lic.assignee_last_name = lic.assignee_email = None
    lic.assigned_at = None
    lic.activation_code = None
    uow.record("licensing.license.revoked", events.license_revoked(lic, customer, former, reason))
