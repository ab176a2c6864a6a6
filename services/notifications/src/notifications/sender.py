"""The sender job: sends pending mail over SMTP, retries with backoff, never drops a message.

Each run claims due rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite's write lock
serialises claims) by pushing their ``next_attempt_at`` a lease ahead and committing, so a second
sender passes them by; then sends them one by one over one SMTP connection (kept open from run to
run) and marks the sent ones ``sent`` in one statement. A mail that fails records its error alone
and schedules its next attempt ``retry_base * 2**(attempts - 1)`` seconds later (at most
``retry_cap``), the rest of the batch is still sent; after ``max_attempts`` the row is ``failed``
and an error is logged. A row whose message cannot be built at all (an address or header that
cannot be formatted) is ``failed`` at once, with its reason: no retry would change it.
The job sleeps until the consumer that queued a mail wakes it
(``uow.wake("mail")``); its interval is the sweep for retries that come due.

When the sender runs in the consumer's process (the worker), a mail queued there is leased to
it in its own insert and handed over after the commit (``wakeup.hand_over``): the sender sends
it without claiming it first, which was a transaction of its own for every batch. Mails queued
elsewhere, retries that came due and mails of a process that died are claimed as before, at
least once per sweep interval while mails are handed over.

If the process dies after the SMTP server accepted a message and before its row is marked, the
lease runs out and the same message is sent again, with the same Message-ID. That is accepted:
mail systems deduplicate by Message-ID, and the alternative (marking first) could lose a mail.
"""

from __future__ import annotations

import datetime as dt
import smtplib
import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from sqlalchemy import bindparam, func, or_, select, update

from notifications import mail, ports
from notifications.models import FAILED, PENDING, SENT, OutgoingMail
from portal_runtime import logs, wakeup
from portal_runtime.db import is_sqlite

log = logs.get("mail.sender")

# The sender job's doorbell: rung (and handed mails) by the commits that queue mail.
WAKE = "mail"

# Errors after which the connection is of no more use for the rest of the batch (any other
# SMTPException is the server refusing one message; plain OSErrors are the network going away).
CONNECTION_ERRORS = (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError)


def retry_delay(attempts: int, base: float, cap: float) -> float:
    """Seconds to wait after the ``attempts``-th failed try."""
    return min(base * 2 ** (attempts - 1), cap)


def describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:1000]


MAIL = OutgoingMail.__table__


def _claim_statement(locking: bool):
    """``UPDATE ... RETURNING`` of the due rows' lease, built once per kind of database: a
    statement built for every run spent more on its own construction and cache key than on
    the round trip."""
    due = (
        select(MAIL.c.id)
        .where(
            MAIL.c.status == PENDING,
            or_(MAIL.c.next_attempt_at.is_(None), MAIL.c.next_attempt_at <= bindparam("now")),
        )
        .order_by(MAIL.c.id)
        .limit(bindparam("batch"))
    )
    if locking:
        due = due.with_for_update(skip_locked=True)
    # A CTE, so the locked, limited choice is made once (a subquery may be run again per row).
    due = due.cte("due")
    return (
        update(MAIL)
        .where(MAIL.c.id == due.c.id)
        .values(next_attempt_at=bindparam("lease_until"))
        .returning(*MAIL.c)
    )


CLAIM = {locking: _claim_statement(locking) for locking in (False, True)}
MARK_SENT = (
    update(MAIL)
    .where(MAIL.c.id.in_(bindparam("ids", expanding=True)))
    .values(
        status=SENT,
        attempts=MAIL.c.attempts + 1,
        sent_at=bindparam("sent_at"),
        next_attempt_at=None,
        last_error=None,
    )
)


def claim(service, now: dt.datetime) -> list:
    """Take up to a batch of due rows for this sender; others skip them until the lease ends.

    One statement: the due rows' lease is set and the rows come back (``UPDATE ... RETURNING``),
    in id order. Nobody else touches them meanwhile, so read-only rows are all a run needs."""
    config = service.config
    lease_until = now + dt.timedelta(seconds=config.send_claim_seconds)
    statement = CLAIM[not is_sqlite(service.engine)]
    with service.engine.begin() as conn:
        rows = conn.execute(
            statement, {"now": now, "batch": config.send_batch, "lease_until": lease_until}
        ).all()
    return sorted(rows, key=lambda row: row.id)


def release(service, ids: list[int]) -> None:
    """Hand claimed rows back untouched (this run ran out of time before trying them)."""
    if not ids:
        return
    with service.sessions() as session, session.begin():
        for row in session.scalars(select(OutgoingMail).where(OutgoingMail.id.in_(ids))):
            if row.status == PENDING:
                row.next_attempt_at = None


def mark_sent(service, sent: list) -> None:
    """Mark a batch's sent mails ``sent``, in one statement."""
    if not sent:
        return
    with service.engine.begin() as conn:
        conn.execute(
            MARK_SENT, {"ids": [row.id for row in sent], "sent_at": service.mail_clock.now()}
        )
    for row in sent:
        log.info(
            "mail.sent",
            attempts=row.attempts + 1,
            message_id=row.message_id,
            template=row.template,
            correlation_id=row.correlation_id,
        )


def permanently_refused(exc: smtplib.SMTPException) -> bool:
    """The server rejected every recipient with a 5xx code: no retry will change that."""
    return isinstance(exc, smtplib.SMTPRecipientsRefused) and all(
        code >= 500 for code, _ in exc.recipients.values()
    )


def mark_failed_attempt(service, mail_id: int, error: str, permanent: bool = False) -> None:
    config = service.config
    now = service.mail_clock.now()
    with service.sessions() as session, session.begin():
        row = session.get(OutgoingMail, mail_id)
        row.attempts += 1
        row.last_error = error
        if permanent or row.attempts >= config.send_max_attempts:
            row.status = FAILED
            row.failed_at = now
            row.next_attempt_at = None
            log.error(
                "mail.failed",
                message_id=row.message_id,
                attempts=row.attempts,
                error=error,
                recipient=row.recipient,
                cause_type=row.cause_type,
            )
        else:
            delay = retry_delay(row.attempts, config.send_retry_base, config.send_retry_cap)
            row.next_attempt_at = now + dt.timedelta(seconds=delay)
            log.warning(
                "mail.send_failed",
                message_id=row.message_id,
                attempts=row.attempts,
                retry_in=delay,
                error=error,
            )


@dataclass
class _Here:
    """The sender job of this process, for one database."""

    lease_until: Callable[[], dt.datetime]
    last_claim: float = float("-inf")  # time.monotonic() of its last claim


# Keyed like the doorbells (``wakeup``): the database's URL.
_HERE: dict[str, _Here] = {}


def hand_off_lease(engine) -> dt.datetime | None:
    """Until when a mail queued now is leased to this process's sender job, which it is then
    handed to; None when no sender job listens here (the mail waits, unleased, for a claim)."""
    here = _HERE.get(str(engine.url))
    if here is None or not wakeup.listening_here(engine, WAKE):
        return None
    return here.lease_until()


def _lease_left(row, now: dt.datetime) -> float:
    return (row.next_attempt_at - now).total_seconds() if row.next_attempt_at else 0.0


def send_pending(service) -> int:
    """Send what is due; returns how many mails went out."""
    return send_due(service)[0]


def send_while_due(service) -> bool:
    """The mail sender job's run: send the mails handed over and what is due; True when more
    may be due already, so the job runs again at once. Otherwise it waits to be rung: a claim
    short of a full batch took every mail due then, and a mail queued since rang the job's
    doorbell (an empty claim after each run was a transaction of three round trips, two per
    order). Handed mails alone are sent without a claim, unless the last claim is a sweep
    interval old."""
    config = service.config
    claim_seconds = config.send_claim_seconds
    here = _HERE.setdefault(str(service.engine.url), _Here(lease_until=service.mail_clock.now))
    here.lease_until = lambda: service.mail_clock.now() + dt.timedelta(seconds=claim_seconds)
    handed = wakeup.take_handed(service.engine, WAKE, config.send_batch)
    claim_too = not handed or time.monotonic() - here.last_claim >= config.send_interval
    if claim_too:
        here.last_claim = time.monotonic()
    _, more = send_due(service, handed, claim_too=claim_too)
    return more or len(handed) >= config.send_batch


def send_due(service, handed: list = (), claim_too: bool = True) -> tuple[int, bool]:
    """One batch: the rows ``handed`` over (leased to this sender when they were queued) and,
    with ``claim_too``, the due rows claimed now. How many mails went out, and whether more may
    be due (a full claim, or rows handed back at the deadline)."""
    config = service.config
    now = service.mail_clock.now()
    # A handed row keeps what is left of the lease it was queued with; one that waited in the
    # hand-off for half of it goes back to the claims.
    remaining = [row for row in handed if _lease_left(row, now) > config.send_claim_seconds / 2]
    if len(remaining) < len(handed):
        fresh = {row.id for row in remaining}
        release(service, [row.id for row in handed if row.id not in fresh])
    more = False
    if claim_too:
        claimed = claim(service, now)
        more = len(claimed) >= config.send_batch
        remaining = sorted([*remaining, *claimed], key=lambda row: row.id)
    if not remaining:
        return 0, more
    # Stop well inside the shortest lease, so no other sender takes a row this one is still
    # sending (a row claimed now has all of its lease left).
    lease_left = min(_lease_left(row, now) for row in remaining)
    deadline = time.monotonic() + lease_left - config.send_claim_seconds / 2
    sent: list = []  # claimed rows (read-only)
    try:
        with service.mailer.session() as smtp:
            while remaining:
                if time.monotonic() > deadline:
                    release(service, [row.id for row in remaining])
                    remaining = []
                    more = True
                    break
                row = remaining.pop(0)
                with structlog.contextvars.bound_contextvars(
                    message_id=row.message_id,
                    template=row.template,
                    correlation_id=row.correlation_id,
                ):
                    try:
                        parts = ports.resolve(row.attachment, service.quote_pdfs)
                    except ports.AttachmentUnavailable as exc:
                        mark_failed_attempt(service, row.id, describe(exc))
                        continue
                    try:
                        message = mail.build_message(row, parts)
                    except Exception as exc:  # noqa: BLE001 - this row's content, for good
                        # An address or header that cannot be formatted (a name with CR/LF)
                        # never will be: failed at once, with the reason; the batch goes on.
                        mark_failed_attempt(
                            service,
                            row.id,
                            f"The message cannot be formatted: {describe(exc)}",
                            permanent=True,
                        )
                        continue
                    try:
                        smtp.send(message)
                    except CONNECTION_ERRORS:
                        remaining.insert(0, row)
                        raise
                    except smtplib.SMTPException as exc:
                        # Refused by the server (this message only): the connection stays usable.
                        # A recipient refused for good (5xx) fails at once; anything else retries.
                        mark_failed_attempt(
                            service, row.id, describe(exc), permanent=permanently_refused(exc)
                        )
                        continue
                    except OSError:
                        remaining.insert(0, row)
                        raise
                    except Exception as exc:  # noqa: BLE001 - this mail alone (attachment, content)
                        mark_failed_attempt(service, row.id, describe(exc))
                        continue
                    sent.append(row)
    except Exception as exc:  # noqa: BLE001 - no connection: every row left counts one failed try
        error = describe(exc)
        for row in remaining:
            mark_failed_attempt(service, row.id, error)
        more = False  # the server is not answering: the next batch waits for the sweep or a ring
    finally:
        mark_sent(service, sent)
    return len(sent), more


def mails_in_status(service, status: str) -> int:
    """How many mails are in ``status`` (pending, failed): for the worker's metrics."""
    with service.sessions() as session:
        return session.scalar(
            select(func.count()).select_from(OutgoingMail).where(OutgoingMail.status == status)
        )
