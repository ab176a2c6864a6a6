"""The mail log for operators and tests (internal, not behind a public gateway path).

``GET /internal/mail`` lists outgoing mail newest first, filtered by ``recipient``, ``status``,
``template``, ``cause`` (the causing event's message id) or ``correlation_id``;
``POST /internal/mail/{id}/retry`` gives a failed mail a fresh set of attempts.
"""

from __future__ import annotations

from flask import Blueprint, request
from sqlalchemy import select

from notifications.models import FAILED, PENDING, SENT, OutgoingMail
from notifications.views import mail_view
from portal_runtime import logs
from portal_runtime.problems import Problem, conflict, invalid, not_found
from portal_runtime.queries import equals_ci, page
from portal_runtime.web import current_identity, current_service

bp = Blueprint("mail", __name__)

STATUSES = (PENDING, SENT, FAILED)


def require_operator() -> None:
    """Only other services and operators' tooling (a service identity) read the mail log."""
    if not current_identity().is_service:
        raise Problem(403, "The mail log is for operators.")


@bp.get("/internal/mail")
def list_mail():
    require_operator()
    args = request.args
    query = select(OutgoingMail)
    if args.get("recipient"):
        query = query.where(equals_ci(OutgoingMail.recipient, args["recipient"]))
    if args.get("status"):
        if args["status"] not in STATUSES:
            raise invalid({"status": [f"One of: {', '.join(STATUSES)}."]})
        query = query.where(OutgoingMail.status == args["status"])
    if args.get("template"):
        query = query.where(OutgoingMail.template == args["template"])
    if args.get("cause"):
        query = query.where(OutgoingMail.cause_message_id == args["cause"])
    if args.get("correlation_id"):
        query = query.where(OutgoingMail.correlation_id == args["correlation_id"])
    with current_service().sessions() as session:
        rows, next_cursor = page(
            session, query, OutgoingMail.id, args.get("limit"), args.get("cursor")
        )
        return {"items": [mail_view(row) for row in rows], "next_cursor": next_cursor}


@bp.post("/internal/mail/<int:mail_id>/retry")
def retry_mail(mail_id: int):
    require_operator()
    with current_service().sessions() as session, session.begin():
        row = session.get(OutgoingMail, mail_id)
        if row is None:
            raise not_found("mail")
        if row.status != FAILED:
            raise conflict(f"Only a failed mail can be retried; this one is {row.status}.")
        row.status = PENDING
        row.attempts = 0
        row.next_attempt_at = None
        row.failed_at = None
        logs.get("mail").info("mail.retry_requested", message_id=row.message_id)
        return mail_view(row), 202
