"""Onboarding at the gateway: a reseller creates a customer account (and is let into it), a
customer admin sets a password from an e-mailed link, invites and removes admins, and names a
reseller (by one of its users' email) to manage the account.

license-assign owns the accounts, who their admins are and the single-use password links; the
gateway owns the sign-in (``PortalUser``). These handlers keep the two in step.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from urllib.parse import quote

from sqlalchemy import delete, select

from gateway.auth import revoke_tokens
from gateway.call import Call
from gateway.models import AccessGrant, PortalUser, Reseller
from gateway.users import new_user_id, refusal
from portal_runtime import logs
from portal_runtime.http import ServiceUnavailable
from portal_runtime.problems import Problem, conflict, invalid

SERVICE = "license-assign"


def _segment(value: str) -> str:
    return quote(str(value), safe="")


def call_license_assign(call: Call, method: str, path: str, *, as_service: bool = False, **kw):
    """One request to license-assign as the caller (scoped to the checked customer) or as the
    gateway itself; its error answers become the same problem for our caller."""
    identity = None
    if not as_service and call.caller is not None:
        identity = replace(call.caller, customer_scope=call.customer_id)
    resp = call.service.upstreams.client(SERVICE).request(
        method, path, identity=identity, request_id=call.request_id, **kw
    )
    if resp.status_code == 503:
        raise ServiceUnavailable(SERVICE)
    if resp.status_code >= 500 or resp.status_code == 401:
        logs.get("gateway").warning("upstream.failed", service=SERVICE, status=resp.status_code)
        raise Problem(502, f"The {SERVICE} service could not answer this request.")
    if resp.status_code >= 400:
        try:
            body = resp.json()
        except ValueError:
            body = {}
        raise Problem(resp.status_code, body.get("detail"), errors=body.get("errors"))
    return resp


def signs_in_elsewhere(session, email: str, customer_id: str | None) -> bool:
    """Whether ``email`` already signs in as someone other than an admin of ``customer_id``:
    one email is one sign-in."""
    user = session.scalar(select(PortalUser).where(PortalUser.email == email.strip().lower()))
    if user is None:
        return False
    return not (user.kind == "customer_admin" and user.customer_id == customer_id)


def create_customer(call: Call):
    """A new account; the reseller that creates it enters it at once (as customer-access)."""
    service = call.service
    caller = call.caller
    contact_email = call.body["contact"]["email"].strip().lower()
    with service.sessions() as session:
        if signs_in_elsewhere(session, contact_email, None):
            raise invalid(
                {"contact": {"email": ["This email signs in to the portal for another account."]}}
            )
    resp = call_license_assign(call, "POST", "/internal/customers", json=call.body)
    account = resp.json()
    now = service.clock.now()
    grant = AccessGrant(
        reseller_id=caller.reseller_id,
        customer_id=account["customer_id"],
        customer_name=account["name"],
        user_id=caller.user_id,
        method="created",
        reference=account["customer_id"],
        created_at=now,
        expires_at=now + dt.timedelta(hours=service.config.grant_hours),
    )
    with service.sessions() as session:
        session.add(grant)
        session.commit()
    logs.get("gateway").info(
        "customer.created",
        reseller_id=caller.reseller_id,
        user_id=caller.user_id,
        customer_id=grant.customer_id,
    )
    body = {
        "customer_id": account["customer_id"],
        "name": account["name"],
        "country": account.get("country"),
        "vat_id": account.get("vat_id"),
        "expires_at": grant.expires_at.isoformat(),
        "admin": account.get("admin"),
    }
    return body, 201, {"Location": f"/api/v1/customers/{account['customer_id']}"}


def invite_admin(call: Call):
    """license-assign invites the admin (202, a password link by e-mail). An address that signs
    in for someone else is answered the same way, without license-assign, and its owner is
    e-mailed that nothing changed: the answer tells nobody who uses the portal."""
    email = call.body["email"].strip().lower()
    with call.service.sessions() as session:
        elsewhere = signs_in_elsewhere(session, email, call.customer_id)
    if elsewhere:
        return refuse_admin_invitation(call, email)
    path = f"/customers/{_segment(call.customer_id)}/admins"
    resp = call_license_assign(call, "POST", path, json=call.body)
    body = resp.json()
    location = f"/api/v1/customers/{call.customer_id}/admins/{body.get('user_id')}"
    return body, resp.status_code, {"Location": location}


def refuse_admin_invitation(call: Call, email: str):
    """What license-assign answers a new invitation, for an address that cannot become one."""
    service = call.service
    account = service.upstreams.customer(call.customer_id, request_id=call.request_id) or {}
    now = service.clock.now()
    with service.uow(correlation_id=call.request_id) as uow:
        name = account.get("name") or call.customer_id
        uow.record(
            "gateway.invitation.refused", refusal(email, "customer_admin", call.caller, now, name)
        )
        uow.commit()
    logs.get("gateway").info("customer_admin.invitation_refused", customer_id=call.customer_id)
    user_id = new_user_id()
    body = {
        "user_id": user_id,
        "first_name": call.body["first_name"].strip(),
        "last_name": call.body["last_name"].strip(),
        "email": email,
        "status": "invited",
        "invited_at": now.isoformat(),
        "link_expires_at": (now + dt.timedelta(days=service.config.password_link_days)).isoformat(),
    }
    return body, 202, {"Location": f"/api/v1/customers/{call.customer_id}/admins/{user_id}"}


def remove_admin(call: Call):
    """license-assign decides (never the last admin: 409); then the sign-in goes too."""
    user_id = call.path["user_id"]
    path = f"/customers/{_segment(call.customer_id)}/admins/{_segment(user_id)}"
    call_license_assign(call, "DELETE", path)
    with call.service.sessions() as session:
        session.execute(
            delete(PortalUser).where(
                PortalUser.public_id == user_id,
                PortalUser.kind == "customer_admin",
                PortalUser.customer_id == call.customer_id,
            )
        )
        session.commit()
    logs.get("gateway").info(
        "customer_admin.removed", customer_id=call.customer_id, user_id=user_id
    )
    return None, 204, {}


def add_managing_reseller(call: Call):
    """The reseller one of whose users has this email now manages the account."""
    email = call.body["email"].strip().lower()
    with call.service.sessions() as session:
        user = session.scalar(
            select(PortalUser).where(
                PortalUser.email == email,
                PortalUser.kind == "reseller_user",
                PortalUser.disabled.is_(False),
            )
        )
        reseller = session.get(Reseller, user.reseller_id) if user else None
        if reseller is None:
            raise invalid({"email": ["No reseller has a portal user with this email."]})
        reseller_id, reseller_name = reseller.id, reseller.name
    path = f"/internal/customers/{_segment(call.customer_id)}/managing-resellers"
    resp = call_license_assign(
        call, "POST", path, json={"reseller_id": reseller_id, "reseller_name": reseller_name}
    )
    headers = {"Location": f"/api/v1/customers/{call.customer_id}/managing-resellers/{reseller_id}"}
    return resp.json(), resp.status_code, headers


def set_password(call: Call):
    """Public: the token of an e-mailed link and a new password; the admin may then sign in.
    The password is checked before the single-use link is spent."""
    service = call.service
    resp = call_license_assign(
        call,
        "POST",
        "/internal/password-links/redeem",
        as_service=True,
        json={"token": call.body["token"]},
    )
    person = resp.json()
    name = " ".join(x for x in (person.get("first_name"), person.get("last_name")) if x) or None
    password_hash = service.passwords.hash(call.body["password"])
    with service.sessions() as session:
        user = session.scalar(select(PortalUser).where(PortalUser.email == person["email"]))
        if user is None:
            user = PortalUser(
                public_id=person["user_id"],
                email=person["email"],
                kind="customer_admin",
                customer_id=person["customer_id"],
                roles=[],
                disabled=False,
                created_at=service.clock.now(),
            )
            session.add(user)
        elif user.kind != "customer_admin" or user.customer_id != person["customer_id"]:
            raise conflict("This email signs in to the portal for another account already.")
        else:
            revoke_tokens(user)  # a new password ends the sessions of the old one
        user.public_id = person["user_id"]
        user.name = name or user.name
        user.password_hash = password_hash
        user.disabled = False
        session.commit()
    logs.get("gateway").info(
        "customer_admin.password_set", customer_id=person["customer_id"], user_id=person["user_id"]
    )
    customer_id = person["customer_id"]
    return {"email": person["email"], "kind": "customer_admin", "customer_id": customer_id}, 200, {}
