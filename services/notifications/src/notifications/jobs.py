"""The notifications worker's job: the mail sender (``notifications.sender``)."""

from __future__ import annotations

from notifications.config import NotificationsConfig
from notifications.sender import send_while_due
from portal_runtime.service import Job


def jobs(config: NotificationsConfig) -> tuple[Job, ...]:
    """Woken by each commit that queues mail (``uow.wake("mail")``); ``send_interval`` is only
    the sweep for retries that came due."""
    return (Job("mail-sender", config.send_interval, send_while_due, wake="mail"),)
