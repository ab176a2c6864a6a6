"""The start page: find a customer and enter it (by customer ID, email, pack or quote)."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for

from portal.auth import reseller_required
from portal.forms import Form
from portal.gateway_client import ApiError, Invalid, NotFound, RateLimited, api

bp = Blueprint("home", __name__, url_prefix="/portal")

SEARCH_BY = {
    "customer_id": "Customer ID",
    "email": "Email",
    "subscription_pack": "Subscription pack",
    "quote": "Quote number",
}
NO_MATCH = "No account matched. Check what you typed and try again."


def remember_customer(customer_id: str, name: str) -> None:
    session["customer"] = {"id": customer_id, "name": name}


@bp.get("/")
@reseller_required
def start():
    by = request.args.get("by", "customer_id")
    if by not in SEARCH_BY:
        by = "customer_id"
    term = request.args.get("q", "").strip()
    search = Form(request.args, by=by)
    dialog = None
    accounts: list[dict] = []
    if "q" in request.args:
        if not term:
            search.error("q", f"Enter a {SEARCH_BY[by].lower()} to search for.")
        elif by == "email":
            try:
                accounts = api().customers.enter("email", term).get("accounts", [])
            except (NotFound, Invalid):
                accounts = []
            except RateLimited as exc:
                search.error("q", exc.message)
            if search.ok and not accounts:
                search.error("q", NO_MATCH)
            if accounts:
                dialog = "accounts"
        else:
            dialog = "email"
    customers = _recent_customers()
    return render_template(
        "home/start.html",
        search=search,
        search_by=SEARCH_BY,
        dialog=dialog,
        accounts=accounts,
        entry=Form(),
        customers=customers,
    )


def _recent_customers() -> list[dict]:
    try:
        return api().customers.list()[:10]
    except ApiError:
        return []


@bp.post("/enter")
@reseller_required
def enter():
    form = Form(request.form)
    by = form.value("by")
    value = form.value("value")
    if by not in SEARCH_BY or by == "email" or not value:
        return redirect(url_for("home.start"))
    label = "Licensee email" if by == "quote" else "Contact email"
    email = form.email("email", f"Enter the {label.lower()}.")
    if form.ok:
        try:
            entered = api().customers.enter(by, value, email)
        except (NotFound, Invalid):
            form.error("email", NO_MATCH)
        except RateLimited as exc:
            form.error("email", exc.message)
        else:
            remember_customer(entered["customer_id"], entered.get("name", ""))
            quote_page = "quotes.show" in current_app.view_functions
            if by == "quote" and entered.get("quote_number") and quote_page:
                return redirect(url_for("quotes.show", number=entered["quote_number"]))
            return redirect(url_for("customers.show", customer_id=entered["customer_id"]))
    search = Form({"by": by, "q": value})
    return render_template(
        "home/start.html",
        search=search,
        search_by=SEARCH_BY,
        dialog="email",
        accounts=[],
        entry=form,
        customers=_recent_customers(),
    ), 422
