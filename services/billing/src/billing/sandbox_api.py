"""The sandbox provider's own pages: the card vault and PayPal's approval page.

``POST /vault/cards`` and the vault's own card page (``/sandbox/vault/card``, opened from a
session the portal asks for with ``POST /vault/sessions``) are the only routes that ever see a
card number. Bodies are never logged and numbers never echoed: errors name the field only.
"""

from __future__ import annotations

from flask import Blueprint, Response, redirect, request
from markupsafe import escape

from billing.api import handle, method_manager
from billing.commands import CompletePayPal
from billing.sandbox import CardRejected
from portal_contracts.api.vault import VaultCardRequest, VaultSessionRequest
from portal_runtime.errors import Invalid, NotFound
from portal_runtime.web import current_service, json_body, schema

bp = Blueprint("sandbox", __name__)


@bp.post("/vault/cards")
def vault_card():
    # Tokens are bound to the tenant of a user who may manage its payment methods.
    identity = method_manager()
    body = json_body()
    errors = VaultCardRequest().validate(body)
    if errors:
        # Field names and messages only: marshmallow's messages never contain the values.
        raise Invalid(errors=errors)
    try:
        token = current_service().payments.vault_card(
            identity.tenant, body["number"], body["expiry"], body["cvc"], body["holder"]
        )
    except CardRejected as exc:
        raise Invalid(errors=exc.errors, detail="The card was not accepted.")
    return {"vault_token": token}, 201


@bp.post("/vault/sessions")
def vault_session():
    """The vault's own card page for the caller's tenant, returning to ``return_url``."""
    identity = method_manager()
    service = current_service()
    body = schema(VaultSessionRequest).load(json_body())
    if not service.config.may_return_to(body["return_url"]):
        raise Invalid("return_url", "Must be a page of the portal.")
    token, url = service.payments.start_card_session(identity.tenant, body["return_url"])
    return {"session": token, "url": url}, 201


CARD_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Card vault (sandbox): add a card</title>
<style>
body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 30em; margin: 2em auto; padding: 0 1em; }}
label {{ display: block; font-weight: 600; margin-top: 1em; }}
input {{ font: inherit; padding: .4em; width: 100%; box-sizing: border-box; }}
.error {{ color: #b42318; font-weight: 600; margin: .25em 0; }}
button {{ font: inherit; font-weight: 600; margin-top: 1.5em; padding: .5em 1em; }}
</style></head>
<body>
<h1>Card vault (sandbox)</h1>
<p>The card is stored by the payment provider. The Partner Portal only ever sees its brand,
last four digits and expiry.</p>
{summary}
<form method="post" action="?session={session}" autocomplete="off" novalidate>
<input type="hidden" name="session" value="{session}">
<label for="number">Card number</label>{number_error}
<input id="number" name="number" inputmode="numeric" autocomplete="cc-number">
<label for="expiry">Expiry (MM/YY)</label>{expiry_error}
<input id="expiry" name="expiry" value="{expiry}" autocomplete="cc-exp">
<label for="cvc">CVC</label>{cvc_error}
<input id="cvc" name="cvc" inputmode="numeric" autocomplete="cc-csc">
<label for="holder">Cardholder name</label>{holder_error}
<input id="holder" name="holder" value="{holder}" autocomplete="cc-name">
<button type="submit">Save card</button>
</form>
<p><a href="{cancel}">Cancel</a></p>
</body></html>
"""


def _vault_session_or_404():
    token = request.values.get("session", "")
    if not token or len(token) > 100:
        raise NotFound("card page")
    row = current_service().payments.card_session(token)
    if row is None:
        raise NotFound("card page")
    return token, row


def _card_page(token: str, return_url: str, errors: dict | None = None, form=None) -> Response:
    errors = errors or {}
    form = form or {}

    def error(name):
        message = (errors.get(name) or [""])[0]
        return f'<p class="error" id="{name}-error">{escape(message)}</p>' if message else ""

    summary = (
        '<p class="error" role="alert">The card was not accepted: check the fields marked.</p>'
        if errors
        else ""
    )
    page = CARD_PAGE.format(
        session=escape(token),
        summary=summary,
        number_error=error("number"),
        expiry_error=error("expiry"),
        cvc_error=error("cvc"),
        holder_error=error("holder"),
        # The number and CVC are never written back into the page.
        expiry=escape(form.get("expiry", "")),
        holder=escape(form.get("holder", "")),
        cancel=escape(return_url + ("&" if "?" in return_url else "?") + "cancelled=1"),
    )
    # 200 either way: the page is shown again with the messages next to the fields.
    return Response(page, status=200, mimetype="text/html")


@bp.get("/sandbox/vault/card")
def card_page():
    token, row = _vault_session_or_404()
    return _card_page(token, row.return_url)


@bp.post("/sandbox/vault/card")
def card_page_submit():
    token, row = _vault_session_or_404()
    fields_ = {k: request.form.get(k, "") for k in ("number", "expiry", "cvc", "holder")}
    try:
        done = current_service().payments.complete_card_session(token, **fields_)
    except CardRejected as exc:
        return _card_page(token, row.return_url, exc.errors, fields_)
    if done is None:
        raise NotFound("card page")
    vault_token, return_url = done
    joiner = "&" if "?" in return_url else "?"
    return redirect(f"{return_url}{joiner}vault_token={vault_token}", code=303)


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
        raise NotFound("approval")
    return token


@bp.get("/sandbox/paypal/approve")
def paypal_page():
    token = _approval_token()
    if not current_service().payments.pending_paypal(token):
        raise NotFound("approval")
    return Response(APPROVAL_PAGE.format(token=escape(token)), mimetype="text/html")


@bp.post("/sandbox/paypal/approve")
def paypal_approve():
    token = _approval_token()
    service = current_service()
    if service.payments.approve_paypal(token) is None:
        raise NotFound("approval")
    # The return callback: the method becomes active, then the payer goes back to the portal.
    method = handle(CompletePayPal(token))
    return redirect(method.return_url, code=302)
