"""The sandbox payment vault: the only place a card number is ever accepted."""

from marshmallow import fields, validate

from portal_contracts.api.common import Strict


class VaultCardRequest(Strict):
    """Body of POST /vault/cards (sandbox vault only; never logged, never stored)."""

    number = fields.String(required=True, validate=validate.Length(min=12, max=23))
    # MM/YY or YYYY-MM.
    expiry = fields.String(required=True, validate=validate.Length(min=5, max=7))
    cvc = fields.String(required=True, validate=validate.Length(min=3, max=4))
    holder = fields.String(required=True, validate=validate.Length(min=1, max=100))


class VaultCardResponse(Strict):
    """Answer of POST /vault/cards: the token that stands for the card from now on."""

    vault_token = fields.String(dump_only=True)


class VaultSessionRequest(Strict):
    """Body of POST /vault/sessions: open the vault's own card page, then go back here."""

    return_url = fields.Url(required=True, require_tld=False, validate=validate.Length(max=2000))


class VaultSessionResponse(Strict):
    """Answer of POST /vault/sessions: send the user's browser to ``url``; it comes back to the
    return URL with ``?vault_token=``."""

    session = fields.String(dump_only=True)
    url = fields.String(dump_only=True)
