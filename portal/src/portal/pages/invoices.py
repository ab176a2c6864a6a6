"""Invoices: search the reseller's own, the warning for unpaid ones, open one, print or download
its PDF, and Pay an unpaid one with a stored payment method."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from portal.auth import login_required
from portal.forms import Form, search_page
from portal.gateway_client import ApiError, Conflict, Invalid, api
from portal.pages.cart import KINDS, payment_choices
from portal.pages.downloads import send

bp = Blueprint("invoices", __name__, url_prefix="/portal/invoices")

STATUSES = {"paid": "Paid", "not_paid": "Not paid", "applied": "Applied"}
PAYMENT_TYPES = {"online": "Online", "credit_note": "Credit note", "postpaid": "Postpaid"}


@bp.get("/")
@login_required
def search():
    form = Form(request.args)
    query = {
        name: form.value(name)
        for name in ("number", "customer_name", "customer_email", "status", "cursor")
        if form.value(name)
    }
    if form.value("overdue") == "yes":
        query["overdue"] = "true"
    page = search_page(
        form, api().invoices.search, query, ("number", "customer_name", "customer_email", "status")
    )
    return render_template(
        "invoices/search.html",
        form=form,
        invoices=page.get("items", []),
        next_cursor=page.get("next_cursor"),
        statuses=STATUSES,
        payment_types=PAYMENT_TYPES,
        kinds=KINDS,
        methods=_methods_if_unpaid(page.get("items", [])),
    ), (200 if form.ok else 422)


def _methods_if_unpaid(invoices: list[dict]) -> list[dict]:
    if not any(i.get("status") == "not_paid" for i in invoices):
        return []
    return payment_choices()


@bp.get("/<number>")
@login_required
def show(number: str, pay_form: Form | None = None, status: int = 200):
    invoice = api().invoices.get(number)
    return render_template(
        "invoices/show.html",
        invoice=invoice,
        statuses=STATUSES,
        payment_types=PAYMENT_TYPES,
        kinds=KINDS,
        methods=_methods_if_unpaid([invoice]),
        form=pay_form or Form(),
    ), status


@bp.get("/<number>/pdf")
@login_required
def pdf(number: str):
    inline = request.args.get("print") == "1"
    return send(api().invoices.pdf(number), f"{number}.pdf", inline=inline)


@bp.post("/<number>/pay")
@login_required
def pay(number: str):
    form = Form(request.form)
    method = form.value("payment_method_id")
    if not method:
        form.error("payment_method_id", "Choose how to pay.")
        return show(number, form, 422)
    try:
        api().invoices.pay(number, method)
    except Invalid as exc:
        form.take_api_errors(exc.errors, {"payment_method_id": "payment_method_id"})
        if not form.errors:
            form.error("payment_method_id", exc.message)
        return show(number, form, 422)
    except (Conflict, ApiError) as exc:
        if exc.status not in (402, 409):
            raise
        form.error("payment_method_id", f"The payment did not go through: {exc.message}")
        return show(number, form, 422)
    flash(f"Invoice {number} is paid.")
    back = form.value("back")
    if back == "list":
        return redirect(url_for("invoices.search"))
    return redirect(url_for("invoices.show", number=number))
