"""Entering a customer, the grants it creates, and who may act on which customer account.

A reseller may act on a customer it has a live grant for (it entered it within the grant's
lifetime) or that it manages (license-assign lists it among the account's admins). A customer
admin may act on its own account only. Anything else answers like a missing customer: 404.
"""

from __future__ import annotations

import base64
import datetime as dt

from sqlalchemy import bindparam, func, select

from gateway import ratelimit
from gateway.call import Call
from gateway.models import AccessGrant
from gateway.ratelimit import Limit
from portal_runtime import logs
from portal_runtime.identity import Identity
from portal_runtime.problems import Problem, invalid, not_found

MAX_CUSTOMER_ID = 40


def entry_failed() -> Problem:
    # The one answer of every failed entry: no such ID, wrong email, someone else's customer.
    return Problem(404, "No customer matches these details.")


GRANTS = AccessGrant.__table__
# Built once, and read on a plain connection: most requests for a customer ask it.
LIVE_GRANT = (
    select(GRANTS.c.id)
    .where(
        GRANTS.c.reseller_id == bindparam("reseller_id"),
        GRANTS.c.customer_id == bindparam("customer_id"),
        GRANTS.c.expires_at > bindparam("now"),
    )
    .limit(1)
)


def has_live_grant(service, reseller_id: str, customer_id: str, now: dt.datetime) -> bool:
    with service.reader.connect() as conn:
        found = conn.execute(
            LIVE_GRANT, {"reseller_id": reseller_id, "customer_id": customer_id, "now": now}
        ).first()
    return found is not None


def may_act_on(service, caller: Identity, customer_id: str, request_id: str | None = None) -> bool:
    if not customer_id or len(customer_id) > MAX_CUSTOMER_ID:
        return False
    if caller.is_customer_admin:
        return customer_id == caller.customer_id
    if not caller.is_reseller:
        return False
    if has_live_grant(service, caller.reseller_id, customer_id, service.clock.now()):
        return True
    account = service.upstreams.customer(customer_id, request_id=request_id)
    return bool(account) and caller.reseller_id in (account.get("managing_reseller_ids") or [])


def require_access(service, caller: Identity, customer_id: str, request_id: str | None) -> None:
    """A customer the caller may not act on answers like a missing one (404), in about the same
    time (both ask license-assign), and counts as a failed entry: probing ids is limited like
    entering customers (``429`` past the limit, for existing and missing ids alike)."""
    if may_act_on(service, caller, customer_id, request_id):
        return
    config = service.config
    limit = Limit(
        failures_key(caller.tenant), config.entry_failures_per_reseller, config.entry_window_seconds
    )
    with service.sessions() as session:
        ratelimit.reserve(session, [limit], service.clock.now(), ENTRY_LIMITED)
        session.commit()
    raise not_found("customer")


ENTRY_LIMITED = "Too many attempts to enter a customer; wait."


def failures_key(tenant: str) -> str:
    """Failed entries and probes of a reseller (``reseller:<id>``) or customer admin's account."""
    return f"entry:failed:{tenant}"


def entry_limits(config, reseller_id: str, by: str, value: str) -> tuple[list, list]:
    """(limits on failures, limit on all attempts) for one entry attempt."""
    window = config.entry_window_seconds
    failures = [
        Limit(failures_key(f"reseller:{reseller_id}"), config.entry_failures_per_reseller, window),
        # Per (reseller, entered value): one reseller's failures never block another's entry.
        Limit(
            f"entry:failed:target:{reseller_id}:{by}:{value.strip().lower()}",
            config.entry_failures_per_target,
            window,
        ),
    ]
    attempts = [
        Limit(f"entry:any:reseller:{reseller_id}", config.entry_attempts_per_reseller, window)
    ]
    return failures, attempts


def enter_customer(call: Call):
    service = call.service
    caller = call.caller
    by, value = call.body["by"], call.body["value"].strip()
    email = (call.body.get("email") or "").strip().lower()
    failures, attempts = entry_limits(service.config, caller.reseller_id, by, value)
    now = service.clock.now()
    with service.sessions() as session:
        # Every attempt counts; a failure counts under ``failures`` too, reserved up front so
        # that parallel attempts cannot all pass before any of them has failed.
        reserved = ratelimit.reserve(session, failures + attempts, now, ENTRY_LIMITED)
        session.commit()
    reserved_failures = reserved[: len(failures)]

    found = lookup(service, caller, by, value, email, call.request_id)
    with service.sessions() as session:
        if found is None:
            # The audit trail names the method only: entered values may be personal data.
            logs.get("gateway").info(
                "customer.entry_failed",
                reseller_id=caller.reseller_id,
                user_id=caller.user_id,
                method=by,
            )
            raise entry_failed()
        ratelimit.release(session, reserved_failures)
        if by == "email":
            session.commit()
            return {"accounts": found}, 200, {}
        grant = AccessGrant(
            reseller_id=caller.reseller_id,
            customer_id=found["customer_id"],
            customer_name=found.get("name"),
            user_id=caller.user_id,
            method=by,
            reference=value,
            created_at=now,
            expires_at=now + dt.timedelta(hours=service.config.grant_hours),
        )
        session.add(grant)
        session.commit()
    logs.get("gateway").info(
        "customer.entered",
        reseller_id=caller.reseller_id,
        user_id=caller.user_id,
        customer_id=grant.customer_id,
        method=by,
        expires_at=grant.expires_at.isoformat(),
    )
    body = {
        "customer_id": grant.customer_id,
        "name": grant.customer_name,
        "expires_at": grant.expires_at.isoformat(),
    }
    if by == "quote":
        body["quote_number"] = found.get("quote_number") or value
    return body, 200, {}


def lookup(service, caller: Identity, by: str, value: str, email: str, request_id: str):
    """The account (or, by email, the accounts) the details point to; None for any failure."""
    upstreams = service.upstreams
    if by == "email":
        accounts = upstreams.accounts(request_id=request_id, contact_email=value.lower())
        found = [{"customer_id": a["customer_id"], "name": a.get("name")} for a in accounts]
        return found or None
    if by == "customer_id" and not email:
        # A managed account needs no contact email: the reseller is one of its admins.
        account = upstreams.customer(value.upper(), request_id=request_id)
        managers = (account or {}).get("managing_reseller_ids") or []
        if caller.reseller_id not in managers:
            return None
        return {"customer_id": account["id"], "name": account.get("name")}
    if by in ("customer_id", "subscription_pack"):
        found = upstreams.verify_access(by, value, email, request_id=request_id)
    else:
        found = upstreams.claim_quote(value, email, caller, request_id=request_id)
    if not found or not found.get("customer_id"):
        return None
    return found


def list_customers(call: Call):
    """Managed accounts first, then customers entered recently (live grants first)."""
    service = call.service
    caller = call.caller
    now = service.clock.now()
    managed = service.upstreams.accounts(request_id=call.request_id, managed_by=caller.reseller_id)
    items: dict[str, dict] = {}
    for account in managed:
        items[account["customer_id"]] = {
            "customer_id": account["customer_id"],
            "name": account.get("name"),
            "managed": True,
            "access_expires_at": None,
            "last_entered_at": None,
        }
    since = now - dt.timedelta(days=service.config.recent_grant_days)
    with service.sessions() as session:
        rows = session.execute(
            select(
                AccessGrant.customer_id,
                func.max(AccessGrant.customer_name),
                func.max(AccessGrant.created_at),
                func.max(AccessGrant.expires_at),
            )
            .where(AccessGrant.reseller_id == caller.reseller_id, AccessGrant.expires_at > since)
            .group_by(AccessGrant.customer_id)
        ).all()
    for customer_id, name, entered, expires in rows:
        entered = _aware(entered)
        expires = _aware(expires)
        item = items.setdefault(
            customer_id,
            {"customer_id": customer_id, "name": name, "managed": False},
        )
        item["last_entered_at"] = entered.isoformat()
        item["access_expires_at"] = expires.isoformat() if expires > now else None
    ordered = sorted(
        items.values(),
        key=lambda i: (not i["managed"], -(_ts(i.get("last_entered_at")))),
    )
    args = call.query or {}
    start = _offset(args.get("cursor"))
    end = start + int(args.get("limit") or 50)
    next_cursor = _encode_offset(end) if end < len(ordered) else None
    return {"items": ordered[start:end], "next_cursor": next_cursor}, 200, {}


def _encode_offset(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o{offset}".encode()).rstrip(b"=").decode()


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor.encode() + b"==").decode()
        if not text.startswith("o"):
            raise ValueError(cursor)
        return max(0, int(text[1:]))
    except ValueError:
        raise invalid({"cursor": ["Not a cursor this list gave out."]})


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _ts(iso: str | None) -> float:
    return dt.datetime.fromisoformat(iso).timestamp() if iso else 0.0


def show_customer(call: Call):
    """One customer account the caller may act on: its ID and name (the portal's header)."""
    account = call.service.upstreams.customer(call.customer_id, request_id=call.request_id)
    if not account:
        raise not_found("customer")
    caller = call.caller
    managed = caller.is_reseller and caller.reseller_id in (
        account.get("managing_reseller_ids") or []
    )
    return (
        {"customer_id": call.customer_id, "name": account.get("name"), "managed": managed},
        200,
        {},
    )
