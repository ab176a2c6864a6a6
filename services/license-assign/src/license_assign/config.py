"""Settings of the license-assign service: every environment variable it reads, with its default."""

from __future__ import annotations

import os
from dataclasses import dataclass

from license_assign import SERVICE
from portal_runtime import keys
from portal_runtime.config import Config


def _optional_int(name: str) -> int | None:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else None


def activation_key(strict: bool) -> str:
    """``ACTIVATION_SIGNING_KEY``: required outside the embedded default (a development key is
    generated there), and an Ed25519 key when set."""
    value = keys.env_value("ACTIVATION_SIGNING_KEY") or ""
    if not value:
        if strict:
            raise keys.InsecureConfiguration("ACTIVATION_SIGNING_KEY", "is not set")
        keys.warn_development("license-assign", ["ACTIVATION_SIGNING_KEY"])
        return ""
    keys.parse_private_key(value, "ACTIVATION_SIGNING_KEY")
    return value


@dataclass
class LicenseAssignConfig(Config):
    # Revocations allowed per customer account per calendar month; None means no cap.
    monthly_revocation_cap: int | None = None
    # Base64 of the raw 32-byte Ed25519 private key; unset in development (a key is generated).
    activation_signing_key: str = ""
    # Where invitation URLs point (the portal in front of the gateway).
    portal_base_url: str = "http://127.0.0.1:8080"
    # A password link (new admin) works this many days; a request to manage an account too.
    password_link_days: int = 7
    management_request_days: int = 14
    # A "My licenses" link (asked for, or in an assignment e-mail) works once, this many days.
    holder_link_days: int = 7
    # How often the worker suspends licenses whose payment grace period has passed.
    grace_check_seconds: float = 10.0
    # The sweep for assignment jobs (big uploads): a queued job wakes the worker at once, so this
    # only retries a failed batch or finds a job queued while the worker was down.
    assignment_job_seconds: float = 2.0

    @classmethod
    def from_env(cls, service: str, **overrides) -> LicenseAssignConfig:
        settings = dict(
            monthly_revocation_cap=_optional_int("MONTHLY_REVOCATION_CAP"),
            activation_signing_key=activation_key(overrides.get("strict", keys.strict(service))),
            portal_base_url=os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8080").rstrip("/"),
            grace_check_seconds=float(os.environ.get("GRACE_CHECK_SECONDS", "10")),
            assignment_job_seconds=float(os.environ.get("ASSIGNMENT_JOB_SECONDS", "2")),
            password_link_days=int(os.environ.get("PASSWORD_LINK_DAYS", "7")),
            management_request_days=int(os.environ.get("MANAGEMENT_REQUEST_DAYS", "14")),
            holder_link_days=int(os.environ.get("HOLDER_LINK_DAYS", "7")),
        )
        settings.update(overrides)
        return super().from_env(service, **settings)


def config_from_env(**overrides) -> LicenseAssignConfig:
    """``ACTIVATION_SIGNING_KEY``, ``MONTHLY_REVOCATION_CAP``, ``PORTAL_BASE_URL``,
    ``GRACE_CHECK_SECONDS``, ``ASSIGNMENT_JOB_SECONDS``, ``PASSWORD_LINK_DAYS``,
    ``MANAGEMENT_REQUEST_DAYS``, ``HOLDER_LINK_DAYS`` (and the shared settings)."""
    return LicenseAssignConfig.from_env(SERVICE, **overrides)
