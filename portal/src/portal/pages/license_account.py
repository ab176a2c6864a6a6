"""The license account (a customer admin, or a reseller managing or entering the account):
assign licenses to one person or many (pasted lines or an uploaded CSV, with a result per row),
invitation links (create, Copy link, Regenerate, Disable, claims), and active users with Revoke."""

from __future__ import annotations

import csv
import io

from flask import Blueprint, flash, redirect, render_template, request, session, url_for

from portal.auth import login_required
from portal.forms import Form
from portal.gateway_client import Conflict, Invalid, api
from portal.pages.customers import customer_header, products_and_teams, render_licenses

bp = Blueprint("license_account", __name__, url_prefix="/portal/customers")

MAX_UPLOAD = 512 * 1024


def render_assign(customer_id: str, one: Form, many: Form, result=None, status: int = 200):
    products, teams = products_and_teams(customer_id)
    return render_template(
        "license_account/assign.html",
        customer=customer_header(customer_id),
        products=products,
        teams=[("", "Any team"), *teams],
        one=one,
        many=many,
        result=result,
    ), status


@bp.get("/<customer_id>/assign")
@login_required
def assign(customer_id: str):
    return render_assign(customer_id, Form(), Form())


@bp.post("/<customer_id>/assign")
@login_required
def assign_one(customer_id: str):
    form = Form(request.form)
    person = {
        "first_name": form.require("first_name", "Enter the person's first name."),
        "last_name": form.require("last_name", "Enter the person's last name."),
        "email": form.email("email", "Enter the person's email address."),
    }
    product = form.require("product", "Choose a product.")
    if form.ok:
        body = {"product": product, "assignees": [person]}
        if form.value("team_id"):
            body["team_id"] = form.value("team_id")
        try:
            result = api().account.assign(customer_id, body)
        except Invalid as exc:
            form.take_api_errors(
                exc.errors,
                {
                    "product": "product",
                    "team_id": "team_id",
                    "assignees.0.email": "email",
                    "assignees.0.first_name": "first_name",
                    "assignees.0.last_name": "last_name",
                },
            )
            if not exc.errors:
                form.error("product", exc.message)
        else:
            if result.get("assigned"):
                lic = result["assigned"][0]
                flash(f"{lic['license_id']} ({lic['product']}) assigned to {person['email']}.")
                return redirect(url_for("license_account.assign", customer_id=customer_id))
            form.error("email", result["failed"][0]["reason"])
    return render_assign(customer_id, form, Form(), status=422)


def pasted_csv(text: str) -> bytes:
    """Pasted lines (``First, Last, email`` or tab-separated) as the CSV the API takes."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["first_name", "last_name", "email"])
    for line in text.splitlines():
        if not line.strip():
            continue
        cells = [c.strip() for c in (line.split("\t") if "\t" in line else line.split(","))]
        writer.writerow(([*cells, "", "", ""])[:3])
    return out.getvalue().encode()


@bp.post("/<customer_id>/assign/many")
@login_required
def assign_many(customer_id: str):
    form = Form(request.form)
    product = form.require("bulk_product", "Choose a product.")
    upload = request.files.get("csv_file")
    raw = upload.read(MAX_UPLOAD + 1) if upload and upload.filename else b""
    if len(raw) > MAX_UPLOAD:
        form.error("csv_file", "The file is too big: at most 512 KB.")
    pasted = form.get("people").strip()
    if not raw and not pasted:
        form.error("people", "Paste one person per line, or choose a CSV file to upload.")
    result = None
    if form.ok:
        body = raw if raw else pasted_csv(pasted)
        try:
            result = api().account.assign_csv(
                customer_id, product, form.value("bulk_team_id") or None, body
            )
        except Invalid as exc:
            message = next(iter(exc.errors.values()), [exc.message])[0]
            form.error("csv_file" if raw else "people", message)
    status = 200 if form.ok else 422
    return render_assign(customer_id, Form(), form, result=result, status=status)


# -- invitation links ---------------------------------------------------------------------------


@bp.get("/<customer_id>/invitation-links")
@login_required
def links(customer_id: str):
    return render_links(customer_id, Form())


def render_links(customer_id: str, form: Form, status: int = 200):
    products, teams = products_and_teams(customer_id)
    return render_template(
        "license_account/links.html",
        customer=customer_header(customer_id),
        links=api().account.links(customer_id),
        products=products,
        teams=teams,
        form=form,
        new_link=session.pop("new_link", None),
    ), status


@bp.post("/<customer_id>/invitation-links")
@login_required
def create_link(customer_id: str):
    form = Form(request.form)
    body = {
        "product": form.require("product", "Choose a product."),
        "team_id": form.require("team_id", "Choose a team."),
    }
    expires = form.date("expires_on", "Enter the date as YYYY-MM-DD.", required=False)
    if expires:
        body["expires_at"] = f"{expires.isoformat()}T23:59:59+00:00"
    domains = [d.strip() for d in form.value("allowed_domains").split(",") if d.strip()]
    if domains:
        body["allowed_domains"] = domains
    if form.value("max_claims"):
        body["max_claims"] = form.integer("max_claims", "Enter a whole number from 1.", 1, 100_000)
    if form.ok:
        try:
            link = api().account.create_link(customer_id, body)
        except Invalid as exc:
            form.take_api_errors(
                exc.errors,
                {
                    "product": "product",
                    "team_id": "team_id",
                    "expires_at": "expires_on",
                    "allowed_domains": "allowed_domains",
                    "max_claims": "max_claims",
                },
            )
        else:
            session["new_link"] = {"id": link["id"], "url": link["url"]}
            flash(f"Invitation link {link['id']} created: copy it and send it to your people.")
            return redirect(url_for("license_account.links", customer_id=customer_id))
    return render_links(customer_id, form, 422)


@bp.post("/<customer_id>/invitation-links/<link_id>/regenerate")
@login_required
def regenerate_link(customer_id: str, link_id: str):
    link = api().account.regenerate_link(customer_id, link_id)
    session["new_link"] = {"id": link["id"], "url": link["url"]}
    flash(f"Invitation link {link_id} has a new URL; the old one no longer works.")
    return redirect(url_for("license_account.links", customer_id=customer_id))


@bp.post("/<customer_id>/invitation-links/<link_id>/disable")
@login_required
def disable_link(customer_id: str, link_id: str):
    api().account.disable_link(customer_id, link_id)
    flash(f"Invitation link {link_id} is disabled.")
    return redirect(url_for("license_account.links", customer_id=customer_id))


# -- active users and revocation ----------------------------------------------------------------


@bp.get("/<customer_id>/users")
@login_required
def users(customer_id: str):
    page = api().account.users(customer_id)
    limit = api().account.revocation_limit(customer_id)
    return render_template(
        "license_account/users.html",
        customer=customer_header(customer_id),
        users=page.get("items", []),
        monthly_limit=limit.get("monthly_limit"),
        revoked_this_month=limit.get("revoked_this_month"),
    )


@bp.post("/<customer_id>/licenses/<license_id>/revoke")
@login_required
def revoke(customer_id: str, license_id: str):
    try:
        api().account.revoke(customer_id, license_id)
    except Conflict as exc:
        flash(exc.message)
    else:
        flash(f"{license_id} is revoked and available to assign again.")
    return redirect(url_for("license_account.users", customer_id=customer_id))


# -- overview: licenses by product --------------------------------------------------------------

MAX_PAGES = 50


def counts_by_product(customer_id: str) -> list[dict]:
    """Per product: assigned, available and expired (suspended counts with assigned)."""
    counts: dict[str, dict] = {}
    cursor = None
    for _ in range(MAX_PAGES):
        page = api().licenses.list(customer_id, limit=100, cursor=cursor)
        for lic in page.get("items", []):
            row = counts.setdefault(
                lic["product"],
                {"product": lic["product"], "assigned": 0, "available": 0, "expired": 0},
            )
            status = lic["status"]
            row["expired" if status == "expired" else (
                "available" if status == "available" else "assigned"
            )] += 1  # fmt: skip
        cursor = page.get("next_cursor")
        if not cursor:
            break
    rows = sorted(counts.values(), key=lambda r: r["product"])
    for row in rows:
        row["total"] = row["assigned"] + row["available"] + row["expired"]
    return rows


@bp.get("/<customer_id>/overview")
@login_required
def overview(customer_id: str):
    return render_template(
        "license_account/overview.html",
        customer=customer_header(customer_id),
        rows=counts_by_product(customer_id),
    )


# -- teams --------------------------------------------------------------------------------------


def render_teams(customer_id: str, create: Form | None = None, edits: dict | None = None,
                 status: int = 200):  # fmt: skip
    """The account's teams with their license counts: create, rename, merge into another.
    ``edits`` holds a team's rename or merge form that came back with an error."""
    teams = api().licenses.teams(customer_id)
    edits = edits or {}
    rows = [
        {
            "team": t,
            "rename": edits.get(t["team_id"], {}).get("rename") or Form(name=t["name"]),
            "merge": edits.get(t["team_id"], {}).get("merge") or Form(),
            "others": [(o["team_id"], o["name"]) for o in teams if o["team_id"] != t["team_id"]],
        }
        for t in teams
    ]
    return render_template(
        "license_account/teams.html",
        customer=customer_header(customer_id),
        rows=rows,
        create=create or Form(),
    ), status


@bp.get("/<customer_id>/teams")
@login_required
def teams(customer_id: str):
    return render_teams(customer_id)


def refused(form: Form, field: str, call):
    """``call()``'s answer; or None, with the API's refusal (422, 409) next to ``field``."""
    try:
        return call()
    except Invalid as exc:
        form.take_api_errors(exc.errors, {field: field})
        if not exc.errors:
            form.error(field, exc.message)
    except Conflict as exc:
        form.error(field, exc.message)
    return None


def back_to_teams(customer_id: str, message: str):
    flash(message)
    return redirect(url_for("license_account.teams", customer_id=customer_id))


@bp.post("/<customer_id>/teams")
@login_required
def create_team(customer_id: str):
    form = Form(request.form)
    name = form.require("name", "Enter a name for the team.")
    if form.ok:
        team = refused(form, "name", lambda: api().licenses.create_team(customer_id, name))
        if team:
            return back_to_teams(customer_id, f"Team {team['name']} ({team['team_id']}) created.")
    return render_teams(customer_id, create=form, status=422)


@bp.post("/<customer_id>/teams/<team_id>/rename")
@login_required
def rename_team(customer_id: str, team_id: str):
    form = Form(request.form)
    name = form.require("name", "Enter the team's new name.")
    if form.ok:
        team = refused(form, "name", lambda: api().licenses.rename_team(customer_id, team_id, name))
        if team:
            return back_to_teams(customer_id, f"Team {team_id} is now called {team['name']}.")
    return render_teams(customer_id, edits={team_id: {"rename": form}}, status=422)


@bp.post("/<customer_id>/teams/<team_id>/merge")
@login_required
def merge_team(customer_id: str, team_id: str):
    form = Form(request.form)
    into = form.require("into_team_id", "Choose the team to merge it into.")
    if form.ok:
        merged = refused(
            form, "into_team_id", lambda: api().licenses.merge_team(customer_id, team_id, into)
        )
        if merged:
            count = merged["moved_licenses"]
            return back_to_teams(
                customer_id,
                f"Team {team_id} is merged into {merged['team']['name']}: {count} license"
                f"{'' if count == 1 else 's'} moved, and the team is gone.",
            )
    return render_teams(customer_id, edits={team_id: {"merge": form}}, status=422)


@bp.post("/<customer_id>/licenses/transfer")
@login_required
def transfer(customer_id: str):
    """``Transfer``: the licenses checked in the list move to the chosen team (one call per
    team they come from); the list shows again with the same filters."""
    form = Form(request.form)
    back = {k[5:]: v for k, v in request.form.items() if k.startswith("back_") and v}
    to = form.require("to_team_id", "Choose the team to move the licenses to.")
    picked: dict[str, list[str]] = {}
    for value in request.form.getlist("license"):
        source, _, license_id = value.partition("/")
        if not source or not license_id:
            form.error("_form", "Some checked licenses could not be read; check them again.")
            break
        if source != to:
            picked.setdefault(source, []).append(license_id)
    if not request.form.getlist("license"):
        form.error("_form", "Check the licenses to move first.")
    if form.ok:
        moved = 0
        try:
            for source, license_ids in picked.items():
                api().licenses.transfer(customer_id, source, license_ids, to)
                moved += len(license_ids)
        except Invalid as exc:
            message = next(iter(exc.errors.values()), [exc.message])[0]
            field = "to_team_id" if "to_team_id" in exc.errors else "_form"
            form.error(field, message)
        else:
            names = dict(products_and_teams(customer_id)[1])
            flash(f"{moved} license{'' if moved == 1 else 's'} moved to {names.get(to, to)}.")
            return redirect(url_for("customers.licenses", customer_id=customer_id, **back))
    return render_licenses(customer_id, back, transfer=form, status=422)
