"""Signing keys and secrets: production mode, development values, and refusing weak ones.

Each process signs with its own Ed25519 key (``<NAME>_IDENTITY_KEY``, PEM or base64 of the raw
32 bytes, or a file named by ``<NAME>_IDENTITY_KEY_FILE``) and verifies with the public keys of
those it trusts (``<NAME>_IDENTITY_PUBLIC_KEY`` / ``..._FILE``): the gateway's, which vouches for
users, and those of the services it accepts calls from.

Development values (keys generated on first run under ``$PORTAL_VAR_DIR/keys``, the known
development secrets) are used only on the embedded default: no ``PORTAL_ENV=production``, no
``BROKER_URL`` other than the filesystem bus, no database URL other than SQLite. Anywhere else a
missing, placeholder or short secret stops the process at start, naming the variable.
"""

from __future__ import annotations

import base64
import binascii
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from portal_runtime import logs

MIN_SECRET_LENGTH = 32
# Who signs identities: the gateway (users, and itself), the services, operators' tools, and the
# portal's pages (only the client address of the person using them, for the gateway's limits).
SIGNERS = (
    "gateway",
    "catalog",
    "cart-quote",
    "orders",
    "billing",
    "license-assign",
    "notifications",
    "ops",
    "portal",
)
# Parts of placeholders and of the development values that older configurations shipped.
PLACEHOLDER_MARKS = (
    "change-me",
    "changeme",
    "placeholder",
    "replace-me",
    "example",
    "compose-only",
    "dev-identity",
    "dev-token",
    "dev-gateway",
)
KEY_DIR = "keys"


class InsecureConfiguration(ValueError):
    """A secret or signing key that is missing, a placeholder or too short: refuse to start."""

    def __init__(self, variable: str, problem: str):
        hint = {
            "key": "make compose-secrets (or python -m portal_runtime.keys) makes a set",
            "secret": "python -c 'import secrets; print(secrets.token_urlsafe(32))' makes one",
        }["key" if "IDENTITY" in variable or variable.endswith("_KEY") else "secret"]
        super().__init__(f"{variable} {problem}; {hint}")
        self.variable = variable


def _env_name(name: str) -> str:
    return name.upper().replace("-", "_")


def production() -> bool:
    return os.environ.get("PORTAL_ENV", "").strip().lower() == "production"


def embedded_default(service: str) -> bool:
    """Is this process configured for the embedded default (filesystem bus, SQLite)?"""
    broker = os.environ.get("BROKER_URL", "")
    database = os.environ.get(f"{_env_name(service)}_DATABASE_URL", "")
    return broker.split(":", 1)[0] in ("", "filesystem", "memory") and (
        not database or database.startswith("sqlite")
    )


def strict(service: str) -> bool:
    """Must every secret come from the environment? Yes, unless on the embedded default."""
    return production() or not embedded_default(service)


def warn_development(service: str, names: list[str]) -> None:
    if names:
        logs.get("config").warning(
            "config.development_secrets",
            service=service,
            variables=sorted(names),
            hint="development values: fine for make run, never for a real deployment",
        )


def env_value(variable: str) -> str | None:
    """A setting from ``VARIABLE`` or from the file named by ``VARIABLE_FILE``."""
    value = os.environ.get(variable)
    if value is None and os.environ.get(variable + "_FILE"):
        try:
            value = Path(os.environ[variable + "_FILE"]).read_text()
        except OSError as exc:
            raise InsecureConfiguration(variable + "_FILE", f"cannot be read ({exc})") from None
    return value.strip() if value is not None else None


def looks_like_placeholder(value: str) -> bool:
    lowered = value.lower()
    return any(mark in lowered for mark in PLACEHOLDER_MARKS)


def checked_secret(variable: str, value: str | None, *, required: bool) -> str | None:
    """``value`` if it is a usable secret; None when unset and not required; refuse otherwise."""
    if value is None or value == "":
        if required:
            raise InsecureConfiguration(variable, "is not set")
        return None
    if looks_like_placeholder(value):
        raise InsecureConfiguration(variable, "is a placeholder, not a secret")
    if len(value.encode()) < MIN_SECRET_LENGTH:
        raise InsecureConfiguration(
            variable,
            f"must be at least {MIN_SECRET_LENGTH} bytes of random data (it is "
            f"{len(value.encode())})",
        )
    return value


def secret(variable: str, development_default: str, service: str) -> str:
    """A shared secret (e.g. the bearer tokens' HMAC key) from the environment; unset, the
    development default on the embedded default only."""
    value = checked_secret(variable, env_value(variable), required=strict(service))
    if value is None:
        warn_development(service, [variable])
        return development_default
    return value


# -- Ed25519 keys ---------------------------------------------------------------------------


def private_variable(name: str) -> str:
    return f"{_env_name(name)}_IDENTITY_KEY"


def public_variable(name: str) -> str:
    return f"{_env_name(name)}_IDENTITY_PUBLIC_KEY"


def _raw(text: str, variable: str) -> bytes:
    if looks_like_placeholder(text):
        raise InsecureConfiguration(variable, "is a placeholder, not a key")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise InsecureConfiguration(
            variable, "is not an Ed25519 key (PEM, or base64 of the raw 32 bytes)"
        )
    return raw


def parse_private_key(text: str, variable: str) -> Ed25519PrivateKey:
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_private_key(text.encode(), password=None)
        except ValueError:
            key = None
        if not isinstance(key, Ed25519PrivateKey):
            raise InsecureConfiguration(variable, "is not an unencrypted Ed25519 private key")
        return key
    return Ed25519PrivateKey.from_private_bytes(_raw(text, variable))


def parse_public_key(text: str, variable: str) -> Ed25519PublicKey:
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(text.encode())
        except ValueError:
            key = None
        if not isinstance(key, Ed25519PublicKey):
            raise InsecureConfiguration(variable, "is not an Ed25519 public key")
        return key
    return Ed25519PublicKey.from_public_bytes(_raw(text, variable))


def private_pem(key: Ed25519PrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def public_base64(key: Ed25519PublicKey) -> str:
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def private_base64(key: Ed25519PrivateKey) -> str:
    raw = key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    return base64.b64encode(raw).decode()


def development_key(name: str, base: Path | None = None) -> Ed25519PrivateKey:
    """``name``'s development key under the var folder, generated on first use (race-free: the
    file is linked into place, so processes starting together end up with the same key)."""
    from portal_runtime.config import var_dir

    path = (base or var_dir()) / KEY_DIR / f"{name}-identity.pem"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".key-")
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(private_pem(Ed25519PrivateKey.generate()))
            os.chmod(tmp, 0o600)
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass
        finally:
            os.unlink(tmp)
    return parse_private_key(path.read_text(), str(path))


@dataclass(frozen=True)
class IdentityKeys:
    """This process's own signing key and the public keys of the signers it knows."""

    name: str
    private: Ed25519PrivateKey
    public: Mapping[str, Ed25519PublicKey] = field(default_factory=dict)
    strict: bool = False

    def public_key(self, signer: str) -> Ed25519PublicKey | None:
        if signer == self.name:
            return self.private.public_key()
        return self.public.get(signer)

    def require_public_keys(self, signers) -> None:
        """Refuse to start (strict mode) when a signer we accept calls from has no key."""
        for signer in signers:
            if self.public_key(signer) is None:
                raise InsecureConfiguration(public_variable(signer), "is not set")


def identity_keys(name: str, *, strict_mode: bool | None = None) -> IdentityKeys:
    """The keys of process ``name`` from the environment (development keys where allowed)."""
    is_strict = strict(name) if strict_mode is None else strict_mode
    development: list[str] = []
    variable = private_variable(name)
    text = env_value(variable)
    if text:
        private = parse_private_key(text, variable)
    elif is_strict:
        raise InsecureConfiguration(variable, "is not set")
    else:
        private = development_key(name)
        development.append(variable)
    public: dict[str, Ed25519PublicKey] = {}
    for signer in SIGNERS:
        if signer == name:
            continue
        variable = public_variable(signer)
        text = env_value(variable)
        if text:
            public[signer] = parse_public_key(text, variable)
        elif not is_strict:
            public[signer] = development_key(signer).public_key()
    if is_strict and name != "gateway" and "gateway" not in public:
        raise InsecureConfiguration(public_variable("gateway"), "is not set")
    warn_development(name, development)
    return IdentityKeys(name, private, public, is_strict)


def generate_environment() -> dict[str, str]:
    """A fresh set of every signer's keys and the gateway's token secret, as variables."""
    import secrets as random

    env: dict[str, str] = {}
    for signer in SIGNERS:
        key = Ed25519PrivateKey.generate()
        env[private_variable(signer)] = private_base64(key)
        env[public_variable(signer)] = public_base64(key.public_key())
    env["ACTIVATION_SIGNING_KEY"] = private_base64(Ed25519PrivateKey.generate())
    env["GATEWAY_TOKEN_SECRET"] = random.token_urlsafe(48)
    env["PORTAL_SECRET_KEY"] = random.token_urlsafe(48)
    return env


def main() -> None:
    """Print a fresh ``.env`` (``make compose-secrets``)."""
    print("# Generated by make compose-secrets: keep it out of version control.")
    for variable, value in generate_environment().items():
        print(f"{variable}={value}")


if __name__ == "__main__":
    main()
