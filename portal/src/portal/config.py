"""Settings of the portal, from the environment, each with a working default."""

from __future__ import annotations

import os
from dataclasses import dataclass

from portal_runtime.keys import IdentityKeys, identity_keys, secret

DEV_SECRET_KEY = "dev-portal-session-key-change-me-please-0001"


@dataclass
class PortalConfig:
    # Where the portal calls the API (server to server): the gateway's own address.
    gateway_url: str = "http://127.0.0.1:8080"
    # Where users reach the portal (links in pages, PayPal's and the vault's return URLs).
    base_url: str = "http://127.0.0.1:8080"
    # Signs the session cookie (PORTAL_SECRET_KEY); the default is for development only.
    secret_key: str = DEV_SECRET_KEY
    # The session cookie is Secure when users reach the portal over HTTPS.
    secure_cookies: bool = False
    # How long the portal waits for the gateway.
    timeout_seconds: float = 20.0
    # Locale when the browser names none the portal can format for.
    default_locale: str = "en_US"
    # The portal's own signing key (PORTAL_IDENTITY_KEY): it vouches to the gateway for the
    # address of the person using the pages (``X-Portal-Client``); None: from the environment.
    identity_keys: IdentityKeys | None = None

    def keys(self) -> IdentityKeys:
        if self.identity_keys is None:
            self.identity_keys = identity_keys("portal")
        return self.identity_keys

    @classmethod
    def from_env(cls, **overrides) -> PortalConfig:
        env = os.environ
        base_url = env.get("PORTAL_BASE_URL", cls.base_url).rstrip("/")
        # Required (32+ random bytes) outside the embedded default; refused when a placeholder.
        secret_key = secret("PORTAL_SECRET_KEY", DEV_SECRET_KEY, "portal")
        values = dict(
            gateway_url=env.get("GATEWAY_URL", cls.gateway_url).rstrip("/"),
            base_url=base_url,
            secret_key=secret_key,
            secure_cookies=env.get("PORTAL_SECURE_COOKIES", "").lower() in ("1", "true", "yes")
            or base_url.startswith("https://"),
            timeout_seconds=float(env.get("PORTAL_GATEWAY_TIMEOUT", cls.timeout_seconds)),
        )
        values.update(overrides)
        return cls(**values)
