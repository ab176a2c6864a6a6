"""What every cart-quote view shares: who may buy or read, and running a command."""

from __future__ import annotations

from portal_runtime.errors import Forbidden
from portal_runtime.identity import Identity
from portal_runtime.web import (
    current_identity,
    current_service,
    customer_access,
    request_id,
    require_role,
)

BUYING_ROLES = ("admin", "sales")
READING_ROLES = ("admin", "sales", "billing")


def buyer() -> Identity:
    """A person with a buying role (403 otherwise): carts belong to people, not services."""
    identity = current_identity()
    require_role(identity, *BUYING_ROLES)
    if identity.is_service:
        raise Forbidden("Carts belong to people.")
    return identity


def buyer_on(customer_id: str) -> Identity:
    """A person who may buy for this customer: 404 if not theirs, 403 without a buying role."""
    customer_access(customer_id)
    return buyer()


def reader() -> Identity:
    identity = current_identity()
    require_role(identity, *READING_ROLES)
    return identity


def handle(command):
    """Run a command in its own unit of work, its events carrying this request's id."""
    return current_service().handle(command, correlation_id=request_id())


def today():
    return current_service().clock.now().date()
