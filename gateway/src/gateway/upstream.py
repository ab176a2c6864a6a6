"""The services behind the gateway: forwarding a public request, and the internal reads it needs.

Every call has short connect and read timeouts; a service that is down or too slow becomes a
``503`` problem with ``Retry-After`` (``portal_runtime.http.ServiceUnavailable``), never a hung
worker.
"""

from __future__ import annotations

from urllib.parse import quote

import requests

from portal_runtime.http import ServiceClient, ServiceUnavailable
from portal_runtime.identity import Identity
from portal_runtime.keys import IdentityKeys

SERVICES = ("catalog", "cart-quote", "orders", "billing", "license-assign")

# Request headers a service may need from the caller; the bearer token is never passed on.
FORWARDED_REQUEST_HEADERS = ("Content-Type", "Accept", "Idempotency-Key", "If-None-Match")


class Upstreams:
    def __init__(
        self,
        keys: IdentityKeys,
        connect_timeout: float,
        read_timeout: float,
        base_urls: dict[str, str] | None = None,
    ):
        timeout = (connect_timeout, read_timeout)
        self.clients = {
            name: ServiceClient(
                name, "gateway", keys, timeout=timeout, base_url=(base_urls or {}).get(name)
            )
            for name in SERVICES
        }

    def client(self, service: str) -> ServiceClient:
        return self.clients[service]

    def forward(
        self,
        service: str,
        method: str,
        path: str,
        *,
        identity: Identity | None,
        request_id: str,
        query: bytes = b"",
        body: bytes | None = None,
        headers: dict | None = None,
        stream: bool = False,
    ) -> requests.Response:
        """Relay one public request; an anonymous one (public routes) carries no identity.
        ``stream``: the body is read as the caller reads it (downloads)."""
        client = self.client(service)
        url_path = path + ("?" + query.decode("latin-1") if query else "")
        headers = dict(headers or {})
        return client.request(
            method,
            url_path,
            identity=identity,
            signed=identity is not None,
            request_id=request_id,
            data=body,
            headers=headers,
            allow_redirects=False,
            stream=stream,
        )

    # --- internal reads (service identity unless a user's is given) -------------------------

    def _json(self, service: str, method: str, path: str, request_id: str | None, **kw):
        resp = self.client(service).request(method, path, request_id=request_id, **kw)
        if resp.status_code == 404:
            return None
        if resp.status_code != 200:
            raise ServiceUnavailable(service)
        try:
            return resp.json()
        except ValueError as exc:
            raise ServiceUnavailable(service) from exc

    def customer(self, customer_id: str, request_id: str | None = None) -> dict | None:
        """license-assign's account: ``{id, name, ..., managing_reseller_ids}`` or None."""
        return self._json(
            "license-assign",
            "GET",
            f"/internal/customers/{quote(customer_id, safe='')}",
            request_id,
        )

    def accounts(self, request_id: str | None = None, **params: str) -> list[dict]:
        """Accounts by ``contact_email=`` or ``managed_by=``: ``[{customer_id, name}]``."""
        body = self._json("license-assign", "GET", "/internal/customers", request_id, params=params)
        return list((body or {}).get("accounts") or [])

    def verify_access(
        self, by: str, value: str, email: str, request_id: str | None = None
    ) -> dict | None:
        return self._json(
            "license-assign",
            "POST",
            "/internal/customer-access/verify",
            request_id,
            json={"by": by, "value": value, "email": email},
        )

    def claim_quote(
        self, number: str, email: str, identity: Identity, request_id: str | None = None
    ) -> dict | None:
        """The direct quote becomes the reseller's; the buyer is the user entering it."""
        return self._json(
            "cart-quote",
            "POST",
            "/internal/quotes/claim",
            request_id,
            identity=identity,
            json={
                "quote_number": number,
                "email": email,
                "reseller_id": identity.reseller_id,
                "reseller_name": identity.reseller_name,
            },
        )
