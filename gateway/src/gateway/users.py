"""A reseller admin manages its portal users: list, invite, change roles, disable."""

from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from gateway.auth import revoke_tokens
from gateway.call import Call
from gateway.models import PortalUser
from gateway.views import user_view
from portal_runtime import logs
from portal_runtime.identity import Identity
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
    """The invited person gets a temporary password by e-mail; the inviter gets ``202`` and the
    invitation as asked. An address that signs in for another reseller or as a customer admin
    gets the same answer (no oracle of who uses the portal) and an e-mail saying nothing
    changed; only the reseller's own users (which it lists anyway) are a ``409``."""
    service = call.service
    caller = call.caller
    email = call.body["email"].strip().lower()
    roles = sorted(set(call.body["roles"]))
    password = temporary_password()
    # Hashed whether or not it is used, so both answers take the same time.
    password_hash = service.passwords.hash(password)
    now = service.clock.now()
    body = {"email": email, "name": call.body.get("name"), "roles": roles}
    with service.uow(correlation_id=call.request_id) as uow:
        existing = uow.session.scalar(select(PortalUser).where(PortalUser.email == email))
        if existing is not None:
            if existing.kind == "reseller_user" and existing.reseller_id == caller.reseller_id:
                raise conflict("A portal user with this email exists already.")
            uow.record("gateway.invitation.refused", refusal(email, "reseller_user", caller, now))
            uow.commit()
            logs.get("gateway").info("user.invitation_refused", reseller_id=caller.reseller_id)
            return body, 202, {}
        user = PortalUser(
            public_id=new_user_id(),
            email=email,
            name=body["name"],
            kind="reseller_user",
            reseller_id=caller.reseller_id,
            roles=roles,
            password_hash=password_hash,
            disabled=False,
            invited_by=caller.user_id,
            created_at=now,
        )
        uow.session.add(user)
        uow.record(
            "gateway.user.invited",
            {
                "user_id": user.public_id,
                "email": email,
                "name": user.name,
                "reseller_id": caller.reseller_id,
                "reseller_name": caller.reseller_name or caller.reseller_id,
                "roles": roles,
                "temporary_password": password,
                "invited_by": inviter(caller),
            },
        )
        try:
            uow.commit()
        except IntegrityError:
            raise conflict("A portal user with this email exists already.")
    logs.get("gateway").info("user.invited", reseller_id=caller.reseller_id, user_id=user.public_id)
    return body, 202, {}


def inviter(caller: Identity) -> dict:
    return {"name": caller.name or None, "email": caller.email or None}


def refusal(email: str, invited_as: str, caller: Identity, now, account_name: str | None = None):
    """``gateway.invitation.refused``: who tried to invite ``email``, to what."""
    return {
        "email": email,
        "invited_as": invited_as,
        "account_name": account_name or caller.reseller_name or caller.reseller_id,
        "invited_by": inviter(caller),
        "invited_at": now,
    }


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
            if changes["disabled"] and not user.disabled:
                revoke_tokens(user)
            user.disabled = changes["disabled"]
        session.commit()
        return user_view(user), 200, {}
