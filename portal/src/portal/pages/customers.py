"""Customers: the reseller's managed and recent customers, and inside one customer its product
catalog (add to cart), its licenses and its licensing report."""

from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from portal.auth import buyer_required, login_required, reseller_required
from portal.forms import Form
from portal.gateway_client import ApiError, Invalid, NotFound, api
from portal.pages.home import remember_customer

bp = Blueprint("customers", __name__, url_prefix="/portal/customers")

YEARS = [("1", "1 year"), ("2", "2 years")]


def customer_header(customer_id: str) -> dict:
    """The customer's ID and name, or the 404 page when the user may not see it."""
    try:
        customer = api().customers.get(customer_id)
    except NotFound:
        raise
    name = customer.get("name", "")
    remember_customer(customer_id, name)
    return {"id": customer_id, "name": name}


def cart_count(customer_id: str) -> int:
    try:
        return len(api().cart.get(customer_id).get("items", []))
    except ApiError:
        return 0


def prices_of(product: dict) -> dict:
    """``{("new", 1): price, ...}``"""
    return {(p["kind"], int(p["term_years"])): p for p in product.get("prices", [])}


@bp.get("/")
@reseller_required
def index():
    customers = api().customers.list()
    return render_template("customers/index.html", customers=customers)


@bp.get("/<customer_id>")
@buyer_required
def show(customer_id: str):
    customer = customer_header(customer_id)
    products = api().catalog.products()
    code = request.args.get("product") or (products[0]["code"] if products else None)
    product = next((p for p in products if p["code"] == code), None)
    if code and product is None:
        raise NotFound(404)
    form = Form(request.args, quantity="1", term_years="1")
    return render_template(
        "customers/catalog.html",
        customer=customer,
        products=products,
        product=product,
        prices=prices_of(product) if product else {},
        form=form,
        years=YEARS,
        cart_items=cart_count(customer_id),
    )


@bp.post("/<customer_id>/cart/items")
@buyer_required
def add_to_cart(customer_id: str):
    customer = customer_header(customer_id)
    form = Form(request.form)
    code = form.value("product")
    quantity = form.integer("quantity", "Enter a quantity from 1 to 10000.", 1, 10_000)
    years = form.value("term_years")
    if years not in ("1", "2"):
        form.error("term_years", "Choose 1 or 2 years.")
    products = api().catalog.products()
    product = next((p for p in products if p["code"] == code), None)
    if product is None:
        raise NotFound(404)
    if form.ok:
        try:
            api().cart.add(
                customer_id,
                {"kind": "new", "product": code, "quantity": quantity, "term_years": int(years)},
            )
        except Invalid as exc:
            form.take_api_errors(exc.errors, {"quantity": "quantity", "term_years": "term_years"})
            if not exc.errors:
                form.error("quantity", exc.message)
        else:
            flash(
                f"{quantity} × {product['name']} ({years} year{'s' if years == '2' else ''}) "
                "added to the cart."
            )
            return redirect(url_for("customers.show", customer_id=customer_id, product=code))
    return render_template(
        "customers/catalog.html",
        customer=customer,
        products=products,
        product=product,
        prices=prices_of(product),
        form=form,
        years=YEARS,
        cart_items=cart_count(customer_id),
    ), 422


def products_and_teams(customer_id: str) -> tuple[list, list]:
    """The products the account holds licenses of, and its teams, for the selects."""
    gateway = api()
    held = gateway.licenses.list(customer_id, limit=100).get("items", [])
    products = sorted({lic["product"] for lic in held})
    teams = [(t["team_id"], t["name"]) for t in gateway.licenses.teams(customer_id)]
    return [(p, p) for p in products], teams


LICENSE_FILTERS = ("product", "team_id", "status", "assignee_email")
STATUSES = [
    ("", "Any"),
    ("available", "Available"),
    ("assigned", "Assigned"),
    ("suspended", "Suspended"),
    ("expired", "Expired"),
]


def render_licenses(customer_id: str, args, transfer: Form | None = None, status: int = 200):
    """The licenses list, filtered by ``args`` (product, team, status, assignee), with the
    checkboxes and the ``Transfer`` form that moves the checked licenses to another team."""
    gateway = api()
    query = {k: (args.get(k) or "").strip() for k in LICENSE_FILTERS}
    form = Form(query)
    licenses, next_cursor = [], None
    try:
        page = gateway.licenses.list(customer_id, **query, cursor=args.get("cursor"))
    except Invalid as exc:
        form.take_api_errors(exc.errors, {k: k for k in LICENSE_FILTERS})
        status = 422
    else:
        licenses, next_cursor = page.get("items", []), page.get("next_cursor")
    customer = customer_header(customer_id)
    products, teams = products_and_teams(customer_id)
    if query["product"] and (query["product"], query["product"]) not in products:
        products.append((query["product"], query["product"]))
    return render_template(
        "customers/licenses.html",
        customer=customer,
        licenses=licenses,
        next_cursor=next_cursor,
        form=form,
        filtered={k: v for k, v in query.items() if v},
        products=[("", "Any"), *products],
        teams=teams,
        statuses=STATUSES,
        transfer=transfer or Form(),
    ), status


@bp.get("/<customer_id>/licenses")
@login_required
def licenses(customer_id: str):
    return render_licenses(customer_id, request.args)


@bp.get("/<customer_id>/licensing-report")
@login_required
def licensing_report(customer_id: str):
    report = api().licenses.report(customer_id)
    filename = report.filename or f"licensing-report-{customer_id}.csv"
    return Response(
        report.content,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
