"""Who may call a route, and the request helpers every resource module of the API shares."""

from __future__ import annotations

from contextlib import contextmanager

from flask import request

from license_assign import accounts
from portal_runtime.errors import Forbidden, Invalid, NotFound
from portal_runtime.identity import Identity
from portal_runtime.queries import parse_limit
from portal_runtime.web import (
    current_identity,
    current_service,
    customer_access,
    request_id,
    require_role,
)

MANAGING_ROLES = ("admin", "sales")


def acting_on(customer_id: str) -> Identity:
    """The caller, if it may see this account (404 otherwise); resellers need a managing role."""
    identity = managing(customer_id)
    with current_service().sessions() as session:
        accounts.require_customer(session, customer_id)
    return identity


def managing(customer_id: str) -> Identity:
    """As :func:`acting_on`, without looking the account up (the command does)."""
    identity = customer_access(customer_id)
    require_role(identity, *MANAGING_ROLES)
    return identity


def own_admin(customer_id: str) -> Identity:
    """Only the account's own admins change who administers it: a reseller's grant is
    temporary, and must not become a lasting admin login."""
    identity = customer_access(customer_id)
    if not identity.is_customer_admin:
        raise Forbidden("Only the account's admins may change its admins.")
    return identity


def internal_caller_for(customer_id: str) -> Identity:
    """A service, or a user who may see the account; a 404 for anyone else."""
    identity = current_identity()
    if not identity.is_service and not identity.may_access(customer_id):
        raise NotFound("customer")
    return identity


def gateway_only() -> Identity:
    identity = current_identity()
    if not identity.is_service:
        raise NotFound("route")
    return identity


def holder() -> Identity:
    """The license holder this request is for; anyone else finds nothing here."""
    identity = current_identity()
    if not identity.is_license_holder or not identity.email:
        raise NotFound("route")
    return identity


def page_args() -> tuple[str | None, str | None]:
    """The ``limit`` and ``cursor`` a list route was asked for."""
    return request.args.get("limit"), request.args.get("cursor")


def keyset_args() -> tuple[int, str | None]:
    """``limit`` (parsed) and ``cursor`` of a list paged by group keys."""
    return parse_limit(request.args.get("limit")), request.args.get("cursor") or None


@contextmanager
def team_named_by(field: str):
    """A team id the account does not have is a 422 on ``field``, the request's name for it."""
    try:
        yield
    except accounts.UnknownTeam as exc:
        raise Invalid(field, exc.detail) from None


def handle(command):
    """The command run by the service, in a unit of work carrying this request's id."""
    return current_service().handle(command, correlation_id=request_id())
