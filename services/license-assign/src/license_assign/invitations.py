"""Invitation links: their tokens and URLs, the domains a link is for, and why a link no longer
works. Only a token's hash is stored; a regenerated link's old hash is kept, so that its old URL
says it was replaced (410) rather than that it never was (404)."""

from __future__ import annotations

import datetime as dt
import re
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from license_assign.accounts import Gone, token_hash
from license_assign.models import InvitationLink, ReplacedInvitationToken
from portal_runtime.errors import Invalid, NotFound

REPLACED = (
    "This invitation link has been replaced by a new one: ask the person who sent it to you"
    " for the current link."
)
EXPIRED = "This invitation link has expired."

DOMAIN_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def new_token() -> str:
    return secrets.token_urlsafe(32)


def claim_url(portal_base_url: str, token: str) -> str:
    # The page a person opens in a browser (it claims through POST /invitations/{token}/claim).
    return f"{portal_base_url}/portal/invitations/{token}"


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


def allowed_domains(given: list[str]) -> list[str]:
    """The domains a new link is for, sorted and without repeats; 422 naming the bad ones."""
    given = [d for d in given if d.strip()]
    domains = sorted({domain_name(d) for d in given})
    if None in domains:
        bad = ", ".join(repr(d) for d in given if domain_name(d) is None)
        raise Invalid("allowed_domains", f"Not domain names: {bad}. Give domains like example.com.")
    return domains


def replaced_or_missing(session: Session, token: str) -> Gone | NotFound:
    """For a token that is no link's: 410 if it is a regenerated link's old one, else 404."""
    old = session.scalar(
        select(ReplacedInvitationToken.id).where(
            ReplacedInvitationToken.token_hash == token_hash(token)
        )
    )
    return Gone(REPLACED) if old is not None else NotFound("invitation link")


def expired(link: InvitationLink, now: dt.datetime) -> bool:
    return link.expires_at is not None and link.expires_at <= now


def find_link(session: Session, customer_id: str, link_id: str) -> InvitationLink:
    """One of the account's enabled links, or a 404."""
    link = session.scalar(
        select(InvitationLink).where(
            InvitationLink.customer_id == customer_id,
            InvitationLink.link_id == link_id,
            InvitationLink.enabled.is_(True),
        )
    )
    if link is None:
        raise NotFound("invitation link")
    return link
