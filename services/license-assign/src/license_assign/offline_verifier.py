"""Verify an offline activation code with nothing but the vendor's public key.

This is what a product does when it cannot reach us: the code is
``base64url(payload_json) + "." + base64url(ed25519_signature_of_that_payload_text)``,
and the payload names the license, product, licensee, valid-until and fallback version.
The module depends on ``cryptography`` only, never on the service, so it can ship in a product.

Command: ``python -m license_assign.offline_verifier --public-key FILE CODE`` (exit 0 when valid,
1 otherwise). FILE holds the key as PEM, as base64 of the raw 32 bytes, or as the raw bytes.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import datetime as dt
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

FORMAT_VERSION = 1
REQUIRED = ("license_id", "product", "licensee", "valid_until", "issued_at")


class InvalidCode(ValueError):
    """The code is malformed, tampered with, or not signed by this key."""


def b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64decode(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise InvalidCode("not base64url") from exc


def load_public_key(key: Ed25519PublicKey | bytes | str) -> Ed25519PublicKey:
    """A public key from PEM text, base64 (standard or url-safe) of the raw key, or raw bytes."""
    if isinstance(key, Ed25519PublicKey):
        return key
    data = key.encode() if isinstance(key, str) else bytes(key)
    stripped = data.strip()
    if stripped.startswith(b"-----BEGIN"):
        loaded = serialization.load_pem_public_key(stripped)
        if not isinstance(loaded, Ed25519PublicKey):
            raise ValueError("not an Ed25519 public key")
        return loaded
    if len(data) == 32:
        return Ed25519PublicKey.from_public_bytes(data)
    text = stripped.decode("ascii", errors="replace")
    raw = base64.b64decode(text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4))
    return Ed25519PublicKey.from_public_bytes(raw)


def verify(code: str, public_key: Ed25519PublicKey | bytes | str) -> dict:
    """The payload of a genuine code; :class:`InvalidCode` for anything else.

    The signature is checked before anything in the payload is believed. Expiry is *not* a
    reason to reject: an expired code still proves the fallback right; callers compare
    ``valid_until`` with their own date (see :func:`is_current`).
    """
    if not isinstance(code, str) or code.count(".") != 1:
        raise InvalidCode("not an activation code")
    body, signature = code.strip().split(".")
    try:
        load_public_key(public_key).verify(b64decode(signature), body.encode("ascii"))
    except (InvalidSignature, UnicodeEncodeError) as exc:
        raise InvalidCode("the signature does not match") from exc
    try:
        payload = json.loads(b64decode(body))
    except ValueError as exc:
        raise InvalidCode("the payload is not JSON") from exc
    if not isinstance(payload, dict) or any(k not in payload for k in REQUIRED):
        raise InvalidCode("the payload lacks required fields")
    if payload.get("v", FORMAT_VERSION) != FORMAT_VERSION:
        raise InvalidCode("unknown code format")
    return payload


def is_current(payload: dict, today: dt.date | None = None) -> bool:
    """Is the subscription in the code still running on ``today``?"""
    today = today or dt.datetime.now(dt.UTC).date()
    return dt.date.fromisoformat(payload["valid_until"]) >= today


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m license_assign.offline_verifier",
        description="Check an offline activation code with the vendor's public key.",
    )
    parser.add_argument("--public-key", required=True, help="file with the Ed25519 public key")
    parser.add_argument("code", help="the activation code")
    args = parser.parse_args(argv)
    try:
        with open(args.public_key, "rb") as fh:
            key = fh.read()
        payload = verify(args.code, key)
    except (OSError, ValueError) as exc:
        print(f"invalid: {exc}", file=sys.stderr)
        return 1
    state = "current" if is_current(payload) else "expired (fallback right only)"
    print(json.dumps(dict(payload, state=state), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
