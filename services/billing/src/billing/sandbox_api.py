"""The sandbox provider's own pages: the card vault and PayPal's approval page.

``POST /vault/cards`` is the only route that ever sees a card number. Its body is never logged
and never echoed: validation errors name the field only.
"""

from __future__ import annotations

from flask import Blueprint, Response, redirect, request
from markupsafe import escape

from billing.api import method_manager
from billing.handlers import complete_paypal
from billing.sandbox import CardRejected
from portal_contracts.api.vault import VaultCardRequest
from portal_runtime.problems import invalid, not_found
from portal_runtime.web import current_service, json_body, unit_of_work

bp = Blueprint("sandbox", __name__)


@bp.post("/vault/cards")
def vault_card():
    # Tokens are bound to the tenant of a user who may manage its payment methods.
    identity = method_manager()
    body = json_body()
    errors = VaultCardRequest().validate(body)
    if errors:
        # Field names and messages only: marshmallow's messages never contain the values.
        raise invalid(errors)
    try:
        token = current_service().provider.vault_card(
            identity.tenant, body["number"], body["expiry"], body["cvc"], body["holder"]
        )
    except CardRejected as exc:
        raise invalid(exc.errors, detail="The card was not accepted.")
    return {"vault_token": token}, 201


APPROVAL_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>PayPal sandbox: approve</title></head>
<body style="font-family: sans-serif; max-width: 32em; margin: 3em auto">
<h1>PayPal (sandbox)</h1>
<p>The Partner Portal asks to set up PayPal as a payment method. Nothing is charged now.</p>
<form method="post" action="?token={token}">
<input type="hidden" name="token" value="{token}">
<button type="submit">Approve</button>
</form>
</body></html>
"""


def _approval_token() -> str:
    token = request.values.get("token", "")
    if not token or len(token) > 100:
        raise not_found("approval")
    return token


@bp.get("/sandbox/paypal/approve")
def paypal_page():
    token = _approval_token()
    if not current_service().provider.pending_paypal(token):
        raise not_found("approval")
    return Response(APPROVAL_PAGE.format(token=escape(token)), mimetype="text/html")


@bp.post("/sandbox/paypal/approve")
def paypal_approve():
    token = _approval_token()
    service = current_service()
    if service.provider.approve_paypal(token) is None:
        raise not_found("approval")
    # The return callback: the method becomes active, then the payer goes back to the portal.
    with unit_of_work() as uow:
        method = complete_paypal(uow, service.billing, token)
        if method is None:
            raise not_found("approval")
        return_url = method.return_url
        uow.commit()
    return redirect(return_url, code=302)
