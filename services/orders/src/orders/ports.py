"""What orders reads from other services at placement: the ports, and their HTTP adapters.

These are reads with short timeouts (ARCHITECTURE.md); a service that does not answer becomes a
503 problem. Tests substitute fakes through ``bootstrap``.
"""

from __future__ import annotations

from typing import Protocol

from portal_contracts.base import to_json_ready
from portal_runtime.errors import DomainError
from portal_runtime.http import BriefCache, ServiceClient, ServiceUnavailable
from portal_runtime.identity import Identity


class Unprocessable(DomainError):
    """cart-quote's own 422 (lines it cannot price, a bad VAT ID), passed on as it said it."""

    status = 422


class Customers(Protocol):
    def get(self, customer_id: str) -> dict | None: ...


class Pricing(Protocol):
    def price(
        self,
        identity: Identity,
        customer_id: str,
        lines: list[dict],
        billing_address: dict | None = None,
    ) -> dict: ...


class PaymentMethods(Protocol):
    def get(self, identity: Identity, method_id: str) -> dict | None: ...


class Carts(Protocol):
    """cart-quote's cart and quotes, read with the caller's identity (its tenancy applies)."""

    def cart(
        self, identity: Identity, customer_id: str, billing_address: dict | None = None
    ) -> dict | None: ...

    def quote(self, identity: Identity, number: str) -> dict | None: ...


# How long a customer record or a payment method read at placement is reused. billing checks
# the method again when it charges, so a method removed meanwhile is never charged.
READ_CACHE_SECONDS = 5.0


class HttpCustomers:
    """license-assign's customer directory: ``{id, name, email}`` of an account."""

    def __init__(self, client: ServiceClient, cache_seconds: float = READ_CACHE_SECONDS):
        self.client = client
        self.cache = BriefCache(cache_seconds)

    def get(self, customer_id: str) -> dict | None:
        return self.cache.get(
            customer_id,
            lambda: self.client.get_json("/internal/customers/{}", customer_id),
        )


class HttpPricing:
    """cart-quote prices lines (list prices, partner discount, co-term proration)."""

    def __init__(self, client: ServiceClient):
        self.client = client

    def price(
        self,
        identity: Identity,
        customer_id: str,
        lines: list[dict],
        billing_address: dict | None = None,
    ) -> dict:
        body = {"customer_id": customer_id, "lines": lines}
        if billing_address:
            body["billing_address"] = billing_address  # the tax is computed for it
        resp = self.client.request(
            "POST",
            "/internal/pricing",
            identity=identity,
            # Dates in the lines travel as ISO strings.
            json=to_json_ready(body),
        )
        if resp.status_code == 422:
            body = resp.json()
            raise Unprocessable(
                body.get("detail", "Some lines cannot be priced."), errors=body.get("errors")
            )
        if resp.status_code != 200:
            raise ServiceUnavailable("cart-quote")
        return resp.json()


class HttpPaymentMethods:
    """billing's stored payment methods of the caller: ``{id, kind, status}`` or None."""

    def __init__(self, client: ServiceClient, cache_seconds: float = READ_CACHE_SECONDS):
        self.client = client
        self.cache = BriefCache(cache_seconds)

    def get(self, identity: Identity, method_id: str) -> dict | None:
        # The caller's tenancy is part of the key: a method is only ever its owner's.
        return self.cache.get(
            (identity.tenant, method_id),
            lambda: self.client.get_json(
                "/internal/payment-methods/{}", method_id, identity=identity
            ),
        )


class HttpCarts:
    """cart-quote's public cart and quote routes, called as the user (API.md shapes)."""

    def __init__(self, client: ServiceClient):
        self.client = client

    def cart(
        self, identity: Identity, customer_id: str, billing_address: dict | None = None
    ) -> dict | None:
        """The cart, with its tax for ``billing_address`` (its country and VAT ID)."""
        params = {}
        if billing_address and billing_address.get("country"):
            params["country"] = billing_address["country"]
            if billing_address.get("vat_id"):
                params["vat_id"] = billing_address["vat_id"]
        resp = self.client.request(
            "GET", "/customers/{}/cart", customer_id, identity=identity, params=params
        )
        if resp.status_code == 404:
            return None
        if resp.status_code == 422:
            body = resp.json()
            raise Unprocessable(body.get("detail", "Invalid."), errors=body.get("errors"))
        if resp.status_code != 200:
            raise ServiceUnavailable("cart-quote")
        return resp.json()

    def quote(self, identity: Identity, number: str) -> dict | None:
        return self.client.get_json(
            "/quotes/{}", number, identity=identity, headers={"Accept": "application/json"}
        )
