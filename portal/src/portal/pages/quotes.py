"""Quotes: search the reseller's own, open one, download or print its PDF, cancel it, or order
it with a PO (paid later by invoice)."""

from __future__ import annotations

import uuid

from flask import Blueprint, flash, redirect, render_template, request, url_for

from portal.auth import buyer_required
from portal.forms import Form, search_page
from portal.gateway_client import Conflict, Invalid, api
from portal.pages.cart import KINDS
from portal.pages.downloads import send

bp = Blueprint("quotes", __name__, url_prefix="/portal/quotes")

STATUSES = [
    ("", "Any"),
    ("open", "Open"),
    ("ordered", "Ordered"),
    ("cancelled", "Cancelled"),
    ("expired", "Expired"),
]


def search_form() -> tuple[Form, dict]:
    """The search fields of a list page, checked; the query for the API."""
    form = Form(request.args)
    query: dict = {}
    for name in ("number", "customer_name", "customer_email", "po_number", "status"):
        if form.value(name):
            query[name] = form.value(name)
    start = form.date("from", "Enter the From date as a date, for example 2026-01-31.", False)
    end = form.date("to", "Enter the To date as a date, for example 2026-12-31.", False)
    if start and end and end < start:
        form.error("to", "The To date must be on or after the From date.")
    if start:
        query["from"] = start.isoformat()
    if end:
        query["to"] = end.isoformat()
    if form.value("cursor"):
        query["cursor"] = form.value("cursor")
    return form, query


@bp.get("/")
@buyer_required
def search():
    form, query = search_form()
    page = search_page(
        form,
        api().quotes.search,
        query,
        ("from", "to", "number", "customer_email", "customer_name"),
    )
    return render_template(
        "quotes/search.html",
        form=form,
        quotes=page.get("items", []),
        next_cursor=page.get("next_cursor"),
        statuses=STATUSES,
    ), (200 if form.ok else 422)


def _show(number: str, order_form: Form | None = None, status: int = 200):
    quote = api().quotes.get(number)
    form = order_form or Form(po_number=quote.get("po_number") or "")
    form.data.setdefault("idempotency_key", uuid.uuid4().hex)
    return render_template("quotes/show.html", quote=quote, kinds=KINDS, form=form), status


@bp.get("/<number>")
@buyer_required
def show(number: str):
    return _show(number)


@bp.get("/<number>/pdf")
@buyer_required
def pdf(number: str):
    return send(api().quotes.pdf(number), f"{number}.pdf", inline=request.args.get("print") == "1")


@bp.post("/<number>/cancel")
@buyer_required
def cancel(number: str):
    try:
        api().quotes.cancel(number)
    except Conflict as exc:
        flash(f"The quote was not cancelled: {exc.message}")
    else:
        flash(f"Quote {number} is cancelled.")
    return redirect(url_for("quotes.show", number=number))


@bp.post("/<number>/order")
@buyer_required
def order(number: str):
    form = Form(request.form)
    body: dict = {"send_activation_email": form.value("send_activation_email") == "yes"}
    if form.value("po_number"):
        body["po_number"] = form.value("po_number")
    key = form.value("idempotency_key") or uuid.uuid4().hex
    try:
        placed = api().quotes.order(number, body, key)
    except Invalid as exc:
        form.take_api_errors(exc.errors, {"po_number": "po_number"})
        if not form.errors:
            form.error("po_number", exc.message)
        form.data["idempotency_key"] = uuid.uuid4().hex
        return _show(number, form, 422)
    except Conflict as exc:
        flash(f"The quote was not ordered: {exc.message}")
        return redirect(url_for("quotes.show", number=number))
    flash(f"Order {placed['number']} is placed from quote {number}; it is paid by invoice.")
    return redirect(url_for("orders.show", number=placed["number"]))
