"""Outgoing mail: the one way an email is queued, and what emails say of what we know.

An email is rendered and inserted as one outgoing-mail row per (cause, template, recipient), in
the same transaction as the consumer's inbox row; the sender job sends it later
(``notifications.sender``). The row's Message-ID is derived from that triple and unique, so a
redelivered event (even one that slipped past the inbox) finds its row and adds nothing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable

from sqlalchemy import event as orm_event
from sqlalchemy import select

from notifications import mail, sender
from notifications.config import MailSettings
from notifications.models import KnownLicense, OutgoingMail, ProductName
from portal_runtime import logs, wakeup
from portal_runtime.consumer import Event
from portal_runtime.db import PerDialect
from portal_runtime.uow import UnitOfWork

log = logs.get("notifications")


# -- the one way an email is queued ---------------------------------------------------------------


def queue_mail(
    uow: UnitOfWork,
    event: Event,
    settings: MailSettings,
    template: str,
    email: str,
    context: dict,
    *,
    name: str | None = None,
    attachment: dict | None = None,
) -> bool:
    """Render ``template`` for ``email`` and add its row, unless this cause already has it."""
    engine = uow.session.get_bind()
    # Leased to this process's sender job when one runs here: it is handed the row at the commit.
    lease = sender.hand_off_lease(engine)
    message_id = mail.message_id(event.message_id, template, email)
    rendered = mail.render(template, dict(context, recipient_email=email, recipient_name=name))
    row = dict(
        message_id=message_id,
        cause_message_id=event.message_id,
        cause_type=event.type,
        correlation_id=event.correlation_id,
        template=template,
        recipient=email.strip(),
        recipient_name=name or None,
        sender=settings.mail_from,
        subject=rendered.subject,
        text_body=rendered.text,
        html_body=rendered.html,
        attachment=attachment,
        status="pending",
        attempts=0,
        next_attempt_at=lease,
    )
    added = uow.session.execute(_INSERT_UNLESS_QUEUED(engine), row).first()
    if added is None:
        return False
    if lease is None:
        uow.wake(sender.WAKE)  # the sender, once this commits
    else:
        uow.after_commit(lambda: _hand_over(engine, added))
    log.info("mail.queued", template=template, message_id=message_id)
    return True


def _hand_over(engine, row) -> None:
    if not wakeup.hand_over(engine, sender.WAKE, row):
        # The sender job stopped meanwhile: the row is sent once its lease has run out.
        log.warning("mail.hand_over_missed", message_id=row.message_id)


def _insert_unless_queued_on(insert):
    """One statement: the row, unless this cause already has it (its Message-ID is unique). On
    the Core table with the values as parameters, so it is compiled once: the ORM-enabled insert
    took SQLAlchemy's ORM bulk path and a new cache key of every value, on each call. It returns
    the whole row: what the sender is handed, as its claim would have read it."""
    table = OutgoingMail.__table__
    return (
        insert(table)
        .on_conflict_do_nothing(index_elements=[table.c.message_id])
        .returning(*table.c)
    )


_INSERT_UNLESS_QUEUED = PerDialect(_insert_unless_queued_on)


def full_name(person: dict | None) -> str | None:
    return mail.person(person) or None


class ProductNames:
    """Display names of product codes, kept in this process for ``ttl`` seconds: a SELECT per
    event was a tenth of the consumer's CPU.

    Another replica's price list shows here within ``ttl``. This process's own is never read
    stale: while a transaction stores names (``changing``), names are read from the database
    (that transaction's own included) and not kept; when it ends the cache starts over. A read
    that began before a change is not kept either.
    """

    def __init__(self, ttl: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self.clock = clock
        self._lock = threading.Lock()
        self._kept: dict[str, tuple[str | None, float]] = {}  # code -> (name, until)
        self._generation = 0
        self._changing = 0

    def of(self, uow: UnitOfWork, codes: Iterable[str]) -> dict[str, str]:
        """Display names of these product codes (the code itself until the catalog told us)."""
        codes = set(codes)
        now = self.clock()
        with self._lock:
            generation = self._generation
            known = {} if self._changing else self._fresh(codes, now)
        missing = codes - known.keys()
        if missing:
            stored = _stored_names(uow, missing)
            found = {code: stored.get(code) for code in missing}
            self._keep(found, generation, now + self.ttl)
            known.update(found)
        return {code: known[code] or code for code in codes}

    def changing(self, uow: UnitOfWork) -> None:
        """The unit of work's transaction stores names: none are kept until it ends."""
        session = uow.session
        root = session.get_transaction() or session.begin()
        with self._lock:
            self._changing += 1
            self._forget()

        def ended(session, transaction) -> None:
            if transaction is root:
                with self._lock:
                    self._changing -= 1
                    self._forget()

        orm_event.listen(session, "after_transaction_end", ended)

    def _fresh(self, codes: set[str], now: float) -> dict[str, str | None]:
        kept = ((code, self._kept.get(code)) for code in codes)
        return {code: entry[0] for code, entry in kept if entry and entry[1] > now}

    def _keep(self, found: dict[str, str | None], generation: int, until: float) -> None:
        with self._lock:
            if generation == self._generation and not self._changing:
                self._kept.update((code, (name, until)) for code, name in found.items())

    def _forget(self) -> None:
        self._kept.clear()
        self._generation += 1


def _stored_names(uow: UnitOfWork, codes: set[str]) -> dict[str, str]:
    query = select(ProductName.code, ProductName.name).where(ProductName.code.in_(codes))
    return dict(uow.session.execute(query).all())


def unique_emails(emails: Iterable[str]) -> list[str]:
    seen: dict[str, str] = {}
    for address in emails:
        seen.setdefault(address.strip().lower(), address.strip())
    return list(seen.values())


def order_link(settings: MailSettings, payload: dict) -> str:
    return payload.get("portal_url") or settings.link(f"/portal/orders/{payload['order_number']}")


def account_link(settings: MailSettings, customer_id: str) -> str:
    return settings.link(f"/portal/customers/{customer_id}/licenses")


def my_licenses_url(settings: MailSettings, token: str | None) -> str | None:
    return settings.link(f"/portal/my-licenses/{token}") if token else None


def licenses_of(uow: UnitOfWork, product_names: ProductNames, license_ids: list[str]) -> list[dict]:
    """What we know of these licenses, in the order given; an unknown one is just its id."""
    known = {
        row.license_id: row
        for row in uow.session.scalars(
            select(KnownLicense).where(KnownLicense.license_id.in_(license_ids))
        )
    }
    names = product_names.of(uow, (row.product for row in known.values()))
    result = []
    for license_id in license_ids:
        row = known.get(license_id)
        result.append(
            {
                "license_id": license_id,
                "product": names[row.product] if row else None,
                "valid_from": row.valid_from if row else None,
                "valid_until": row.valid_until if row else None,
                "fallback_version": row.fallback_version if row else None,
                "subscription_pack": row.subscription_pack if row else None,
            }
        )
    return result
