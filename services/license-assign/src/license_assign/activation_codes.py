"""Offline activation codes: Ed25519-signed, self-contained, verifiable with the public key only.

The signing key is configuration (``ACTIVATION_SIGNING_KEY``, base64 of the raw 32-byte private
key). In development, when it is unset, one key is generated once into
``$PORTAL_VAR_DIR/keys/activation-ed25519.key``; the file is created atomically, so the web and
worker processes that start together end up with the same key. It is never committed.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from license_assign import offline_verifier
from license_assign.offline_verifier import FORMAT_VERSION, InvalidCode, b64encode
from portal_runtime import logs
from portal_runtime.config import var_dir
from portal_runtime.keys import parse_private_key

KEY_FILE = "keys/activation-ed25519.key"


def key_from_base64(text: str) -> Ed25519PrivateKey:
    """The key in ``ACTIVATION_SIGNING_KEY`` (base64 of the raw 32 bytes, or PEM)."""
    return parse_private_key(text.strip(), "ACTIVATION_SIGNING_KEY")


def key_to_base64(key: Ed25519PrivateKey) -> str:
    raw = key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    return base64.b64encode(raw).decode("ascii")


def development_key(base: Path | None = None) -> Ed25519PrivateKey:
    """The development key under the var directory, generated on first use (race-free)."""
    path = (base or var_dir()) / KEY_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".key-")
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(key_to_base64(Ed25519PrivateKey.generate()) + "\n")
            os.chmod(tmp, 0o600)
            try:
                # link() fails if another process won the race: then its key is the key.
                os.link(tmp, path)
                logs.get("activation_codes").warning(
                    "activation_key.generated",
                    path=str(path),
                    hint="development only: set ACTIVATION_SIGNING_KEY in production",
                )
            except FileExistsError:
                pass
        finally:
            os.unlink(tmp)
    return key_from_base64(path.read_text())


def load_signing_key(configured: str | None) -> Ed25519PrivateKey:
    return key_from_base64(configured) if configured else development_key()


class ActivationCodes:
    """Issues and checks activation codes with one signing key."""

    def __init__(self, private_key: Ed25519PrivateKey):
        self._key = private_key
        self.public_key = private_key.public_key()

    @property
    def public_key_base64(self) -> str:
        raw = self.public_key.public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return base64.b64encode(raw).decode("ascii")

    @property
    def public_key_pem(self) -> str:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode("ascii")

    def issue(
        self,
        *,
        license_id: str,
        product: str,
        licensee_name: str,
        licensee_email: str,
        valid_until: dt.date,
        fallback_version: str | None,
        issued_at: dt.datetime,
    ) -> str:
        payload = {
            "v": FORMAT_VERSION,
            "license_id": license_id,
            "product": product,
            "licensee": {"name": licensee_name, "email": licensee_email},
            "valid_until": valid_until.isoformat(),
            "fallback_version": fallback_version,
            "issued_at": issued_at.astimezone(dt.UTC).isoformat(timespec="seconds"),
        }
        body = b64encode(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
        signature = self._key.sign(body.encode("ascii"))
        return f"{body}.{b64encode(signature)}"

    def verify(self, code: str) -> dict:
        """The payload of a code this key signed; :class:`InvalidCode` otherwise."""
        return offline_verifier.verify(code, self.public_key)


__all__ = ["ActivationCodes", "InvalidCode", "load_signing_key"]
