"""Settings of the gateway: tokens, grants, rate limits and how long it waits for a service."""

from __future__ import annotations

import os
from dataclasses import dataclass

from portal_runtime.config import Config, secret

DEV_TOKEN_SECRET = "dev-gateway-token-secret-change-me-please"


@dataclass
class GatewayConfig(Config):
    # HS256 key of the bearer tokens (GATEWAY_TOKEN_SECRET); the default is for development only.
    token_secret: str = DEV_TOKEN_SECRET
    token_ttl_seconds: int = 3600
    # How long entering a customer grants access to it.
    grant_hours: float = 8.0
    # A grant stays in GET /customers ("entered recently") this long after it expired.
    recent_grant_days: int = 14
    # Failed sign-ins free per (account, client address) and per client address within the
    # window; past them each attempt from there waits twice as long as the one before.
    login_failures_per_account: int = 5
    login_failures_per_address: int = 20
    login_window_seconds: int = 900
    # Failed customer entries allowed per reseller and per (reseller, entered value) within it,
    # and entries of any outcome per reseller within it.
    entry_failures_per_reseller: int = 10
    entry_failures_per_target: int = 5
    entry_attempts_per_reseller: int = 200
    entry_window_seconds: int = 900
    # Orders placed (checkout, direct, from a quote) per reseller or customer within the window
    # (GATEWAY_CHECKOUT_PER_MINUTE; 0 turns the limit off, e.g. for a load benchmark).
    checkout_per_tenant: int = 60
    checkout_window_seconds: int = 60
    # My licenses: links asked for per email and per client address within the window, and how
    # long the session a link opens lasts (a license_holder token).
    holder_links_per_email: int = 3
    holder_links_per_address: int = 20
    holder_link_window_seconds: int = 3600
    holder_session_seconds: int = 3600
    # Forwarding: connect and read timeouts, short so a dead service never holds a worker long.
    connect_timeout: float = 2.0
    read_timeout: float = 15.0
    # Reverse proxies in front of the gateway whose X-Forwarded-For is trusted for the client
    # address (sign-in limits per address); 0 when clients connect directly.
    trusted_proxies: int = 0
    # Browser origins allowed to call the API cross-origin (GATEWAY_CORS_ORIGINS, comma-separated;
    # none by default: the portal is served from the gateway's own origin).
    cors_origins: tuple[str, ...] = ()
    # How long license-assign's password links work (PASSWORD_LINK_DAYS, as license-assign reads
    # it): an invitation the gateway answers itself says the same.
    password_link_days: int = 7
    # argon2id cost; the defaults are argon2-cffi's RFC 9106 low-memory profile.
    argon2_time_cost: int = 3
    argon2_memory_kib: int = 65536

    @classmethod
    def from_env(cls, service: str = "gateway", **overrides) -> GatewayConfig:
        env = os.environ
        values = dict(
            token_secret=secret("GATEWAY_TOKEN_SECRET", DEV_TOKEN_SECRET, service),
            token_ttl_seconds=int(env.get("GATEWAY_TOKEN_TTL_SECONDS", 3600)),
            holder_session_seconds=int(env.get("GATEWAY_HOLDER_SESSION_SECONDS", 3600)),
            grant_hours=float(env.get("GATEWAY_GRANT_HOURS", 8)),
            connect_timeout=float(env.get("GATEWAY_CONNECT_TIMEOUT", 2.0)),
            read_timeout=float(env.get("GATEWAY_READ_TIMEOUT", 15.0)),
            trusted_proxies=int(env.get("GATEWAY_TRUSTED_PROXIES", 0)),
            cors_origins=tuple(
                o.strip().rstrip("/")
                for o in env.get("GATEWAY_CORS_ORIGINS", "").split(",")
                if o.strip()
            ),
            checkout_per_tenant=int(env.get("GATEWAY_CHECKOUT_PER_MINUTE", 60)),
            entry_failures_per_reseller=int(env.get("GATEWAY_ENTRY_FAILURES_PER_RESELLER", 10)),
            entry_failures_per_target=int(env.get("GATEWAY_ENTRY_FAILURES_PER_TARGET", 5)),
            entry_attempts_per_reseller=int(env.get("GATEWAY_ENTRY_ATTEMPTS_PER_RESELLER", 200)),
            entry_window_seconds=int(env.get("GATEWAY_ENTRY_WINDOW_SECONDS", 900)),
            password_link_days=int(env.get("PASSWORD_LINK_DAYS", 7)),
        )
        values.update(overrides)
        return super().from_env(service, **values)
