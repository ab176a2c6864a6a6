"""My licenses links: one by e-mail for a holder who asks, and the gateway redeeming one."""

from __future__ import annotations

from license_assign import events, holder_links, queries
from license_assign.commands import RedeemHolderLink, RequestHolderLink
from license_assign.config import LicenseAssignConfig
from portal_runtime.clock import Clock
from portal_runtime.uow import UnitOfWork


def request_holder_link(
    cmd: RequestHolderLink, uow: UnitOfWork, clock: Clock, config: LicenseAssignConfig
) -> None:
    """A link by e-mail if the address holds a license; nothing otherwise (the caller answers
    the same either way)."""
    email = cmd.email.strip().lower()
    held = queries.held_licenses(uow.session, email)
    if held:
        token, expires_at = holder_links.issue_holder_link(
            uow, email, clock.now(), config.holder_link_days
        )
        uow.record(
            "licensing.holder_link.issued",
            events.holder_link_issued(held[0], email, token, expires_at, len(held)),
        )


def redeem_holder_link(cmd: RedeemHolderLink, uow: UnitOfWork, clock: Clock) -> dict:
    return {"email": holder_links.spend(uow.session, cmd.token, clock.now()).email}
