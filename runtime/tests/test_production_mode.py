"""Production mode: no process starts with a missing, placeholder or short secret, and says which.

Development values are used on the embedded default only (SQLite, the filesystem bus), with a
warning naming them; a real broker or database without secrets is refused just like production.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import structlog.testing

from portal_runtime import keys
from portal_runtime.config import Config
from portal_runtime.keys import InsecureConfiguration

PACKAGES = {
    "catalog": "catalog",
    "cart-quote": "cart_quote",
    "orders": "orders",
    "billing": "billing",
    "license-assign": "license_assign",
    "notifications": "notifications",
    "gateway": "gateway",
    "portal": "portal",
}
FIRST_SECRET = {
    "gateway": ("GATEWAY_TOKEN_SECRET",),
    "license-assign": ("ACTIVATION_SIGNING_KEY",),
    "portal": ("PORTAL_SECRET_KEY",),
}
VARIABLES = (
    "BROKER_URL",
    "PORTAL_ENV",
    "GATEWAY_TOKEN_SECRET",
    "ACTIVATION_SIGNING_KEY",
    "PORTAL_SECRET_KEY",
)


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in list(os.environ):
        if name.endswith(("_IDENTITY_KEY", "_IDENTITY_PUBLIC_KEY", "_DATABASE_URL")) or (
            name in VARIABLES
        ):
            monkeypatch.delenv(name)
    monkeypatch.setenv("PORTAL_VAR_DIR", str(tmp_path))
    return monkeypatch


def test_in_production_a_missing_signing_key_is_named(clean_env):
    clean_env.setenv("PORTAL_ENV", "production")
    with pytest.raises(InsecureConfiguration, match="ORDERS_IDENTITY_KEY is not set"):
        Config.from_env("orders")
    generated = keys.generate_environment()
    clean_env.setenv("ORDERS_IDENTITY_KEY", generated["ORDERS_IDENTITY_KEY"])
    with pytest.raises(InsecureConfiguration, match="GATEWAY_IDENTITY_PUBLIC_KEY is not set"):
        Config.from_env("orders")
    clean_env.setenv("GATEWAY_IDENTITY_PUBLIC_KEY", generated["GATEWAY_IDENTITY_PUBLIC_KEY"])
    config = Config.from_env("orders")
    assert config.strict and config.identity_keys.public_key("gateway") is not None


@pytest.mark.parametrize(
    "value, problem",
    [
        ("CHANGE-ME", "is a placeholder"),
        ("c2hvcnQ=", "is not an Ed25519 key"),
        (
            "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----",
            "is not an unencrypted",
        ),
    ],
)
def test_in_production_a_placeholder_or_malformed_key_is_named(clean_env, value, problem):
    clean_env.setenv("PORTAL_ENV", "production")
    clean_env.setenv("ORDERS_IDENTITY_KEY", value)
    with pytest.raises(InsecureConfiguration, match=f"ORDERS_IDENTITY_KEY {problem}"):
        Config.from_env("orders")


@pytest.mark.parametrize(
    "value, problem",
    [
        (None, "is not set"),
        ("dev-gateway-token-secret-change-me-please", "is a placeholder"),
        ("x" * 31, "must be at least 32 bytes"),
    ],
)
def test_in_production_the_token_secret_must_be_real(clean_env, value, problem):
    from gateway.config import GatewayConfig

    clean_env.setenv("PORTAL_ENV", "production")
    clean_env.setenv("GATEWAY_IDENTITY_KEY", keys.generate_environment()["GATEWAY_IDENTITY_KEY"])
    if value is not None:
        clean_env.setenv("GATEWAY_TOKEN_SECRET", value)
    with pytest.raises(InsecureConfiguration, match=f"GATEWAY_TOKEN_SECRET {problem}"):
        GatewayConfig.from_env()


def test_a_real_broker_without_secrets_is_refused_outside_production_too(clean_env):
    clean_env.setenv("BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//")
    with pytest.raises(InsecureConfiguration, match="CATALOG_IDENTITY_KEY is not set"):
        Config.from_env("catalog")
    clean_env.delenv("BROKER_URL")
    clean_env.setenv("CATALOG_DATABASE_URL", "postgresql+psycopg://postgres@db/catalog")
    with pytest.raises(InsecureConfiguration, match="CATALOG_IDENTITY_KEY is not set"):
        Config.from_env("catalog")


def test_the_embedded_default_uses_development_keys_and_names_them(clean_env, tmp_path):
    with structlog.testing.capture_logs() as logged:
        config = Config.from_env("catalog")
    assert not config.strict
    assert (tmp_path / "keys" / "catalog-identity.pem").exists()
    warning = next(e for e in logged if e["event"] == "config.development_secrets")
    assert warning["variables"] == ["CATALOG_IDENTITY_KEY"]
    # Generated once: every process of the embedded system signs and verifies with the same.
    again = Config.from_env("catalog")
    assert keys.public_base64(again.identity_keys.private.public_key()) == keys.public_base64(
        config.identity_keys.private.public_key()
    )


def test_every_process_refuses_to_start_in_production_without_secrets_naming_the_variable(
    tmp_path,
):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.endswith(("_IDENTITY_KEY", "_IDENTITY_PUBLIC_KEY")) and k not in VARIABLES
    }
    env.update(PORTAL_ENV="production", PORTAL_VAR_DIR=str(tmp_path))
    running = {
        service: subprocess.Popen(
            [sys.executable, "-m", package, "web", "--port", "1"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for service, package in PACKAGES.items()
    }
    for service, proc in running.items():
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 2, (service, err[-2000:])
        # The first missing one is named: its own key, or a secret of its own read before it.
        named = {keys.private_variable(service), *FIRST_SECRET.get(service, ())}
        assert any(f"refusing to start: {v} is not set" in err for v in named), (service, err)
    assert not (tmp_path / "keys").exists()  # no development key was made


def test_with_every_secret_set_a_production_process_starts(tmp_path):
    env = dict(os.environ)
    env.update(keys.generate_environment())
    env.update(PORTAL_ENV="production", PORTAL_VAR_DIR=str(tmp_path))
    env["LICENSE_ASSIGN_DATABASE_URL"] = f"sqlite:///{tmp_path / 'la.db'}"
    proc = subprocess.run(
        [sys.executable, "-m", "license_assign", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
