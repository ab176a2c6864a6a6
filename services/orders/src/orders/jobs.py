"""The orders worker's scheduled jobs."""

from __future__ import annotations

from orders import idempotency
from portal_runtime.service import Job


def forget_expired_keys(service) -> int:
    """Forget Idempotency-Keys past ``idempotency_hours``; returns how many."""
    with service.sessions() as session, session.begin():
        return idempotency.forget_older_than(
            session, service.config.idempotency_hours, service.clock.now()
        )


JOBS = (
    # Keys must live at least 24 hours; forgetting older ones hourly keeps the table small.
    Job("forget-idempotency-keys", 3600.0, forget_expired_keys),
)
