"""What the mail log shows operators and tests: everything but the bodies."""

from __future__ import annotations

from notifications.models import OutgoingMail


def iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def mail_view(row: OutgoingMail) -> dict:
    return {
        "id": row.id,
        "message_id": row.message_id,
        "recipient": row.recipient,
        "subject": row.subject,
        "template": row.template,
        "cause_type": row.cause_type,
        "cause_message_id": row.cause_message_id,
        "correlation_id": row.correlation_id,
        "status": row.status,
        "attempts": row.attempts,
        "last_error": row.last_error,
        "next_attempt_at": iso(row.next_attempt_at),
        "created_at": iso(row.created_at),
        "sent_at": iso(row.sent_at),
        "failed_at": iso(row.failed_at),
        "attachment": row.attachment,
    }
