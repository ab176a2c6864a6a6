"""My licenses: a license holder's own page, opened by a single-use, expiring e-mailed link.

A holder asks for a link by email (``POST /api/v1/auth/my-licenses-link``; the gateway asks here
and always answers 202), or finds one in the assignment e-mail. The gateway redeems the link
here (``/internal/holder-links/redeem``: once, before it expires) and gives the browser a
short-lived token of its own kind, ``license_holder``, bound to that email. With it the gateway
lets through only ``/my/licenses...``, and this service answers those with the licenses assigned
to that email, and nothing else of any account.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import TYPE_CHECKING

from flask import Blueprint
from sqlalchemy import select

from license_assign.accounts import token_hash
from license_assign.models import Customer, HolderLink, License
from portal_contracts.api.auth import MyLicensesLinkRequest
from portal_runtime.identity import Identity
from portal_runtime.problems import Problem, invalid, not_found
from portal_runtime.uow import UnitOfWork
from portal_runtime.web import current_identity, current_service, json_body, unit_of_work

if TYPE_CHECKING:
    from license_assign.assignments import Licensing

bp = Blueprint("license_holders", __name__)


def issue_holder_link(uow: UnitOfWork, ctx: Licensing, email: str) -> tuple[str, dt.datetime]:
    """A new single-use link to ``email``'s own licenses page: ``(token, expires_at)``. Only the
    token's hash is stored; the e-mail is the one place the token is written."""
    now = ctx.clock.now()
    token = secrets.token_urlsafe(32)
    expires_at = now + dt.timedelta(days=ctx.config.holder_link_days)
    uow.session.add(
        HolderLink(
            email=email.strip().lower(),
            token_hash=token_hash(token),
            created_at=now,
            expires_at=expires_at,
        )
    )
    return token, expires_at


def held_licenses(session, email: str):
    return session.scalars(
        select(License)
        .where(License.assignee_email == email.strip().lower(), License.removed_at.is_(None))
        .order_by(License.id)
    ).all()


def ctx() -> Licensing:
    return current_service().licensing


def gateway_only() -> None:
    identity = current_identity()
    if not identity.is_service:
        raise not_found("route")


@bp.post("/internal/holder-links")
def request_holder_link():
    """The gateway, for ``POST /auth/my-licenses-link``: a link by e-mail if the address holds a
    license. The answer is the same 202 either way (the gateway adds nothing to it)."""
    gateway_only()
    email = MyLicensesLinkRequest().load(json_body())["email"].strip().lower()
    context = ctx()
    with unit_of_work() as uow:
        held = held_licenses(uow.session, email)
        if held:
            token, expires_at = issue_holder_link(uow, context, email)
            first = held[0]
            uow.record(
                "licensing.holder_link.issued",
                {
                    "holder": {
                        "first_name": first.assignee_first_name or "",
                        "last_name": first.assignee_last_name or "",
                        "email": email,
                    },
                    "token": token,
                    "expires_at": expires_at,
                    "license_count": len(held),
                },
            )
        uow.commit()
    return {}, 202


@bp.post("/internal/holder-links/redeem")
def redeem_holder_link():
    """The gateway, opening a My licenses session: whose link this is. Single use; 410 once used
    or expired, 404 for a token that never was one."""
    gateway_only()
    token = json_body().get("token")
    if not isinstance(token, str) or not token:
        raise invalid({"token": ["Missing."]})
    now = ctx().clock.now()
    with unit_of_work() as uow:
        link = uow.session.scalar(
            select(HolderLink)
            .where(HolderLink.token_hash == token_hash(token))
            .with_for_update(of=HolderLink)
        )
        if link is None:
            raise not_found("link")
        if link.used_at is not None:
            raise Problem(
                410, "This link has been used already. Ask for a new link to your licenses."
            )
        if link.expires_at <= now:
            raise Problem(410, "This link has expired. Ask for a new link to your licenses.")
        link.used_at = now
        uow.commit()
        return {"email": link.email}


# -- the holder's own licenses (identity kind license_holder) ------------------------------------


def holder() -> Identity:
    """The license holder this request is for; anyone else finds nothing here."""
    identity = current_identity()
    if not identity.is_license_holder or not identity.email:
        raise not_found("route")
    return identity


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


@bp.get("/my/licenses")
def my_licenses():
    identity = holder()
    today = ctx().today()
    with current_service().sessions() as session:
        held = held_licenses(session, identity.email)
        names = dict(
            session.execute(
                select(Customer.id, Customer.name).where(
                    Customer.id.in_({lic.customer_id for lic in held})
                )
            ).all()
        )
        items = [held_view(lic, names.get(lic.customer_id, ""), today) for lic in held]
    return {"email": identity.email, "items": items, "next_cursor": None}


@bp.get("/my/licenses/<license_id>/activation-code")
def my_activation_code(license_id: str):
    identity = holder()
    with current_service().sessions() as session:
        lic = session.scalar(
            select(License).where(
                License.license_id == license_id,
                License.assignee_email == identity.email.strip().lower(),
                License.removed_at.is_(None),
            )
        )
        if lic is None or not lic.activation_code:
            raise not_found("license")
        customer = session.get(Customer, lic.customer_id)
        return {
            "license_id": lic.license_id,
            "product": lic.product,
            "customer_name": customer.name if customer else "",
            "licensee": lic.assignee,
            "activation_code": lic.activation_code,
            "valid_until": lic.valid_until.isoformat(),
            "fallback_version": lic.fallback_version,
        }
