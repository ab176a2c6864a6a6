"""A small client of the public API, for the end-to-end tests, the benchmark and scripts."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import TypeVar

import requests

from portal_runtime.http import session_with_retries

T = TypeVar("T")


class PortalClient:
    def __init__(self, base_url: str, token: str | None = None, timeout: float = 30):
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.http = session_with_retries()

    @classmethod
    def login(cls, base_url: str, email: str, password: str) -> PortalClient:
        client = cls(base_url)
        resp = client.post("/auth/token", json={"email": email, "password": password})
        if resp.status_code != 200:
            raise RuntimeError(f"login of {email} failed: {resp.status_code} {resp.text[:300]}")
        client.token = resp.json()["access_token"]
        return client

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        headers = dict(kwargs.pop("headers", None) or {})
        if self.token and "Authorization" not in headers:
            headers["Authorization"] = f"Bearer {self.token}"
        return self.http.request(
            method,
            self.base_url + path,
            headers=headers,
            timeout=kwargs.pop("timeout", self.timeout),
            **kwargs,
        )

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def enter_customer(self, customer_id: str, email: str) -> dict:
        resp = self.post(
            "/customer-access", json={"by": "customer_id", "value": customer_id, "email": email}
        )
        if resp.status_code not in (200, 201):
            raise RuntimeError(f"entering {customer_id} failed: {resp.status_code} {resp.text}")
        return resp.json()

    def place_order(self, body: dict, key: str | None = None) -> requests.Response:
        return self.post(
            "/orders", json=body, headers={"Idempotency-Key": key or str(uuid.uuid4())}
        )


def wait_for(
    condition: Callable[[], T], timeout: float = 60, interval: float = 0.25, what: str = "condition"
) -> T:
    """Poll until ``condition()`` is truthy and return it; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{what} not reached within {timeout}s (last: {last!r})")
