"""Invitation links: creating, regenerating and disabling them, and claiming a license by one."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from license_assign import accounts, events, invitations, views
from license_assign.accounts import Gone, token_hash
from license_assign.assignments import (
    NoFreeLicense,
    complete_assignment,
    holds_product,
    require_known_product,
    take_free_license,
)
from license_assign.commands import (
    ClaimInvitation,
    CreateInvitationLink,
    DisableInvitationLink,
    RegenerateInvitationLink,
)
from license_assign.config import LicenseAssignConfig
from license_assign.models import InvitationClaim, InvitationLink, ReplacedInvitationToken
from license_assign.ports import CodeSigner
from portal_runtime.clock import Clock
from portal_runtime.errors import Conflict, Invalid, NotFound
from portal_runtime.uow import UnitOfWork

ALREADY_CLAIMED = "You have already claimed a license through this link."


def create_invitation_link(
    cmd: CreateInvitationLink, uow: UnitOfWork, clock: Clock, config: LicenseAssignConfig
) -> dict:
    """The new link, with its token and URL (shown this once: only a hash is stored)."""
    domains = invitations.allowed_domains(list(cmd.allowed_domains))
    if cmd.expires_at and cmd.expires_at <= clock.now():
        raise Invalid("expires_at", "Must be in the future.")
    token = invitations.new_token()
    accounts.require_customer(uow.session, cmd.customer_id)
    product = require_known_product(uow.session, cmd.customer_id, cmd.product)
    team = accounts.require_team(uow.session, cmd.customer_id, cmd.team_id)
    link = InvitationLink(
        customer_id=cmd.customer_id,
        team_pk=team.id,
        product=product,
        token_hash=token_hash(token),
        expires_at=cmd.expires_at,
        allowed_domains=",".join(domains) or None,
        max_claims=cmd.max_claims,
        claims_count=0,
        enabled=True,
        created_at=clock.now(),
    )
    link.team = team
    uow.session.add(link)
    uow.session.flush()
    link.link_id = f"IL-{link.id}"
    return views.link_view(link, invitations.claim_url(config.portal_base_url, token), token)


def regenerate_invitation_link(
    cmd: RegenerateInvitationLink, uow: UnitOfWork, clock: Clock, config: LicenseAssignConfig
) -> dict:
    token = invitations.new_token()
    link = invitations.find_link(uow.session, cmd.customer_id, cmd.link_id)
    # The old URL is remembered, so that opening it says it was replaced (410).
    uow.session.add(
        ReplacedInvitationToken(
            link_pk=link.id, token_hash=link.token_hash, replaced_at=clock.now()
        )
    )
    link.token_hash = token_hash(token)
    link.regenerated_at = clock.now()
    return views.link_view(link, invitations.claim_url(config.portal_base_url, token), token)


def disable_invitation_link(cmd: DisableInvitationLink, uow: UnitOfWork) -> None:
    invitations.find_link(uow.session, cmd.customer_id, cmd.link_id).enabled = False


def claim_invitation(
    cmd: ClaimInvitation,
    uow: UnitOfWork,
    codes: CodeSigner,
    clock: Clock,
    config: LicenseAssignConfig,
) -> dict:
    """A free license of the link's product (in its team) for the person, once per person per
    link; the license with its activation code."""
    person, now, today = cmd.person, clock.now(), clock.today()
    # Claims on one link queue on its row, so max_claims and once-per-person hold.
    link = uow.session.scalar(
        select(InvitationLink)
        .where(InvitationLink.token_hash == token_hash(cmd.token))
        .with_for_update(of=InvitationLink)
    )
    if link is None:
        raise invitations.replaced_or_missing(uow.session, cmd.token)
    if not link.enabled:
        raise NotFound("invitation")
    if invitations.expired(link, now):
        raise Gone(invitations.EXPIRED)
    domain = person["email"].rsplit("@", 1)[-1]
    if link.domains and domain not in link.domains:
        raise Invalid("email", "This invitation is for other email domains.")
    already = uow.session.scalar(
        select(InvitationClaim.id).where(
            InvitationClaim.link_pk == link.id, InvitationClaim.email == person["email"]
        )
    )
    if already is not None:
        raise Conflict(ALREADY_CLAIMED)
    # As with a direct assignment: one license of a product per person in an account. The
    # account is locked: claims through two links of one product take turns here.
    customer = accounts.require_customer(uow.session, link.customer_id, lock=True)
    if holds_product(uow.session, link.customer_id, link.product, person["email"], today):
        raise Conflict(
            f"You already hold a {link.product} license in this account; no second one was taken."
        )
    if link.max_claims is not None and link.claims_count >= link.max_claims:
        raise Conflict("This invitation link has reached its maximum number of claims.")
    try:
        lic = take_free_license(
            uow.session, link.customer_id, link.product, link.team_pk, person["email"], today, now
        )
    except NoFreeLicense:
        raise Conflict("No free license is left for this invitation.") from None
    complete_assignment(
        uow, customer, lic, person, "claimed", codes=codes, clock=clock, config=config
    )
    uow.session.add(
        InvitationClaim(
            link_pk=link.id, email=person["email"], license_id=lic.license_id, claimed_at=now
        )
    )
    link.claims_count += 1
    uow.record("licensing.invitation.claimed", events.invitation_claimed(link, customer, lic))
    try:
        uow.session.flush()
    except IntegrityError:
        raise Conflict(ALREADY_CLAIMED) from None
    return views.claimed_view(lic)
