"""The mail log for operators and tests (internal, not behind a public gateway path).

``GET /internal/mail`` lists outgoing mail newest first (``notifications.queries``);
``POST /internal/mail/{id}/retry`` gives a failed mail a fresh set of attempts (``RetryMail``).
"""

from __future__ import annotations

from flask import Blueprint, request

from notifications import queries
from notifications.commands import RetryMail
from notifications.views import mail_view
from portal_runtime.errors import Forbidden
from portal_runtime.web import current_identity, current_service, request_id

bp = Blueprint("mail", __name__)


def require_operator() -> None:
    """Only other services and operators' tooling (a service identity) read the mail log."""
    if not current_identity().is_service:
        raise Forbidden("The mail log is for operators.")


@bp.get("/internal/mail")
def list_mail():
    require_operator()
    with current_service().sessions() as session:
        rows, next_cursor = queries.mail_log(session, request.args)
        return {"items": [mail_view(row) for row in rows], "next_cursor": next_cursor}


@bp.post("/internal/mail/<int:mail_id>/retry")
def retry_mail(mail_id: int):
    require_operator()
    row = current_service().handle(RetryMail(mail_id), correlation_id=request_id())
    return mail_view(row), 202
