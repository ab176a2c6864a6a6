"""What a gateway-own route handler receives: the checked caller and the validated input."""

from __future__ import annotations

from dataclasses import dataclass, field

from portal_runtime.identity import Identity


@dataclass(frozen=True)
class Call:
    service: object
    caller: Identity | None
    request_id: str
    client_address: str
    body: dict | None = None
    query: dict | None = None
    path: dict = field(default_factory=dict)
    customer_id: str | None = None
