"""Public shapes of what the gateway itself answers."""

from __future__ import annotations

from gateway.models import PortalUser
from portal_runtime.identity import Identity


def me_view(caller: Identity) -> dict:
    body = {
        "kind": caller.kind,
        "user_id": caller.user_id,
        "email": caller.email,
        "name": caller.name,
        "roles": list(caller.roles),
    }
    if caller.is_reseller:
        body.update(
            reseller_id=caller.reseller_id,
            reseller_name=caller.reseller_name,
            currency=caller.currency,
        )
    else:
        body["customer_id"] = caller.customer_id
    return body


def user_view(user: PortalUser) -> dict:
    return {
        "id": user.public_id,
        "email": user.email,
        "name": user.name,
        "roles": list(user.roles or []),
        "disabled": bool(user.disabled),
        "created_at": user.created_at.isoformat(),
    }
