"""What callers of notifications ask for (operators, through the mail log)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RetryMail:
    """Give a failed mail a fresh set of attempts."""

    mail_id: int
