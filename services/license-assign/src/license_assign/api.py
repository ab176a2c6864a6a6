"""license-assign's HTTP API: customers' licenses (through the gateway), the public invitation
claim and activation-code routes, and the internal reads other services make."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import secrets

from flask import Blueprint, request
from marshmallow import ValidationError
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from license_assign import accounts, bulk_assignments, views
from license_assign.accounts import token_hash
from license_assign.assignments import (
    Licensing,
    NoFreeLicense,
    complete_assignment,
    holds_product,
    person_of,
    revocations_this_month,
    revoke,
    take,
    take_free_license,
)
from license_assign.models import (
    AssignmentJob,
    Customer,
    CustomerPerson,
    InvitationClaim,
    InvitationLink,
    License,
    ManagingReseller,
    ReplacedInvitationToken,
    SubscriptionPack,
    Team,
)
from license_assign.offline_verifier import InvalidCode
from portal_contracts.api.common import PersonSchema
from portal_contracts.api.licenses import (
    ASSIGN_AT_ONCE_ROWS,
    MAX_ASSIGNEES,
    AssignmentRequest,
    ClaimRequest,
    CreateInvitationLinkRequest,
    CreateTeamRequest,
    CsvAssignmentArgs,
    LicenseListArgs,
    MergeTeamRequest,
    RenameTeamRequest,
    TransferRequest,
    VerifyCodeRequest,
)
from portal_runtime.identity import Identity
from portal_runtime.problems import Problem, conflict, invalid, not_found
from portal_runtime.queries import equals_ci, page
from portal_runtime.web import (
    current_identity,
    current_service,
    customer_access,
    json_body,
    require_role,
    unit_of_work,
)

bp = Blueprint("license_assign", __name__)

MANAGING_ROLES = ("admin", "sales")


def ctx() -> Licensing:
    return current_service().licensing


def list_args() -> tuple[str | None, str | None]:
    """The ``limit`` and ``cursor`` a list route was asked for."""
    return request.args.get("limit"), request.args.get("cursor")


def acting_on(customer_id: str) -> Identity:
    """The caller, if it may see this account (404 otherwise); resellers need a managing role."""
    identity = customer_access(customer_id)
    require_role(identity, *MANAGING_ROLES)
    with current_service().sessions() as session:
        accounts.require_customer(session, customer_id)
    return identity


def live_licenses(customer_id: str):
    return select(License).where(License.customer_id == customer_id, License.removed_at.is_(None))


def require_known_product(session, customer_id: str, product: str) -> str:
    """The product code, if the account holds (or held: expired and suspended count) licenses of
    it; a product it has no licenses of is unknown to it (422), whether or not it is sold."""
    code = product.strip().upper()
    held = session.scalar(live_licenses(customer_id).where(License.product == code).limit(1))
    if held is None:
        raise invalid(
            {"product": [f"No such product in this account: it holds no {code} licenses."]}
        )
    return code


def find_license(session, customer_id: str, license_id: str) -> License:
    lic = session.scalar(live_licenses(customer_id).where(License.license_id == license_id))
    if lic is None:
        raise not_found("license")
    return lic


# -- licenses -----------------------------------------------------------------------------------


@bp.get("/customers/<customer_id>/licenses")
def list_licenses(customer_id: str):
    acting_on(customer_id)
    args = LicenseListArgs().load(request.args.to_dict())
    today = ctx().today()
    query = live_licenses(customer_id)
    if args.get("product"):
        query = query.where(License.product == args["product"].strip().upper())
    if args.get("team_id"):
        query = query.join(Team, Team.id == License.team_pk).where(Team.team_id == args["team_id"])
    if args.get("subscription_pack"):
        query = query.join(SubscriptionPack, SubscriptionPack.id == License.pack_pk).where(
            SubscriptionPack.number == args["subscription_pack"].strip().upper()
        )
    if args.get("assignee_email"):
        query = query.where(equals_ci(License.assignee_email, args["assignee_email"]))
    status = args.get("status")
    if status == "suspended":
        query = query.where(License.suspended.is_(True))
    elif status == "expired":
        query = query.where(License.suspended.is_(False), License.valid_until < today)
    elif status in ("assigned", "available"):
        query = query.where(License.suspended.is_(False), License.valid_until >= today)
        held = License.assignee_email.is_not(None)
        query = query.where(held if status == "assigned" else ~held)
    with current_service().sessions() as session:
        rows, next_cursor = page(
            session, query, License.id, request.args.get("limit"), request.args.get("cursor")
        )
        items = [views.license_view(lic, today) for lic in rows]
    return {"items": items, "next_cursor": next_cursor}


@bp.get("/customers/<customer_id>/licenses/<license_id>")
def get_license(customer_id: str, license_id: str):
    acting_on(customer_id)
    with current_service().sessions() as session:
        return views.license_view(find_license(session, customer_id, license_id), ctx().today())


@bp.get("/customers/<customer_id>/licenses/<license_id>/activation-code")
def get_activation_code(customer_id: str, license_id: str):
    acting_on(customer_id)
    with current_service().sessions() as session:
        lic = find_license(session, customer_id, license_id)
        if not lic.activation_code:
            raise conflict("The license is not assigned; assign it to get an activation code.")
        return {
            "license_id": lic.license_id,
            "activation_code": lic.activation_code,
            "valid_until": lic.valid_until.isoformat(),
            "fallback_version": lic.fallback_version,
        }


@bp.post("/customers/<customer_id>/licenses/<license_id>/revoke")
def revoke_license(customer_id: str, license_id: str):
    acting_on(customer_id)
    context = ctx()
    with unit_of_work() as uow:
        # Locked: revocations at once count one after another against the monthly cap.
        customer = accounts.require_customer(uow.session, customer_id, lock=True)
        lic = uow.session.scalar(
            live_licenses(customer_id)
            .where(License.license_id == license_id)
            .with_for_update(of=License)
        )
        if lic is None:
            raise not_found("license")
        if lic.assignee_email is None:
            raise conflict("The license is not assigned to anyone.")
        cap = context.config.monthly_revocation_cap
        if (
            cap is not None
            and revocations_this_month(uow.session, customer_id, context.clock.now()) >= cap
        ):
            raise conflict(f"This account may revoke at most {cap} licenses per month.")
        revoke(uow, context, customer, lic)
        uow.commit()
        return views.license_view(lic, context.today())


# -- assignments --------------------------------------------------------------------------------


@bp.post("/customers/<customer_id>/assignments")
def assign_licenses(customer_id: str):
    acting_on(customer_id)
    if (request.mimetype or "").lower() in ("text/csv", "application/csv"):
        args = CsvAssignmentArgs().load(request.args.to_dict())
        if not (args.get("product") or "").strip():
            raise invalid({"product": ["Give the product in the query string: ?product=PC."]})
        people, failed = parse_csv(request.get_data(as_text=False))
        return assign_many(customer_id, args["product"], args.get("team_id"), people, failed)
    data = AssignmentRequest().load(json_body())
    if "license_id" in data:
        return assign_one(customer_id, data["license_id"], person_of(data["assignee"]))
    people = [(row, person_of(p)) for row, p in enumerate(data["assignees"], start=1)]
    return assign_many(customer_id, data["product"], data.get("team_id"), people, [])


def csv_rows(text: str):
    """``(row, cells)`` with rows counted from 1 after the header (the header is row 0).

    A row the csv module cannot read (a field over its size limit, a stray quote) is a 422
    naming that row rather than a 500.
    """
    reader = csv.reader(io.StringIO(text))
    row = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            where = "The header row" if row == 0 else f"Row {row}"
            raise invalid({"_body": [f"{where} cannot be read as CSV: {exc}."]})
        yield row, cells
        row += 1


def parse_csv(raw: bytes) -> tuple[list[tuple[int, dict]], list[dict]]:
    """Good rows as people and bad rows as ``{row, reason}``; rows count from 1 after the header."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise invalid({"_body": ["The CSV must be UTF-8 text."]})
    reader = csv_rows(text)
    header = [h.strip().lower() for h in next(reader, (0, []))[1]]
    wanted = ("first_name", "last_name", "email")
    if any(column not in header for column in wanted):
        raise invalid({"_body": ["The CSV needs a header row: first_name,last_name,email."]})
    where = {column: header.index(column) for column in wanted}
    people, failed = [], []
    schema = PersonSchema()
    for row, cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        if row > MAX_ASSIGNEES:
            raise invalid({"_body": [f"At most {MAX_ASSIGNEES} rows at once."]})
        values = {c: (cells[i].strip() if i < len(cells) else "") for c, i in where.items()}
        try:
            people.append((row, person_of(schema.load(values))))
        except ValidationError as exc:
            reason = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.messages.items())
            failed.append({"row": row, "email": values["email"] or None, "reason": reason})
    return people, failed


def assign_many(
    customer_id: str,
    product: str,
    team_id: str | None,
    people: list[tuple[int, dict]],
    failed: list[dict],
):
    """Up to ``ASSIGN_AT_ONCE_ROWS`` rows at once; more become a job (``202``, the worker
    assigns them; GET the job for its progress and result)."""
    context = ctx()
    with unit_of_work() as uow:
        customer = accounts.require_customer(uow.session, customer_id)
        product = require_known_product(uow.session, customer_id, product)
        team_pk = None
        if team_id:
            team_pk = accounts.require_team(uow.session, customer_id, team_id, "team_id").id
        if len(people) + len(failed) > ASSIGN_AT_ONCE_ROWS:
            job = bulk_assignments.create_job(
                uow.session, customer_id, product, team_pk, people, failed, context.clock.now()
            )
            uow.commit()
            body = bulk_assignments.job_view(uow.session, job)
            location = f"/customers/{customer_id}/assignment-jobs/{job.job_id}"
            return body, 202, {"Location": location}
        assigned, refused = bulk_assignments.assign_people(
            uow, context, customer, product, team_pk, people
        )
        uow.commit()
    failed = sorted(failed + refused, key=lambda f: f["row"])
    return {"assigned": assigned, "failed": failed}


def assign_one(customer_id: str, license_id: str, person: dict):
    context = ctx()
    with unit_of_work() as uow:
        # Locked: revocations at once count one after another against the monthly cap.
        customer = accounts.require_customer(uow.session, customer_id, lock=True)
        lic = uow.session.scalar(
            live_licenses(customer_id)
            .where(License.license_id == license_id)
            .with_for_update(of=License)
        )
        if lic is None:
            raise not_found("license")
        if lic.status(context.today()) != "available":
            raise conflict(f"The license is {lic.status(context.today())}, not available.")
        if holds_product(uow.session, customer_id, lic.product, person["email"], context.today()):
            raise conflict(f"{person['email']} already holds a {lic.product} license.")
        if not take(uow.session, lic, person["email"], context.clock.now()):
            raise conflict("The license was assigned to someone else meanwhile.")
        complete_assignment(uow, context, customer, lic, person, "assigned")
        uow.commit()
        return {"assigned": [views.assigned_view(lic, 1)], "failed": []}


# -- teams --------------------------------------------------------------------------------------


@bp.get("/customers/<customer_id>/teams")
def list_teams(customer_id: str):
    acting_on(customer_id)
    with current_service().sessions() as session:
        accounts.require_customer(session, customer_id)
        counts = dict(
            session.execute(
                select(License.team_pk, func.count(License.id))
                .where(License.customer_id == customer_id, License.removed_at.is_(None))
                .group_by(License.team_pk)
            ).all()
        )
        teams, next_cursor = page(
            session,
            select(Team).where(Team.customer_id == customer_id),
            Team.id,
            *list_args(),
            oldest_first=True,
        )
        return {
            "items": [views.team_view(t, counts.get(t.id, 0)) for t in teams],
            "next_cursor": next_cursor,
        }


def team_name_of(data: dict) -> str:
    name = data["name"].strip()
    if not name:
        raise invalid({"name": ["A team needs a name."]})
    return name


def refuse_taken_name(session, customer_id: str, name: str, other_than: int | None = None):
    """Team names are unique per account, whatever their case (409)."""
    query = select(Team.id).where(
        Team.customer_id == customer_id, func.lower(Team.name) == name.lower()
    )
    if other_than is not None:
        query = query.where(Team.id != other_than)
    if session.scalar(query):
        raise conflict(f"This account already has a team named {name!r}.")


def license_count(session, team: Team) -> int:
    return session.scalar(
        select(func.count(License.id)).where(
            License.team_pk == team.id, License.removed_at.is_(None)
        )
    )


@bp.post("/customers/<customer_id>/teams")
def create_team(customer_id: str):
    acting_on(customer_id)
    name = team_name_of(CreateTeamRequest().load(json_body()))
    with unit_of_work() as uow:
        accounts.require_customer(uow.session, customer_id)
        refuse_taken_name(uow.session, customer_id, name)
        team = accounts.create_team(uow.session, customer_id, name)
        try:
            uow.commit()
        except IntegrityError:
            raise conflict("This account already has a team of that name.")
        body = views.team_view(team)
    return body, 201, {"Location": f"/api/v1/customers/{customer_id}/teams/{team.team_id}"}


@bp.patch("/customers/<customer_id>/teams/<team_id>")
def rename_team(customer_id: str, team_id: str):
    acting_on(customer_id)
    name = team_name_of(RenameTeamRequest().load(json_body()))
    with unit_of_work() as uow:
        team = uow.session.scalar(
            select(Team)
            .where(Team.customer_id == customer_id, Team.team_id == team_id)
            .with_for_update()
        )
        if team is None:
            raise not_found("team")
        refuse_taken_name(uow.session, customer_id, name, other_than=team.id)
        team.name = name
        try:
            uow.commit()
        except IntegrityError:
            raise conflict(f"This account already has a team named {name!r}.")
        return views.team_view(team, license_count(uow.session, team))


@bp.post("/customers/<customer_id>/teams/<team_id>/merge")
def merge_team(customer_id: str, team_id: str):
    """Every license (and invitation link, and waiting assignment job) of the team moves into
    the other team, and the team goes away. Merging the default team makes the other one the
    default (new licenses land there)."""
    acting_on(customer_id)
    data = MergeTeamRequest().load(json_body())
    into_id = data["into_team_id"].strip()
    if into_id == team_id:
        raise conflict("A team cannot be merged into itself: choose another team.")
    with unit_of_work() as uow:
        # Both rows locked, in key order: two merges at once cannot lose a team's licenses.
        teams = {
            t.team_id: t
            for t in uow.session.scalars(
                select(Team)
                .where(Team.customer_id == customer_id, Team.team_id.in_([team_id, into_id]))
                .order_by(Team.id)
                .with_for_update()
            )
        }
        source = teams.get(team_id)
        if source is None:
            raise not_found("team")
        target = teams.get(into_id)
        if target is None:
            raise invalid({"into_team_id": ["No such team in this account."]})
        moved = uow.session.execute(
            update(License).where(License.team_pk == source.id).values(team_pk=target.id)
        ).rowcount
        links = uow.session.execute(
            update(InvitationLink)
            .where(InvitationLink.team_pk == source.id)
            .values(team_pk=target.id)
        ).rowcount
        uow.session.execute(
            update(AssignmentJob)
            .where(AssignmentJob.team_pk == source.id)
            .values(team_pk=target.id)
        )
        if source.is_default:
            target.is_default = True
        uow.session.delete(source)
        uow.session.flush()
        body = {
            "merged_team_id": team_id,
            "moved_licenses": moved,
            "moved_invitation_links": links,
            "team": views.team_view(target, license_count(uow.session, target)),
        }
        uow.commit()
    return body


@bp.post("/customers/<customer_id>/teams/<team_id>/transfer")
def transfer_licenses(customer_id: str, team_id: str):
    acting_on(customer_id)
    data = TransferRequest().load(json_body())
    with unit_of_work() as uow:
        source = accounts.find_team(uow.session, customer_id, team_id)
        if source is None:
            raise not_found("team")
        target = accounts.require_team(uow.session, customer_id, data["to_team_id"], "to_team_id")
        wanted = list(dict.fromkeys(data["license_ids"]))
        rows = uow.session.scalars(
            live_licenses(customer_id).where(
                License.license_id.in_(wanted), License.team_pk == source.id
            )
        ).all()
        found = {lic.license_id for lic in rows}
        missing = [lid for lid in wanted if lid not in found]
        if missing:
            raise invalid(
                {"license_ids": [f"Not in team {team_id}: {', '.join(missing)}."]},
            )
        for lic in rows:
            lic.team_pk = target.id
            lic.team = target
        uow.commit()
    return {"from_team_id": team_id, "to_team_id": target.team_id, "license_ids": wanted}


# Active users, subscription packs, renewals and the licensing report: account_lists.py.


# -- invitation links ---------------------------------------------------------------------------


def new_token() -> str:
    return secrets.token_urlsafe(32)


def claim_url(token: str) -> str:
    # The page a person opens in a browser (it claims through POST /invitations/{token}/claim).
    return f"{current_service().config.portal_base_url}/portal/invitations/{token}"


def find_link(session, customer_id: str, link_id: str) -> InvitationLink:
    link = session.scalar(
        select(InvitationLink).where(
            InvitationLink.customer_id == customer_id,
            InvitationLink.link_id == link_id,
            InvitationLink.enabled.is_(True),
        )
    )
    if link is None:
        raise not_found("invitation link")
    return link


DOMAIN_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def domain_name(raw: str) -> str | None:
    """``raw`` as a lower-case domain name (one leading ``@`` allowed, as in ``@example.com``),
    or None when it is not one: labels of letters, digits and inner hyphens, at least two."""
    text = raw.strip().lower()
    if text.startswith("@"):
        text = text[1:]
    if not text or len(text) > 253:
        return None
    try:
        ascii_form = text.encode("idna").decode("ascii")  # international names, as DNS has them
    except UnicodeError:
        return None
    labels = ascii_form.split(".")
    if len(labels) < 2 or not all(DOMAIN_LABEL.match(label) for label in labels):
        return None
    if labels[-1].isdigit():
        return None  # an IP address, not a domain
    return text


@bp.get("/customers/<customer_id>/invitation-links")
def list_links(customer_id: str):
    acting_on(customer_id)
    with current_service().sessions() as session:
        links, next_cursor = page(
            session,
            select(InvitationLink).where(InvitationLink.customer_id == customer_id),
            InvitationLink.id,
            *list_args(),
            oldest_first=True,
        )
        return {"items": [views.link_view(link) for link in links], "next_cursor": next_cursor}


@bp.post("/customers/<customer_id>/invitation-links")
def create_link(customer_id: str):
    acting_on(customer_id)
    data = CreateInvitationLinkRequest().load(json_body())
    given = [d for d in data.get("allowed_domains") or [] if d.strip()]
    domains = sorted({domain_name(d) for d in given})
    if None in domains:
        bad = ", ".join(repr(d) for d in given if domain_name(d) is None)
        raise invalid(
            {"allowed_domains": [f"Not domain names: {bad}. Give domains like example.com."]}
        )
    if data.get("expires_at") and data["expires_at"] <= ctx().clock.now():
        raise invalid({"expires_at": ["Must be in the future."]})
    token = new_token()
    with unit_of_work() as uow:
        accounts.require_customer(uow.session, customer_id)
        product = require_known_product(uow.session, customer_id, data["product"])
        team = accounts.require_team(uow.session, customer_id, data["team_id"], "team_id")
        link = InvitationLink(
            customer_id=customer_id,
            team_pk=team.id,
            product=product,
            token_hash=token_hash(token),
            expires_at=data.get("expires_at"),
            allowed_domains=",".join(domains) or None,
            max_claims=data.get("max_claims"),
            claims_count=0,
            enabled=True,
            created_at=ctx().clock.now(),
        )
        link.team = team
        uow.session.add(link)
        uow.session.flush()
        link.link_id = f"IL-{link.id}"
        uow.commit()
        body = views.link_view(link, claim_url(token), token)
    location = f"/api/v1/customers/{customer_id}/invitation-links/{link.link_id}"
    return body, 201, {"Location": location}


@bp.post("/customers/<customer_id>/invitation-links/<link_id>/regenerate")
def regenerate_link(customer_id: str, link_id: str):
    acting_on(customer_id)
    token = new_token()
    with unit_of_work() as uow:
        link = find_link(uow.session, customer_id, link_id)
        # The old URL is remembered, so that opening it says it was replaced (410).
        uow.session.add(
            ReplacedInvitationToken(
                link_pk=link.id, token_hash=link.token_hash, replaced_at=ctx().clock.now()
            )
        )
        link.token_hash = token_hash(token)
        link.regenerated_at = ctx().clock.now()
        uow.commit()
        return views.link_view(link, claim_url(token), token)


@bp.delete("/customers/<customer_id>/invitation-links/<link_id>")
def disable_link(customer_id: str, link_id: str):
    acting_on(customer_id)
    with unit_of_work() as uow:
        link = find_link(uow.session, customer_id, link_id)
        link.enabled = False
        uow.commit()
    return "", 204


REPLACED = (
    "This invitation link has been replaced by a new one: ask the person who sent it to you"
    " for the current link."
)


def replaced_or_missing(session, token: str) -> Problem:
    """For a token that is no link's: 410 if it is a regenerated link's old one, else 404."""
    old = session.scalar(
        select(ReplacedInvitationToken.id).where(
            ReplacedInvitationToken.token_hash == token_hash(token)
        )
    )
    return Problem(410, REPLACED) if old is not None else not_found("invitation link")


@bp.post("/invitations/<token>/claim")
def claim_invitation(token: str):
    """Public: anyone with the URL claims a free license, once per person per link."""
    data = ClaimRequest().load(json_body())
    person = person_of(data)
    context = ctx()
    now = context.clock.now()
    with unit_of_work() as uow:
        # Claims on one link queue on its row, so max_claims and once-per-person hold.
        link = uow.session.scalar(
            select(InvitationLink)
            .where(InvitationLink.token_hash == token_hash(token))
            .with_for_update(of=InvitationLink)
        )
        if link is None:
            raise replaced_or_missing(uow.session, token)
        if not link.enabled:
            raise not_found("invitation")
        if link.expires_at is not None and link.expires_at <= now:
            raise Problem(410, "This invitation link has expired.")
        domain = person["email"].rsplit("@", 1)[-1]
        if link.domains and domain not in link.domains:
            raise invalid({"email": ["This invitation is for other email domains."]})
        already = uow.session.scalar(
            select(InvitationClaim.id).where(
                InvitationClaim.link_pk == link.id, InvitationClaim.email == person["email"]
            )
        )
        if already is not None:
            raise conflict("You have already claimed a license through this link.")
        # As with a direct assignment: one license of a product per person in an account. The
        # account is locked: claims through two links of one product take turns here.
        customer = accounts.require_customer(uow.session, link.customer_id, lock=True)
        if holds_product(
            uow.session, link.customer_id, link.product, person["email"], context.today()
        ):
            raise conflict(
                f"You already hold a {link.product} license in this account;"
                " no second one was taken."
            )
        if link.max_claims is not None and link.claims_count >= link.max_claims:
            raise conflict("This invitation link has reached its maximum number of claims.")
        try:
            lic = take_free_license(
                uow.session,
                link.customer_id,
                link.product,
                link.team_pk,
                person["email"],
                context.today(),
                now,
            )
        except NoFreeLicense:
            raise conflict("No free license is left for this invitation.")
        complete_assignment(uow, context, customer, lic, person, "claimed")
        uow.session.add(
            InvitationClaim(
                link_pk=link.id, email=person["email"], license_id=lic.license_id, claimed_at=now
            )
        )
        link.claims_count += 1
        uow.record(
            "licensing.invitation.claimed",
            {
                "link_id": link.link_id,
                "customer_id": customer.id,
                "customer_name": customer.name,
                "product": lic.product,
                "license_id": lic.license_id,
                "claimant": lic.assignee,
                "admin_emails": customer.admin_emails or customer.contacts,
            },
        )
        try:
            uow.commit()
        except IntegrityError:
            raise conflict("You have already claimed a license through this link.")
        body = views.assigned_view(lic)
        body["activation_code"] = lic.activation_code
    return body, 201


# -- activation codes (public) ------------------------------------------------------------------


@bp.post("/activation-codes/verify")
def verify_activation_code():
    data = VerifyCodeRequest().load(json_body())
    context = ctx()
    try:
        payload = context.codes.verify(data["code"])
    except InvalidCode as exc:
        return {"valid": False, "reason": str(exc)}
    answer = {
        "valid": True,
        "license_id": payload["license_id"],
        "product": payload["product"],
        "licensee": payload["licensee"],
        "valid_until": payload["valid_until"],
        "fallback_version": payload.get("fallback_version"),
        "issued_at": payload.get("issued_at"),
        "expired": dt.date.fromisoformat(payload["valid_until"]) < context.today(),
        "reason": None,
    }
    # Online we also know whether the code is still the license's current one.
    with current_service().sessions() as session:
        lic = session.scalar(
            select(License).where(
                License.license_id == payload["license_id"], License.removed_at.is_(None)
            )
        )
        if lic is None or lic.activation_code is None:
            answer.update(valid=False, reason="The license is no longer assigned.")
        elif lic.activation_code != data["code"].strip():
            answer.update(valid=False, reason="A newer activation code replaces this one.")
        elif lic.suspended:
            answer.update(valid=False, reason="The license is suspended until payment.")
    return answer


@bp.get("/activation-codes/public-key")
def public_key():
    codes = ctx().codes
    return {
        "algorithm": "Ed25519",
        "public_key": codes.public_key_base64,
        "public_key_pem": codes.public_key_pem,
    }


# -- internal reads -----------------------------------------------------------------------------


def customer_directory_view(customer: Customer) -> dict:
    return {
        "id": customer.id,
        "name": customer.name,
        "email": customer.email,
        "contacts": customer.contacts,
        "admin_emails": customer.admin_emails,
        "managing_reseller_ids": [m.reseller_id for m in customer.managing_resellers],
    }


def internal_caller_for(customer_id: str) -> Identity:
    identity = current_identity()
    if not identity.is_service and not identity.may_access(customer_id):
        raise not_found("customer")
    return identity


@bp.get("/internal/customers/<customer_id>")
def internal_customer(customer_id: str):
    internal_caller_for(customer_id)
    with current_service().sessions() as session:
        return customer_directory_view(accounts.require_customer(session, customer_id))


@bp.get("/internal/customers")
def internal_customers():
    current_identity()
    email = (request.args.get("contact_email") or "").strip().lower()
    reseller = (request.args.get("managed_by") or "").strip()
    if not email and not reseller:
        raise invalid({"contact_email": ["Give contact_email or managed_by."]})
    with current_service().sessions() as session:
        if email:
            query = (
                select(Customer)
                .join(CustomerPerson, CustomerPerson.customer_id == Customer.id)
                .where(CustomerPerson.email == email)
            )
        else:
            query = (
                select(Customer)
                .join(ManagingReseller, ManagingReseller.customer_id == Customer.id)
                .where(ManagingReseller.reseller_id == reseller)
            )
        customers = session.scalars(query.distinct().order_by(Customer.id))
        return {"accounts": [{"customer_id": c.id, "name": c.name} for c in customers]}


@bp.post("/internal/customer-access/verify")
def internal_verify_access():
    """One identical 404 for every failure: the caller learns nothing about which part failed."""
    current_identity()
    body = request.get_json(silent=True)
    nothing = not_found("customer")
    if not isinstance(body, dict):
        raise nothing
    by, value, email = body.get("by"), body.get("value"), body.get("email")
    if not all(isinstance(x, str) and x.strip() for x in (by, value, email)):
        raise nothing
    with current_service().sessions() as session:
        customer = None
        if by == "customer_id":
            customer = session.get(Customer, value.strip().upper())
        elif by == "subscription_pack":
            pack = accounts.find_pack(session, value)
            customer = session.get(Customer, pack.customer_id) if pack else None
        if customer is None or not customer.knows_email(email):
            raise nothing
        return {"customer_id": customer.id, "name": customer.name}


@bp.get("/internal/customers/<customer_id>/teams/<team_id>")
def internal_team(customer_id: str, team_id: str):
    """Whether a team is this account's (carts check the team a line is to go to)."""
    internal_caller_for(customer_id)
    with current_service().sessions() as session:
        team = accounts.find_team(session, customer_id, team_id)
        if team is None:
            raise not_found("team")
        return {"team_id": team.team_id, "name": team.name}


@bp.get("/internal/customers/<customer_id>/subscription-packs/<number>")
def internal_pack(customer_id: str, number: str):
    """Whether a subscription pack is this account's (carts check the pack of a line)."""
    internal_caller_for(customer_id)
    with current_service().sessions() as session:
        pack = accounts.find_pack(session, number)
        if pack is None or pack.customer_id != customer_id:
            raise not_found("subscription pack")
        return {"number": pack.number}


@bp.get("/internal/customers/<customer_id>/licenses")
def internal_licenses(customer_id: str):
    internal_caller_for(customer_id)
    wanted = [x.strip() for x in request.args.getlist("license_id") if x.strip()]
    today = ctx().today()
    with current_service().sessions() as session:
        accounts.require_customer(session, customer_id)
        query = live_licenses(customer_id)
        if wanted:
            query = query.where(License.license_id.in_(wanted))
        items = [
            {
                "license_id": lic.license_id,
                "product": lic.product,
                "status": lic.status(today),
                "valid_from": lic.valid_from.isoformat(),
                "valid_until": lic.valid_until.isoformat(),
                "team_id": lic.team.team_id,
                "subscription_pack": lic.pack.number,
                "assignee_email": lic.assignee_email,
                "fallback_version": lic.fallback_version,
                "pending_product": lic.downgrade_to,
            }
            for lic in session.scalars(query.order_by(License.id))
        ]
        return {"items": items}
