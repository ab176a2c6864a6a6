"""Updates & Renewals inside a customer: find its subscriptions by license IDs, PO number, order
number, subscription pack or assigned user email, and put a renewal, upgrade or downgrade of
one into the cart."""

from __future__ import annotations

import re

from flask import Blueprint, flash, redirect, render_template, request, url_for

from portal.auth import buyer_required
from portal.forms import Form
from portal.gateway_client import Conflict, Invalid, NotFound, api
from portal.pages.customers import YEARS, cart_count, customer_header

bp = Blueprint("renewals", __name__, url_prefix="/portal/customers/<customer_id>/renewals")

SEARCH_FIELDS = ("license_ids", "po_number", "order_number", "subscription_pack", "assignee_email")
ACTIONS = {"renew": "renewal", "upgrade": "upgrade", "downgrade": "downgrade"}


def license_ids_of(text: str) -> list[str]:
    return [part for part in re.split(r"[\s,;]+", text) if part]


@bp.get("/")
@buyer_required
def search(customer_id: str):
    customer = customer_header(customer_id)
    form = Form(request.args)
    results = None
    if any(name in request.args for name in SEARCH_FIELDS):
        query: dict = {
            "po_number": form.value("po_number"),
            "order_number": form.value("order_number"),
            "subscription_pack": form.value("subscription_pack"),
            "assignee_email": form.value("assignee_email"),
        }
        ids = license_ids_of(form.value("license_ids"))
        if ids:
            query["license_id"] = ids
        if not any(query.values()):
            form.error("license_ids", "Enter at least one thing to search by.")
        else:
            try:
                results = api().cart.renewals(customer_id, **query)
            except Invalid as exc:
                form.take_api_errors(
                    exc.errors, {"license_id": "license_ids", **{n: n for n in SEARCH_FIELDS}}
                )
    products = [p for p in api().catalog.products() if p["code"] != "ALL"]
    return render_template(
        "renewals/search.html",
        customer=customer,
        form=form,
        results=results,
        years=YEARS,
        single_products=products,
        cart_items=cart_count(customer_id),
    ), (200 if form.ok else 422)


@bp.get("/upgrade")
@buyer_required
def upgrade(customer_id: str):
    """Upgrade to All Products Pack: one product's active subscriptions, each with the button that
    puts its upgrade (the rest of its term, co-termed with its licenses) into the cart."""
    customer = customer_header(customer_id)
    products = {p["code"]: p for p in api().catalog.products()}
    code = (request.args.get("product") or "").strip().upper()
    if code not in products or code == "ALL":
        raise NotFound(404)
    found = api().cart.renewals(customer_id, product=code, limit=100)
    active = [r for r in found if "upgrade" in r.get("allowed_actions", [])]
    return render_template(
        "renewals/upgrade.html",
        customer=customer,
        product=products[code],
        all_products=products.get("ALL"),
        subscriptions=active,
        expired=len(found) - len(active),
        cart_items=cart_count(customer_id),
    )


@bp.post("/cart")
@buyer_required
def add(customer_id: str):
    form = Form(request.form)
    action = form.value("action")
    ids = license_ids_of(form.value("license_ids"))
    if action not in ACTIONS or not ids:
        return redirect(url_for("renewals.search", customer_id=customer_id))
    item: dict = {"kind": ACTIONS[action], "license_ids": ids}
    years = form.value("term_years") or "1"
    item["term_years"] = 2 if years == "2" else 1
    if action == "upgrade":
        item["product"] = "ALL"
    elif action == "downgrade":
        item["product"] = form.value("product")
    try:
        api().cart.add(customer_id, item)
    except (Invalid, Conflict) as exc:
        flash(f"That did not go into the cart: {exc.message}")
        return redirect(request.referrer or url_for("renewals.search", customer_id=customer_id))
    words = {"renew": "A renewal", "upgrade": "An upgrade", "downgrade": "A downgrade"}
    flash(f"{words[action]} of {len(ids)} license{'s' if len(ids) != 1 else ''} is in the cart.")
    return redirect(url_for("cart.show", customer_id=customer_id))
