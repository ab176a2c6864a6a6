"""The gateway's route table: one ``Route`` row per public route drives auth, roles, tenancy,
validation, forwarding and the OpenAPI document.

Each resource has a module here listing its rows; :data:`ALL_ROUTES` is every row, in the order
the OpenAPI document shows them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from marshmallow import Schema

# Reseller roles: ``admin`` may do everything, so it is implied on every route.
SALES = ("sales",)
BILLING = ("billing",)
SALES_OR_BILLING = ("sales", "billing")
ADMIN_ONLY = ()


@dataclass(frozen=True)
class Route:
    method: str
    # Public path without the ``/api/v1`` prefix, OpenAPI style: ``/customers/{customer_id}/cart``.
    path: str
    # The service that serves it (CONTRIBUTING.md), or ``gateway`` for the gateway's own.
    service: str
    summary: str
    tag: str
    # Reseller roles allowed besides ``admin``.
    roles: tuple[str, ...] = ()
    # May a customer admin use it (on its own account)?
    customer_admin: bool = False
    # May resellers' users use it? (Some routes are for the account's own admins only.)
    resellers: bool = True
    # May a license holder (the short-lived token of an e-mailed My licenses link) use it? Such
    # a token opens these routes and no other; no one else opens these.
    license_holder: bool = False
    # No bearer token needed.
    public: bool = False
    # Where the customer account is named: ``path`` (``{customer_id}``), ``body`` or ``none``.
    customer_in: str = "none"
    body: type[Schema] | None = None
    query: type[Schema] | None = None
    response: type[Schema] | None = None
    status: int = 200
    # A second success: ``202`` with this schema (and a Location) when the work goes on after
    # the answer (big assignment uploads become jobs).
    accepted: type[Schema] | None = None
    # Non-JSON content types the route answers with (PDF, CSV) instead of ``response``.
    produces: tuple[str, ...] = ()
    # Non-JSON request bodies passed through unvalidated to the service (CSV uploads).
    accepts: tuple[str, ...] = ()
    # Named per-tenant rate limit (``checkout``).
    rate_limit: str | None = None
    # Places an order: needs an ``Idempotency-Key`` header (a retry with it answers the same order).
    idempotency_key: bool = False
    # The gateway's own routes: ``handler(call) -> (body, status, headers)``.
    handler: Callable | None = field(default=None, compare=False)
    # Errors worth documenting beyond the common ones.
    errors: tuple[int, ...] = ()
    # Path parameters that are integers (matched, and documented, as such).
    int_params: tuple[str, ...] = ()

    @property
    def flask_rule(self) -> str:
        rule = self.path
        for name in self.int_params:
            rule = rule.replace("{" + name + "}", "<int:" + name + ">")
        return rule.replace("{", "<").replace("}", ">")

    @property
    def endpoint(self) -> str:
        cleaned = (
            self.path.strip("/")
            .replace("/", "_")
            .replace("{", "")
            .replace("}", "")
            .replace("-", "_")
        )
        return f"{self.method.lower()}_{cleaned or 'root'}"


def all_routes() -> list[Route]:
    from gateway.routes import (
        auth,
        billing,
        carts,
        catalog,
        customers,
        licenses,
        onboarding,
        orders,
        quotes,
        users,
    )

    rows: list[Route] = []
    modules = (auth, users, customers, onboarding, catalog, carts, quotes, orders, billing)
    for module in (*modules, licenses):
        rows.extend(module.ROUTES)
    return rows
