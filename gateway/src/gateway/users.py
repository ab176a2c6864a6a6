"""A reseller admin manages its portal users: list, invite, change roles, disable."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from gateway.call import Call
from gateway.models import PortalUser
from gateway.views import user_view
from portal_runtime.problems import conflict, not_found
from portal_runtime.queries import page


def new_user_id() -> str:
    return "U-" + secrets.token_hex(6)


def temporary_password() -> str:
    return secrets.token_urlsafe(12)


def list_users(call: Call):
    service = call.service
    query = select(PortalUser).where(
        PortalUser.reseller_id == call.caller.reseller_id,
        PortalUser.kind == "reseller_user",
    )
    args = call.query or {}
    with service.sessions() as session:
        rows, next_cursor = page(
            session, query, PortalUser.id, str(args.get("limit", "")), args.get("cursor")
        )
        return {"items": [user_view(u) for u in rows], "next_cursor": next_cursor}, 200, {}


def invite_user(call: Call):
    service = call.service
    email = call.body["email"].strip().lower()
    password = temporary_password()
    user = PortalUser(
        public_id=new_user_id(),
        email=email,
        name=call.body.get("name"),
        kind="reseller_user",
        reseller_id=call.caller.reseller_id,
        roles=sorted(set(call.body["roles"])),
        password_hash=service.passwords.hash(password),
        disabled=False,
        invited_by=call.caller.user_id,
        created_at=service.clock.now(),
    )
    with service.sessions() as session:
        if session.scalar(select(PortalUser.id).where(PortalUser.email == email)) is not None:
            raise conflict("A portal user with this email exists already.")
        session.add(user)
        try:
            session.commit()
        except IntegrityError:
            raise conflict("A portal user with this email exists already.")
    body = dict(user_view(user), temporary_password=password)
    return body, 201, {"Location": f"/api/v1/users/{user.public_id}"}


def update_user(call: Call):
    service = call.service
    user_id = call.path["user_id"]
    changes = call.body or {}
    with service.sessions() as session:
        user = session.scalar(
            select(PortalUser).where(
                PortalUser.public_id == user_id,
                PortalUser.reseller_id == call.caller.reseller_id,
                PortalUser.kind == "reseller_user",
            )
        )
        if user is None:
            raise not_found("user")
        is_self = user.public_id == call.caller.user_id
        if "roles" in changes:
            roles = sorted(set(changes["roles"]))
            if is_self and "admin" not in roles:
                raise conflict("You cannot remove your own admin role.")
            user.roles = roles
        if "disabled" in changes:
            if is_self and changes["disabled"]:
                raise conflict("You cannot disable yourself.")
            user.disabled = changes["disabled"]
        session.commit()
        return user_view(user), 200, {}
