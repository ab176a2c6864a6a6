"""Settings of the notifications service."""

from __future__ import annotations

import os
from dataclasses import dataclass

from notifications import SERVICE
from portal_runtime.config import Config

DEFAULT_SMTP_URL = "smtp://127.0.0.1:1025"
DEFAULT_MAIL_FROM = "Partner Portal <no-reply@portal.example>"


@dataclass(frozen=True)
class MailSettings:
    """What every email's handler needs: who sends it, and where its links point."""

    mail_from: str
    portal_base_url: str

    def link(self, path: str) -> str:
        return f"{self.portal_base_url.rstrip('/')}{path}"


@dataclass
class NotificationsConfig(Config):
    # Where mail goes: smtp://[user:password@]host:port (smtps:// for TLS from the first byte).
    smtp_url: str = DEFAULT_SMTP_URL
    smtp_timeout: float = 10.0
    mail_from: str = DEFAULT_MAIL_FROM
    # Links in emails point into the portal here.
    portal_base_url: str = "http://127.0.0.1:8080"
    # The sender job: woken by each commit that queues mail; how often it also looks (for retries
    # that came due), and how many rows it takes at once.
    send_interval: float = 1.0
    send_batch: int = 50
    # A failed send is tried again after base * 2**(attempts - 1) seconds, at most cap seconds,
    # and after max attempts the mail is marked failed (and an error is logged).
    send_max_attempts: int = 8
    send_retry_base: float = 2.0
    send_retry_cap: float = 600.0
    # A claimed row not marked within this many seconds (the sender crashed) is due again.
    send_claim_seconds: float = 120.0

    @classmethod
    def from_env(cls, service: str, **overrides) -> NotificationsConfig:
        env = os.environ
        values = dict(
            smtp_url=env.get("SMTP_URL", DEFAULT_SMTP_URL),
            smtp_timeout=float(env.get("SMTP_TIMEOUT", "10")),
            mail_from=env.get("MAIL_FROM", DEFAULT_MAIL_FROM),
            portal_base_url=env.get("PORTAL_BASE_URL", "http://127.0.0.1:8080").rstrip("/"),
            send_interval=float(env.get("MAIL_SEND_INTERVAL", "1.0")),
            send_batch=int(env.get("MAIL_SEND_BATCH", "50")),
            send_max_attempts=int(env.get("MAIL_MAX_ATTEMPTS", "8")),
            send_retry_base=float(env.get("MAIL_RETRY_BASE_SECONDS", "2")),
            send_retry_cap=float(env.get("MAIL_RETRY_CAP_SECONDS", "600")),
            send_claim_seconds=float(env.get("MAIL_CLAIM_SECONDS", "120")),
        )
        values.update(overrides)
        return super().from_env(service, **values)

    def mail_settings(self) -> MailSettings:
        return MailSettings(mail_from=self.mail_from, portal_base_url=self.portal_base_url)


def config_from_env() -> NotificationsConfig:
    return NotificationsConfig.from_env(SERVICE)
