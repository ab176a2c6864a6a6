"""My licenses links: single-use, expiring links to a license holder's own page.

Only a link's SHA-256 is stored (``holder_links``); the e-mail is the one place its token is
written. Every assignment e-mail carries a fresh one, and a holder may ask for one by email.
"""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from license_assign.accounts import Gone, token_hash
from license_assign.models import HolderLink
from portal_runtime.errors import NotFound
from portal_runtime.uow import UnitOfWork


def issue_holder_link(
    uow: UnitOfWork, email: str, now: dt.datetime, days: int
) -> tuple[str, dt.datetime]:
    """A new link to ``email``'s own licenses page: ``(token, expires_at)``."""
    token = secrets.token_urlsafe(32)
    expires_at = now + dt.timedelta(days=days)
    uow.session.add(
        HolderLink(
            email=email.strip().lower(),
            token_hash=token_hash(token),
            created_at=now,
            expires_at=expires_at,
        )
    )
    return token, expires_at


def spend(session: Session, token: str, now: dt.datetime) -> HolderLink:
    """The link of ``token``, used now: once, before it expires (410), if it ever was one (404)."""
    link = session.scalar(
        select(HolderLink)
        .where(HolderLink.token_hash == token_hash(token))
        .with_for_update(of=HolderLink)
    )
    if link is None:
        raise NotFound("link")
    if link.used_at is not None:
        raise Gone("This link has been used already. Ask for a new link to your licenses.")
    if link.expires_at <= now:
        raise Gone("This link has expired. Ask for a new link to your licenses.")
    link.used_at = now
    return link
