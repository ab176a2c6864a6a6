"""The account menu's pages: payment methods (stored cards and PayPal).

``Add card`` sends the browser to the payment vault's own card page (``POST /vault/sessions``);
the number is typed there and never reaches the portal. The vault sends the browser back with a
``vault_token``, which the portal stores as a payment method. ``Connect PayPal`` is PayPal's
redirect and return.
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from portal.auth import login_required
from portal.gateway_client import Invalid, NotFound, api

bp = Blueprint("account", __name__, url_prefix="/portal/account")


def absolute(endpoint: str) -> str:
    """A page's URL as users reach it (through the gateway): where providers send them back."""
    return current_app.config["PORTAL"].base_url + url_for(endpoint)


@bp.get("/payment-methods")
@login_required
def payment_methods():
    methods = api().payment_methods.list()
    return render_template("account/payment_methods.html", methods=methods)


@bp.post("/payment-methods/card")
@login_required
def add_card():
    page = api().payment_methods.vault_page(absolute("account.card_return"))
    return redirect(page["url"], code=303)


@bp.get("/payment-methods/card-return")
@login_required
def card_return():
    if request.args.get("cancelled"):
        flash("No card was added.")
        return redirect(url_for("account.payment_methods"))
    token = request.args.get("vault_token", "")
    try:
        method = api().payment_methods.add_card(token)
    except (Invalid, NotFound):
        flash("The card could not be added: open Add card again.")
    else:
        flash(f"{(method.get('brand') or 'Card').title()} ending {method.get('last4')} is added.")
    return redirect(url_for("account.payment_methods"))


@bp.post("/payment-methods/paypal")
@login_required
def connect_paypal():
    started = api().payment_methods.start_paypal(absolute("account.paypal_return"))
    return redirect(started["redirect_url"], code=303)


@bp.get("/payment-methods/paypal-return")
@login_required
def paypal_return():
    methods = api().payment_methods.list()
    if any(m.get("kind") == "paypal" and m.get("status") == "active" for m in methods):
        flash("PayPal is connected.")
    else:
        flash("PayPal was not connected.")
    return redirect(url_for("account.payment_methods"))


@bp.post("/payment-methods/<method_id>/remove")
@login_required
def remove(method_id: str):
    api().payment_methods.remove(method_id)
    flash("The payment method is removed.")
    return redirect(url_for("account.payment_methods"))
