"""Public routes of activation codes: checking a code online, and the key to check it offline."""

from __future__ import annotations

from flask import Blueprint

from license_assign import queries, views
from license_assign.offline_verifier import InvalidCode
from portal_contracts.api.licenses import VerifyCodeRequest
from portal_runtime.web import current_service, json_body, schema

bp = Blueprint("activation_codes", __name__)


@bp.post("/activation-codes/verify")
def verify_activation_code():
    data = schema(VerifyCodeRequest).load(json_body())
    service = current_service()
    try:
        payload = service.codes.verify(data["code"])
    except InvalidCode as exc:
        return {"valid": False, "reason": str(exc)}
    answer = views.verified_view(payload, service.clock.today())
    # Online we also know whether the code is still the license's current one.
    with service.sessions() as session:
        reason = queries.code_standing(session, payload["license_id"], data["code"])
    if reason is not None:
        answer.update(valid=False, reason=reason)
    return answer


@bp.get("/activation-codes/public-key")
def public_key():
    codes = current_service().codes
    return {
        "algorithm": "Ed25519",
        "public_key": codes.public_key_base64,
        "public_key_pem": codes.public_key_pem,
    }
