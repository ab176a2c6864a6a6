"""Orders: search the reseller's own, open one (status, payment, lines, invoice, licenses), and
act on it: resend licenses, send the activation e-mail, renew, copy and edit, cancel."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, flash, redirect, render_template, url_for

from portal.auth import buyer_required
from portal.forms import search_page
from portal.gateway_client import Conflict, Invalid, NotFound, api
from portal.pages.cart import KINDS
from portal.pages.home import remember_customer
from portal.pages.quotes import search_form

bp = Blueprint("orders", __name__, url_prefix="/portal/orders")

ACTIONS = {
    "resend-licenses": "The licenses are on their way to {recipient} again.",
    "activation-email": "The activation e-mail is on its way to {recipient}.",
    "cancel": "Order {number} is cancelled; a credit note follows and its licenses are removed.",
}


@bp.get("/")
@buyer_required
def search():
    form, query = search_form()
    page = search_page(
        form,
        api().orders.search,
        query,
        ("from", "to", "number", "po_number", "customer_email", "customer_name"),
    )
    return render_template(
        "orders/search.html",
        form=form,
        orders=page.get("items", []),
        next_cursor=page.get("next_cursor"),
    ), (200 if form.ok else 422)


def cancellable(order: dict) -> bool:
    until = order.get("cancellable_until")
    if order.get("status") == "cancelled" or not until:
        return False
    try:
        deadline = dt.datetime.fromisoformat(until.replace("Z", "+00:00"))
    except ValueError:
        return False
    return deadline > dt.datetime.now(dt.UTC)


@bp.get("/<number>")
@buyer_required
def show(number: str):
    order = api().orders.get(number)
    return render_template(
        "orders/show.html", order=order, kinds=KINDS, cancellable=cancellable(order)
    )


@bp.post("/<number>/<any('resend-licenses', 'activation-email', 'cancel'):action>")
@buyer_required
def act(number: str, action: str):
    try:
        answer = api().orders.action(number, action) or {}
    except (Conflict, Invalid) as exc:
        flash(f"That did not work: {exc.message}")
    else:
        recipient = answer.get("recipient") or "the end user"
        flash(ACTIONS[action].format(recipient=recipient, number=number))
    return redirect(url_for("orders.show", number=number))


@bp.post("/<number>/<any('renew', 'copy'):action>")
@buyer_required
def to_cart(number: str, action: str):
    """Renew or Copy and edit: the lines go into the customer's cart, and the cart opens."""
    order = api().orders.get(number)
    customer = order.get("customer") or {}
    try:
        api().orders.action(number, action)
    except NotFound:
        flash(f"Enter {customer.get('name', 'the customer')} again to work on its cart.")
        return redirect(url_for("home.start", by="customer_id", q=customer.get("id", "")))
    except (Conflict, Invalid) as exc:
        flash(f"That did not work: {exc.message}")
        return redirect(url_for("orders.show", number=number))
    remember_customer(customer.get("id", ""), customer.get("name", ""))
    done = "Renewals of" if action == "renew" else "A copy of"
    flash(f"{done} order {number} {'are' if action == 'renew' else 'is'} in the cart.")
    return redirect(url_for("cart.show", customer_id=customer["id"]))
