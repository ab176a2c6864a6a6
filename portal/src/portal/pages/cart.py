"""The customer's cart: lines, co-terming (Set Custom / Set Default), details (team, pack),
Remove; then Get Quote or Checkout, each a page of its own."""

from __future__ import annotations

import uuid

from flask import Blueprint, flash, redirect, render_template, request, url_for

from portal.auth import buyer_required, current_user, is_customer_admin
from portal.forms import Form
from portal.gateway_client import ApiError, Conflict, Invalid, api
from portal.pages.customers import customer_header

bp = Blueprint("cart", __name__, url_prefix="/portal/customers/<customer_id>")

# The Team select's choice "New team…": the licenses go to a team named in ``team_name``.
NEW_TEAM = "__new__"
KINDS = {"new": "New", "renewal": "Renewal", "upgrade": "Upgrade", "downgrade": "Downgrade"}
ADDRESS_FIELDS = {
    "billing_address.name": "company",
    "billing_address.line1": "line1",
    "billing_address.line2": "line2",
    "billing_address.city": "city",
    "billing_address.postal_code": "postal_code",
    "billing_address.region": "region",
    "billing_address.country": "country",
    "billing_address.vat_id": "vat_id",
    "billing_address": "line1",
    "end_user.first_name": "first_name",
    "end_user.last_name": "last_name",
    "end_user.email": "email",
    "end_user": "email",
    "po_number": "po_number",
    "payment_method_id": "payment_method_id",
}


def _cart_page(customer_id: str, line_forms: dict | None = None, status: int = 200):
    customer = customer_header(customer_id)
    cart = api().cart.get(customer_id)
    teams, packs = _details_choices(customer_id) if cart.get("items") else ([], [])
    return render_template(
        "cart/show.html",
        customer=customer,
        cart=cart,
        kinds=KINDS,
        new_team=NEW_TEAM,
        line_forms=line_forms or {},
        teams=teams,
        packs=packs,
        cart_items=len(cart.get("items", [])),
    ), status


def _details_choices(customer_id: str) -> tuple[list, list]:
    try:
        teams = api().licenses.teams(customer_id)
    except ApiError:
        teams = []
    try:
        packs = api().licenses.subscription_packs(customer_id)
    except ApiError:
        packs = []
    return teams, packs


@bp.get("/cart")
@buyer_required
def show(customer_id: str):
    return _cart_page(customer_id)


def _line_form_error(customer_id: str, item_id: int, form: Form, exc: Invalid):
    form.take_api_errors(
        exc.errors,
        {
            "end_date": "end_date",
            "quantity": "quantity",
            "team_id": "team_id",
            "subscription_pack": "subscription_pack",
            "team_name": "team_name",
        },
    )
    if not exc.errors:
        form.error("end_date", exc.message)
    return _cart_page(customer_id, {item_id: form}, 422)


@bp.post("/cart/items/<int:item_id>")
@buyer_required
def update(customer_id: str, item_id: int):
    form = Form(request.form)
    action = form.value("action")
    changes: dict = {}
    if action == "default":
        changes["end_date"] = None
    elif action == "custom":
        end = form.date("end_date", "Enter the end date as a date, for example 2027-06-30.")
        if end is not None:
            changes["end_date"] = end.isoformat()
    elif action == "quantity":
        changes["quantity"] = form.integer(
            "quantity", "Enter a quantity from 1 to 10000.", 1, 10_000
        )
    elif action == "details":
        new_team = form.value("team_name")
        if form.value("team_id") == NEW_TEAM:
            if not new_team:
                form.error("team_name", "Enter the name of the new team.")
            elif len(new_team) > 100:
                form.error("team_name", "Enter a team name of at most 100 characters.")
            changes["team_name"] = new_team
        else:
            changes["team_id"] = form.value("team_id") or None
            changes["team_name"] = None
        changes["subscription_pack"] = form.value("subscription_pack") or None
    else:
        return redirect(url_for("cart.show", customer_id=customer_id))
    if not form.ok:
        return _cart_page(customer_id, {item_id: form}, 422)
    try:
        api().cart.update(customer_id, item_id, changes)
    except (Invalid, Conflict) as exc:
        return _line_form_error(
            customer_id,
            item_id,
            form,
            Invalid(422, detail=exc.message) if isinstance(exc, Conflict) else exc,
        )
    messages = {
        "default": "The default end date is back.",
        "custom": "The end date is set.",
        "quantity": "The quantity is changed.",
        "details": "The line's details are saved.",
    }
    flash(messages[action])
    return redirect(url_for("cart.show", customer_id=customer_id) + f"#line-{item_id}")


@bp.post("/cart/items/<int:item_id>/remove")
@buyer_required
def remove(customer_id: str, item_id: int):
    api().cart.remove(customer_id, item_id)
    flash("The line is removed from the cart.")
    return redirect(url_for("cart.show", customer_id=customer_id))


# --- Get Quote and Checkout ----------------------------------------------------------------


def last_billing_address() -> dict:
    """The billing address this reseller used last (its newest order or quote), to prefill."""
    newest: tuple[str, dict] | None = None
    for search in (api().orders.search, api().quotes.search):
        try:
            items = search(limit=1).get("items", [])
        except ApiError:
            continue
        for item in items:
            when = item.get("placed_at") or item.get("issued_at") or ""
            address = item.get("billing_address")
            if address and (newest is None or when > newest[0]):
                newest = (when, address)
    return newest[1] if newest else {}


def purchase_form(data=None, customer_id: str | None = None) -> Form:
    address = last_billing_address() if data is None else {}
    buyer: dict = {}
    if data is None and is_customer_admin():
        # A customer admin buys for its own organisation: the company is the account's, and the
        # licensee is the admin until told otherwise.
        user = current_user()
        first, _, last = (user.get("name") or "").partition(" ")
        buyer = {"first_name": first, "last_name": last, "email": user.get("email") or ""}
        if not address and customer_id:
            address = {"name": customer_header(customer_id)["name"]}
    return Form(
        data,
        **buyer,
        company=address.get("name") or "",
        line1=address.get("line1") or "",
        line2=address.get("line2") or "",
        city=address.get("city") or "",
        postal_code=address.get("postal_code") or "",
        region=address.get("region") or "",
        country=address.get("country") or "",
        vat_id=address.get("vat_id") or "",
    )


def read_purchase(form: Form) -> dict:
    """The billing address, end user and PO number of a Get Quote or Checkout form."""
    line1 = form.require("line1", "Enter the first line of the billing address.")
    city = form.require("city", "Enter the city of the billing address.")
    country = form.value("country").upper()
    if len(country) != 2 or not country.isalpha():
        form.error("country", "Enter the country as its two-letter code, for example US or DE.")
    first = form.require("first_name", "Enter the end user's first name.")
    last = form.require("last_name", "Enter the end user's last name.")
    email = form.email("email", "Enter the end user's email address.")
    address = {"line1": line1, "city": city, "country": country}
    for name, field in (
        ("name", "company"),
        ("line2", "line2"),
        ("postal_code", "postal_code"),
        ("region", "region"),
        ("vat_id", "vat_id"),
    ):
        if form.value(field):
            address[name] = form.value(field)
    body = {
        "billing_address": address,
        "end_user": {"first_name": first, "last_name": last, "email": email},
    }
    if form.value("po_number"):
        body["po_number"] = form.value("po_number")
    return body


def _purchase_page(template: str, customer_id: str, form: Form, status: int = 200, **extra):
    customer = customer_header(customer_id)
    cart = api().cart.get(customer_id)
    if not cart.get("items") and status == 200:
        flash("The cart is empty: add a product first.")
        return redirect(url_for("customers.show", customer_id=customer_id))
    return render_template(
        template,
        customer=customer,
        cart=cart,
        kinds=KINDS,
        form=form,
        cart_items=len(cart.get("items", [])),
        **extra,
    ), status


@bp.get("/quote")
@buyer_required
def quote_form(customer_id: str):
    return _purchase_page("cart/quote.html", customer_id, purchase_form(customer_id=customer_id))


@bp.post("/quote")
@buyer_required
def submit_quote(customer_id: str):
    form = purchase_form(request.form)
    body = read_purchase(form)
    if form.ok:
        try:
            quote = api().cart.quote(customer_id, body)
        except (Invalid, Conflict) as exc:
            form.take_api_errors(getattr(exc, "errors", {}), ADDRESS_FIELDS)
            if not form.errors:
                form.error("_form", exc.message)
        else:
            flash(f"Quote {quote['number']} is ready; it is also on its way to you by e-mail.")
            return redirect(url_for("quotes.show", number=quote["number"]))
    return _purchase_page("cart/quote.html", customer_id, form, 422)


def payment_choices() -> list[dict]:
    try:
        methods = api().payment_methods.list()
    except ApiError:
        return []
    return [m for m in methods if m.get("status", "active") == "active"]


@bp.get("/checkout")
@buyer_required
def checkout_form(customer_id: str):
    form = purchase_form(customer_id=customer_id)
    form.data["idempotency_key"] = uuid.uuid4().hex
    methods = payment_choices()
    if methods:
        form.data.setdefault("payment_method_id", methods[0]["id"])
    return _purchase_page("cart/checkout.html", customer_id, form, methods=methods)


@bp.post("/checkout")
@buyer_required
def place_order(customer_id: str):
    form = purchase_form(request.form)
    body = read_purchase(form)
    methods = payment_choices()
    method = form.value("payment_method_id")
    if method not in {m["id"] for m in methods}:
        form.error("payment_method_id", "Choose how to pay.")
    body["payment_method_id"] = method
    body["send_activation_email"] = form.value("send_activation_email") == "yes"
    key = form.value("idempotency_key") or uuid.uuid4().hex
    form.data["idempotency_key"] = key
    if form.ok:
        try:
            order = api().cart.checkout(customer_id, body, key)
        except (Invalid, Conflict) as exc:
            form.take_api_errors(getattr(exc, "errors", {}), ADDRESS_FIELDS)
            if not form.errors:
                form.error("_form", exc.message)
            # A corrected form is another order attempt.
            form.data["idempotency_key"] = uuid.uuid4().hex
        else:
            flash(f"Order {order['number']} is placed.")
            return redirect(url_for("orders.show", number=order["number"]))
    return _purchase_page("cart/checkout.html", customer_id, form, 422, methods=methods)
