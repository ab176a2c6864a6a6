"""My licenses: a license holder's own page, opened by a single-use, expiring e-mailed link
(from the assignment e-mail, or asked for here or on the sign-in page with an email address).

The e-mailed link only opens a page with a ``Show my licenses`` button: spending the single-use
link takes a POST, so a mail scanner that follows links does not use it up. The POST trades it
at the gateway for a short-lived ``license_holder`` token, kept in the session under its own key
(apart from a signed-in user's): it reads this person's licenses and their activation codes,
and nothing else of any organisation.
"""

from __future__ import annotations

import time

from flask import Blueprint, flash, redirect, render_template, request, session, url_for

from portal.forms import Form
from portal.gateway_client import (
    Gone,
    Invalid,
    NotFound,
    RateLimited,
    Unauthorized,
    api,
    holder_api,
)
from portal.pages.end_user import activation_code_file

bp = Blueprint("my_licenses", __name__, url_prefix="/portal/my-licenses")

KEY = "holder"


def holder() -> dict | None:
    """The license holder this browser opened a link for, while the token lasts."""
    held = session.get(KEY)
    if held and held.get("token") and held.get("expires_at", 0) > time.time():
        return held
    session.pop(KEY, None)
    return None


def ask_page(form: Form, status: int = 200, message: str | None = None):
    return render_template("my_licenses/ask.html", form=form, message=message), status


def request_link(form: Form) -> bool:
    """Ask the gateway to e-mail a link; False (with the error on the form) when it cannot."""
    email = form.email("email", "Enter your email address, like name@example.com.")
    if not form.ok:
        return False
    try:
        answer = api().public.my_licenses_link(email)
    except Invalid as exc:
        form.take_api_errors(exc.errors, {"email": "email"})
        if not exc.errors:
            form.error("email", exc.message)
        return False
    except RateLimited:
        form.error("email", "Too many links asked for. Wait an hour and try again.")
        return False
    flash(answer.get("detail") or "If this email address holds a license, a link is on its way.")
    return True


@bp.get("/")
def mine():
    held = holder()
    if held is None:
        return ask_page(Form())
    try:
        page = holder_api(held["token"]).mine.list()
    except Unauthorized:
        session.pop(KEY, None)
        return ask_page(Form(), message="Your licenses page has closed. Ask for a new link.")
    return render_template(
        "my_licenses/mine.html", email=page.get("email"), licenses=page.get("items", [])
    )


@bp.post("/link")
def ask():
    form = Form(request.form)
    if request_link(form):
        return redirect(url_for("my_licenses.mine"))
    return ask_page(form, 429 if "Too many" in form.errors.get("email", "") else 422)


@bp.get("/<token>")
def opening(token: str):
    return render_template("my_licenses/open.html", token=token)


@bp.post("/<token>")
def open_link(token: str):
    try:
        answer = api().public.my_licenses_session(token)
    except Gone as exc:
        return ask_page(Form(), 410, message=exc.message)
    except (NotFound, Invalid):
        message = "This link is not a link to anyone's licenses. Ask for a new one below."
        return ask_page(Form(), 404, message=message)
    session[KEY] = {
        "token": answer["access_token"],
        "email": answer["email"],
        "expires_at": time.time() + int(answer.get("expires_in", 3600)) - 30,
    }
    return redirect(url_for("my_licenses.mine"))


@bp.get("/<license_id>/activation-code.txt")
def activation_code(license_id: str):
    held = holder()
    if held is None:
        return redirect(url_for("my_licenses.mine"))
    code = holder_api(held["token"]).mine.activation_code(license_id)
    return activation_code_file(
        {
            "license_id": code["license_id"],
            "product": code["product"],
            "email": (code.get("licensee") or {}).get("email") or held["email"],
            "valid_until": code.get("valid_until"),
            "fallback_version": code.get("fallback_version"),
            "activation_code": code["activation_code"],
        }
    )


@bp.post("/close")
def close():
    session.pop(KEY, None)
    flash("Your licenses page is closed on this browser.")
    return redirect(url_for("my_licenses.mine"))
