"""What license-assign needs from outside its database: a signer of activation codes.

Its one adapter, :class:`license_assign.activation_codes.ActivationCodes` (Ed25519, the key
from ``ACTIVATION_SIGNING_KEY``), is a module of its own: the offline verifier shares its
format. Handlers ask for it by the name ``codes``.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol


class CodeSigner(Protocol):
    """Issues activation codes and checks those it issued."""

    public_key_base64: str
    public_key_pem: str

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
    ) -> str: ...

    def verify(self, code: str) -> dict:
        """The payload of a code this signer issued; ``InvalidCode`` otherwise."""
        ...
