"""The read side of the mail log (``GET /internal/mail``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from notifications.models import FAILED, PENDING, SENT, OutgoingMail
from portal_runtime.errors import Invalid
from portal_runtime.queries import equals_ci, page

STATUSES = (PENDING, SENT, FAILED)


def mail_log(session: Session, args) -> tuple[list[OutgoingMail], str | None]:
    """Outgoing mail newest first, filtered by ``recipient``, ``status``, ``template``, ``cause``
    (the causing event's message id) or ``correlation_id``; ``(rows, next_cursor)``."""
    query = select(OutgoingMail)
    if args.get("recipient"):
        query = query.where(equals_ci(OutgoingMail.recipient, args["recipient"]))
    if args.get("status"):
        if args["status"] not in STATUSES:
            raise Invalid("status", f"One of: {', '.join(STATUSES)}.")
        query = query.where(OutgoingMail.status == args["status"])
    if args.get("template"):
        query = query.where(OutgoingMail.template == args["template"])
    if args.get("cause"):
        query = query.where(OutgoingMail.cause_message_id == args["cause"])
    if args.get("correlation_id"):
        query = query.where(OutgoingMail.correlation_id == args["correlation_id"])
    return page(session, query, OutgoingMail.id, args.get("limit"), args.get("cursor"))
