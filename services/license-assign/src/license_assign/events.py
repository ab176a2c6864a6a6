"""The payloads of the events license-assign publishes (``contracts/events/licensing.py``)."""

from __future__ import annotations

import datetime as dt

from license_assign.models import (
    Customer,
    CustomerPerson,
    InvitationLink,
    License,
    ManagementRequest,
    PasswordLink,
)
from portal_runtime.identity import Identity


def actor(identity: Identity | None) -> dict | None:
    """Who invited or asked, as an event names them; None for a service."""
    if identity is None or identity.is_service:
        return None
    return {"name": identity.name or None, "email": identity.email or None}


def licenses_issued(order: dict, customer: Customer, line: dict, licenses: list[dict]) -> dict:
    return {
        "order_number": order["order_number"],
        "customer_id": customer.id,
        "customer_name": customer.name,
        "line_no": line["line_no"],
        "kind": line["kind"],
        "licenses": licenses,
    }


def license_assigned(
    lic: License,
    customer: Customer,
    reason: str,
    order_number: str | None,
    token: str,
    expires_at: dt.datetime,
) -> dict:
    return {
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
    }


def license_revoked(lic: License, customer: Customer, former: dict, reason: str) -> dict:
    return {
        "license_id": lic.license_id,
        "customer_id": customer.id,
        "customer_name": customer.name,
        "product": lic.product,
        "former_assignee": former,
        "reason": reason,
    }


def invitation_claimed(link: InvitationLink, customer: Customer, lic: License) -> dict:
    return {
        "link_id": link.link_id,
        "customer_id": customer.id,
        "customer_name": customer.name,
        "product": lic.product,
        "license_id": lic.license_id,
        "claimant": lic.assignee,
        "admin_emails": customer.admin_emails or customer.contacts,
    }


def holder_link_issued(holder: License, email: str, token: str, expires_at, count: int) -> dict:
    return {
        "holder": {
            "first_name": holder.assignee_first_name or "",
            "last_name": holder.assignee_last_name or "",
            "email": email,
        },
        "token": token,
        "expires_at": expires_at,
        "license_count": count,
    }


def admin_invited(
    customer: Customer,
    person: CustomerPerson,
    link: PasswordLink,
    token: str,
    reason: str,
    by: Identity | None,
) -> dict:
    return {
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
        "invited_by": actor(by),
    }


def management_requested(
    req: ManagementRequest, customer: Customer, by: Identity, admins: list[str], token: str
) -> dict:
    return {
        "request_id": req.request_id,
        "customer_id": customer.id,
        "customer_name": customer.name,
        "reseller_id": req.reseller_id,
        "reseller_name": req.reseller_name,
        "requested_by": actor(by),
        "admin_emails": admins,
        "token": token,
        "expires_at": req.expires_at,
    }
