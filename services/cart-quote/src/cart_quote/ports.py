"""What cart-quote reads from other services: ports, with HTTP adapters.

Reads with short timeouts (ARCHITECTURE.md); a service that does not answer becomes a 503 problem.
Tests substitute fakes through ``bootstrap``.
"""

from __future__ import annotations

from typing import Protocol

from portal_runtime.http import ServiceClient, ServiceUnavailable
from portal_runtime.identity import Identity


class Customers(Protocol):
    def get(self, customer_id: str) -> dict | None: ...


class Licenses(Protocol):
    def get(self, customer_id: str, license_ids: list[str]) -> list[dict]: ...

    def has_team(self, customer_id: str, team_id: str) -> bool: ...

    def has_pack(self, customer_id: str, number: str) -> bool: ...


class Orders(Protocol):
    def get(self, identity: Identity, number: str) -> dict | None: ...

    def of_quote(self, identity: Identity, quote_number: str) -> dict | None: ...


class HttpCustomers:
    """license-assign's customer directory: ``{id, name, email, ...}`` of an account."""

    def __init__(self, client: ServiceClient):
        self.client = client

    def get(self, customer_id: str) -> dict | None:
        return self.client.get_json("/internal/customers/{}", customer_id)


class HttpLicenses:
    """license-assign's licenses of one customer, by id (other customers' ids are simply absent)."""

    def __init__(self, client: ServiceClient):
        self.client = client

    def get(self, customer_id: str, license_ids: list[str]) -> list[dict]:
        body = self.client.get_json(
            "/internal/customers/{}/licenses",
            customer_id,
            params=[("license_id", lid) for lid in license_ids],
        )
        return [] if body is None else list(body.get("items", []))

    def has_team(self, customer_id: str, team_id: str) -> bool:
        path = "/internal/customers/{}/teams/{}"
        return self.client.get_json(path, customer_id, team_id) is not None

    def has_pack(self, customer_id: str, number: str) -> bool:
        path = "/internal/customers/{}/subscription-packs/{}"
        return self.client.get_json(path, customer_id, number) is not None


class HttpOrders:
    """The orders service's ``GET /orders/{number}``, read with the caller's own identity."""

    def __init__(self, client: ServiceClient):
        self.client = client

    def get(self, identity: Identity, number: str) -> dict | None:
        resp = self.client.request("GET", "/orders/{}", number, identity=identity)
        if resp.status_code == 404:
            return None
        if resp.status_code != 200:
            raise ServiceUnavailable("orders")
        return resp.json()

    def of_quote(self, identity: Identity, quote_number: str) -> dict | None:
        """The order placed from this quote, if orders has one (it may not have told us yet)."""
        resp = self.client.request(
            "GET", "/orders", identity=identity, params={"quote_number": quote_number, "limit": 1}
        )
        if resp.status_code != 200:
            raise ServiceUnavailable("orders")
        items = resp.json().get("items") or []
        return items[0] if items else None
