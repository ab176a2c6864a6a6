"""What the top bar shows on every page: the user's name, and the unpaid-invoices warning."""

from __future__ import annotations

from flask import Flask, g, session

from portal.auth import current_user
from portal.gateway_client import ApiError, api

BILLING_ROLES = {"admin", "billing"}


def may_see_invoices(user: dict) -> bool:
    return user.get("kind") == "customer_admin" or bool(BILLING_ROLES & set(user.get("roles", [])))


def unpaid_invoices() -> int:
    """How many of the user's invoices are unpaid (0 if it cannot tell right now)."""
    if "unpaid" not in g:
        g.unpaid = 0
        user = current_user()
        if user and may_see_invoices(user):
            try:
                g.unpaid = int(api().invoices.summary().get("unpaid") or 0)
            except ApiError:
                g.unpaid = 0
    return g.unpaid


def product_name(code: str | None) -> str:
    """A product's name from its code (order and invoice lines carry only the code)."""
    if "product_names" not in g:
        g.product_names = {}
        if current_user():
            try:
                g.product_names = {p["code"]: p["name"] for p in api().catalog.products()}
            except ApiError:
                pass
    return g.product_names.get(code or "", code or "")


def init_app(app: Flask) -> None:
    @app.context_processor
    def _topbar():
        return {
            "user": current_user(),
            "unpaid_invoices": unpaid_invoices,
            "current_customer": session.get("customer"),
            "product_name": product_name,
        }
