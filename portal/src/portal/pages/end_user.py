"""The end user's pages: an invitation link opened in a browser shows what it offers and a claim
form; after the claim, the license with its offline activation code (and a .txt download)."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, session, url_for

from portal.forms import Form
from portal.gateway_client import Conflict, Gone, Invalid, NotFound, api

bp = Blueprint("end_user", __name__, url_prefix="/portal/invitations")

NO_LONGER = (
    "This invitation link no longer works. It may have been replaced by a new link or"
    " disabled: ask the person who sent it to you for the current one."
)
PERSON_FIELDS = {"first_name": "first_name", "last_name": "last_name", "email": "email"}


def gone_page(message: str):
    return render_template("end_user/gone.html", message=message), 410


def offer_of(token: str):
    try:
        return api().public.invitation(token), None
    except NotFound:
        return None, gone_page(NO_LONGER)
    except Gone as exc:
        return None, gone_page(exc.message)


@bp.get("/<token>")
def invitation(token: str):
    offer, gone = offer_of(token)
    if gone:
        return gone
    return render_template("end_user/invitation.html", offer=offer, token=token, form=Form())


@bp.post("/<token>")
def claim(token: str):
    form = Form(request.form)
    person = {
        "first_name": form.require("first_name", "Enter your first name."),
        "last_name": form.require("last_name", "Enter your last name."),
        "email": form.email("email", "Enter your email address."),
    }
    status = 422
    # What the link offers, read before the claim (the last free license makes it "gone").
    offer, gone = offer_of(token)
    if gone:
        return gone
    if form.ok:
        try:
            claimed = api().public.claim(token, person)
        except Invalid as exc:
            form.take_api_errors(exc.errors, PERSON_FIELDS)
        except Conflict as exc:
            form.error("email", exc.message)
            status = 409
        except NotFound:
            return gone_page(NO_LONGER)
        except Gone as exc:
            return gone_page(exc.message)
        else:
            session["claimed"] = {
                "token": token,
                "license_id": claimed["license_id"],
                "product": claimed["product"],
                "valid_until": claimed.get("valid_until"),
                "fallback_version": claimed.get("fallback_version"),
                "activation_code": claimed["activation_code"],
                "email": person["email"],
                "customer_name": offer.get("customer_name"),
            }
            return redirect(url_for("end_user.license", token=token))
    return render_template("end_user/invitation.html", offer=offer, token=token, form=form), status


def claimed_here(token: str) -> dict:
    claimed = session.get("claimed")
    if not claimed or claimed.get("token") != token:
        raise NotFound(404)
    return claimed


@bp.get("/<token>/license")
def license(token: str):
    return render_template("end_user/license.html", lic=claimed_here(token), token=token)


@bp.get("/<token>/activation-code.txt")
def activation_code(token: str):
    return activation_code_file(claimed_here(token))


def activation_code_file(lic: dict) -> Response:
    """The ``.txt`` a licensee downloads: the license, its fallback right, and the signed
    offline activation code (``license_id``, ``product``, ``email``, ``valid_until``,
    ``fallback_version``, ``activation_code``)."""
    fallback = (
        f"Perpetual fallback license: version {lic['fallback_version']}"
        if lic.get("fallback_version")
        else "Perpetual fallback license: none (the subscription covers less than 12 months)"
    )
    text = (
        f"License ID: {lic['license_id']}\n"
        f"Product: {lic['product']}\n"
        f"Licensee: {lic['email']}\n"
        f"Valid until: {lic.get('valid_until') or ''}\n"
        f"{fallback}\n\n"
        "Offline activation code (paste it in the product under Activation code):\n"
        f"{lic['activation_code']}\n"
    )
    filename = f"activation-code-{lic['license_id']}.txt"
    return Response(
        text,
        mimetype="text/plain",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
