"""Sign-in and sign-out, and the guard every signed-in page uses.

Signing out ends the user's tokens at the gateway (``POST /auth/logout``), not only the cookie.

The session cookie (signed, ``HttpOnly``, ``SameSite=Lax``, ``Secure`` over HTTPS) holds the
user's bearer token from ``POST /auth/token`` and who they are from ``GET /me``. A page that needs
a signed-in user sends anyone else to the sign-in page, and back to that page afterwards.
"""

from __future__ import annotations

import functools
import time
from urllib.parse import urlsplit

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for

from portal.forms import Form
from portal.gateway_client import ApiError, Gateway, Invalid, RateLimited, Unauthorized, api

bp = Blueprint("auth", __name__, url_prefix="/portal")

# Pages may send the user back only to the portal's own pages.
SAFE_PREFIX = "/portal/"


def safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or "\\" in target or not target.startswith(SAFE_PREFIX):
        return None
    if target.startswith(SAFE_PREFIX + "sign-"):
        return None
    return target


def current_user() -> dict | None:
    """``/me`` of the signed-in user while their token lasts, else None."""
    if "user" in g:
        return g.user
    user = session.get("me")
    if user and session.get("token") and session.get("expires_at", 0) > time.time():
        g.user = user
    else:
        g.user = None
    return g.user


def sign_out_session() -> None:
    session.clear()
    g.pop("user", None)
    g.pop("api", None)


def to_sign_in():
    """Send the user to sign in, remembering where they wanted to go."""
    target = request.full_path if request.method == "GET" else request.referrer
    target = safe_next(urlsplit(target).path + "?" + urlsplit(target).query if target else None)
    if target and target.endswith("?"):
        target = target[:-1]
    return redirect(url_for("auth.sign_in", next=target))


def login_required(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if current_user() is None:
            return to_sign_in()
        return view(*args, **kwargs)

    return wrapped


def reseller_required(view):
    """For reseller users' pages; a customer admin gets the page-not-found answer."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        user = current_user()
        if user is None:
            return to_sign_in()
        if user.get("kind") != "reseller_user":
            from portal.errors import not_found_page

            return not_found_page()
        return view(*args, **kwargs)

    return wrapped


def buyer_required(view):
    """For the buying pages (catalog, cart, quotes, orders): a reseller's user, or a customer
    admin on its own account only. Another account's pages are the page-not-found answer
    without asking the gateway (which refuses them too)."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        user = current_user()
        if user is None:
            return to_sign_in()
        kind = user.get("kind")
        own = kwargs.get("customer_id") in (None, user.get("customer_id"))
        if kind != "reseller_user" and not (kind == "customer_admin" and own):
            from portal.errors import not_found_page

            return not_found_page()
        return view(*args, **kwargs)

    return wrapped


def is_customer_admin(user: dict | None = None) -> bool:
    user = user if user is not None else current_user()
    return bool(user) and user.get("kind") == "customer_admin"


def home_for(user: dict) -> str:
    if user.get("kind") == "customer_admin" and user.get("customer_id"):
        return url_for("customers.licenses", customer_id=user["customer_id"])
    return url_for("home.start")


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in():
    target = safe_next(request.values.get("next"))
    form = Form(request.form)
    if request.method == "POST":
        email = form.require("email", "Enter your email address.")
        password = request.form.get("password", "")
        form.data.pop("password", None)  # never echoed back into the page
        if not password:
            form.error("password", "Enter your password.")
        if form.ok:
            try:
                gateway: Gateway = api()
                answer = gateway.auth.token(email, password)
                gateway.token = answer["access_token"]
                me = gateway.auth.me()
            except Unauthorized:
                form.error("password", "The email address or password is not right.")
            except RateLimited:
                form.error("email", "Too many failed sign-ins. Wait a few minutes and try again.")
            except Invalid as exc:
                for name, messages in exc.errors.items():
                    form.error(name if name in ("email", "password") else "email", messages[0])
                if not exc.errors:
                    form.error("email", exc.message)
            else:
                session.clear()
                session.permanent = True
                session["token"] = answer["access_token"]
                session["expires_at"] = time.time() + int(answer.get("expires_in", 3600)) - 30
                session["me"] = me
                flash(f"Signed in as {me.get('email') or email}.")
                return redirect(target or home_for(me))
    user = current_user()
    if request.method == "GET" and user is not None:
        return redirect(target or home_for(user))
    return render_template("auth/sign_in.html", form=form, next=target, ask_form=Form())


@bp.post("/sign-out")
def sign_out():
    if session.get("token"):
        # The token ends at the gateway too, so a copy of it (a shared computer, a stolen
        # cookie) stops working; the page signs out here whatever the gateway answers.
        try:
            api().auth.logout()
        except ApiError:
            pass
    sign_out_session()
    flash("You are signed out.")
    return redirect(url_for("auth.sign_in"))
