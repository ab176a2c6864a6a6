"""Onboarding pages: a reseller creates a customer; the pages behind the e-mailed links (set a
password, answer a request to manage an account); an account's admins and the resellers that
manage it."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from portal.auth import current_user, login_required, reseller_required
from portal.forms import Form
from portal.gateway_client import Conflict, Gone, Invalid, NotFound, api
from portal.pages.customers import customer_header
from portal.pages.home import remember_customer

bp = Blueprint("onboarding", __name__, url_prefix="/portal")

MIN_PASSWORD = 12
PERSON_FIELDS = {"first_name": "first_name", "last_name": "last_name", "email": "email"}


# -- a reseller creates a customer --------------------------------------------------------------


@bp.get("/customers/new")
@reseller_required
def new_customer():
    return render_template("onboarding/new_customer.html", form=Form())


@bp.post("/customers/new")
@reseller_required
def create_customer():
    form = Form(request.form)
    name = form.require("name", "Enter the organisation's name.")
    country = form.value("country").upper()
    if len(country) != 2 or not country.isalpha():
        form.error("country", "Enter the two-letter country code, for example DE or US.")
    first = form.require("first_name", "Enter the contact's first name.")
    last = form.require("last_name", "Enter the contact's last name.")
    email = form.email("email", "Enter the contact's email address.")
    vat_id = form.value("vat_id") or None
    if form.ok:
        body = {
            "name": name,
            "country": country,
            "vat_id": vat_id,
            "contact": {"first_name": first, "last_name": last, "email": email},
        }
        try:
            created = api().customers.create(body)
        except Invalid as exc:
            form.take_api_errors(
                exc.errors,
                {
                    "name": "name",
                    "country": "country",
                    "vat_id": "vat_id",
                    "contact.first_name": "first_name",
                    "contact.last_name": "last_name",
                    "contact.email": "email",
                },
            )
            if not exc.errors:
                form.error("name", exc.message)
        else:
            remember_customer(created["customer_id"], created["name"])
            flash(
                f"Customer {created['name']} ({created['customer_id']}) created. "
                f"{email} gets an e-mail to set a password as its first admin."
            )
            return redirect(url_for("customers.show", customer_id=created["customer_id"]))
    return render_template("onboarding/new_customer.html", form=form), 422


# -- set a password from the e-mailed link ------------------------------------------------------


@bp.get("/password/<token>")
def password(token: str):
    return render_template("onboarding/password.html", form=Form(), token=token)


@bp.post("/password/<token>")
def set_password(token: str):
    form = Form(request.form)
    new = form.get("password")
    if len(new) < MIN_PASSWORD:
        form.error("password", f"Choose a password of at least {MIN_PASSWORD} characters.")
    elif form.get("confirm") != new:
        form.error("confirm", "The two passwords are not the same.")
    if form.ok:
        try:
            done = api().public.set_password(token, new)
        except Invalid as exc:
            form.take_api_errors(exc.errors, {"password": "password", "token": "_form"})
        except (Gone, NotFound, Conflict) as exc:
            message = (
                exc.message
                if not isinstance(exc, NotFound)
                else ("This link does not work. Ask an admin of your account to send a new one.")
            )
            return render_template("onboarding/link_gone.html", message=message), exc.status
        else:
            flash("Your password is set. Sign in with your email address and the new password.")
            return redirect(url_for("auth.sign_in", email=done.get("email")))
    data = Form()
    data.errors = form.errors
    return render_template("onboarding/password.html", form=data, token=token), 422


# -- answer a reseller's request to manage the account ------------------------------------------


def _request_or_gone(token: str):
    try:
        return api().public.management_request(token), None
    except NotFound:
        return None, ("This link does not work (a newer request may have replaced it).", 404)
    except Gone as exc:
        return None, (exc.message, 410)


@bp.get("/management-requests/<token>")
def management_request(token: str):
    found, gone = _request_or_gone(token)
    if gone:
        return render_template("onboarding/link_gone.html", message=gone[0]), gone[1]
    answer = request.args.get("answer")
    return render_template(
        "onboarding/management_request.html", req=found, token=token, answer=answer
    )


@bp.post("/management-requests/<token>")
def answer_management_request(token: str):
    answer = request.form.get("answer")
    if answer not in ("approve", "decline"):
        found, gone = _request_or_gone(token)
        if gone:
            return render_template("onboarding/link_gone.html", message=gone[0]), gone[1]
        return render_template(
            "onboarding/management_request.html",
            req=found,
            token=token,
            answer=None,
            error="Choose Approve or Decline.",
        ), 422
    try:
        decided = api().public.answer_management_request(token, answer)
    except NotFound:
        message = "This link does not work (a newer request may have replaced it)."
        return render_template("onboarding/link_gone.html", message=message), 404
    except (Gone, Conflict) as exc:
        return render_template("onboarding/link_gone.html", message=exc.message), exc.status
    return render_template("onboarding/management_decided.html", req=decided)


# -- the account's admins and managing resellers ------------------------------------------------


def _people_page(customer_id: str, invite: Form, reseller: Form, status: int = 200):
    customer = customer_header(customer_id)
    gateway = api()
    return render_template(
        "onboarding/people.html",
        customer=customer,
        admins=gateway.people.admins(customer_id),
        resellers=gateway.people.managing_resellers(customer_id),
        invite=invite,
        reseller=reseller,
        is_admin=(current_user() or {}).get("kind") == "customer_admin",
    ), status


@bp.get("/customers/<customer_id>/admins")
@login_required
def people(customer_id: str):
    return _people_page(customer_id, Form(), Form())


@bp.post("/customers/<customer_id>/admins")
@login_required
def invite_admin(customer_id: str):
    form = Form(request.form)
    person = {
        "first_name": form.require("first_name", "Enter the admin's first name."),
        "last_name": form.require("last_name", "Enter the admin's last name."),
        "email": form.email("email", "Enter the admin's email address."),
    }
    if form.ok:
        try:
            api().people.invite_admin(customer_id, person)
        except (Invalid, Conflict) as exc:
            form.take_api_errors(exc.errors, PERSON_FIELDS)
            if not exc.errors:
                form.error("email", exc.message)
        else:
            flash(f"{person['email']} is invited: they get an e-mail to set a password.")
            return redirect(url_for("onboarding.people", customer_id=customer_id))
    return _people_page(customer_id, form, Form(), 422)


@bp.post("/customers/<customer_id>/admins/<user_id>/remove")
@login_required
def remove_admin(customer_id: str, user_id: str):
    try:
        api().people.remove_admin(customer_id, user_id)
    except Conflict as exc:
        flash(exc.message)
    else:
        flash("The admin was removed.")
    return redirect(url_for("onboarding.people", customer_id=customer_id))


@bp.post("/customers/<customer_id>/admins/<user_id>/resend")
@login_required
def resend_link(customer_id: str, user_id: str):
    try:
        api().people.resend_link(customer_id, user_id)
    except Conflict as exc:
        flash(exc.message)
    else:
        flash("A new link is on its way; the old one no longer works.")
    return redirect(url_for("onboarding.people", customer_id=customer_id))


@bp.post("/customers/<customer_id>/managing-resellers")
@login_required
def add_reseller(customer_id: str):
    form = Form(request.form)
    email = form.email("reseller_email", "Enter the email of one of the reseller's users.")
    if form.ok:
        try:
            added = api().people.add_reseller(customer_id, email)
        except Invalid as exc:
            form.take_api_errors(exc.errors, {"email": "reseller_email"})
            if not exc.errors:
                form.error("reseller_email", exc.message)
        else:
            flash(f"{added.get('name')} is now an administrator of this account.")
            return redirect(url_for("onboarding.people", customer_id=customer_id))
    return _people_page(customer_id, Form(), form, 422)


@bp.post("/customers/<customer_id>/managing-resellers/<reseller_id>/remove")
@login_required
def remove_reseller(customer_id: str, reseller_id: str):
    api().people.remove_reseller(customer_id, reseller_id)
    flash("The reseller no longer manages this account.")
    return redirect(url_for("onboarding.people", customer_id=customer_id))


@bp.post("/customers/<customer_id>/management-requests")
@reseller_required
def ask_to_manage(customer_id: str):
    try:
        api().people.ask_to_manage(customer_id)
    except Conflict as exc:
        flash(exc.message)
    else:
        flash("The account's admins got an e-mail to approve or decline your request.")
    return redirect(url_for("onboarding.people", customer_id=customer_id))
