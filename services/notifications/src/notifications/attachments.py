"""What emails attach, fetched when the mail is sent: the quote PDF from cart-quote.

An attachment that cannot be fetched now fails the send like an SMTP error does: the mail is
tried again later, and never goes out without it.
"""

from __future__ import annotations

from typing import Protocol

from notifications.mail import Attachment
from portal_runtime.http import ServiceClient, ServiceUnavailable


class AttachmentUnavailable(Exception):
    """The attachment cannot be had right now; the send is retried later."""


class QuotePdfs(Protocol):
    def fetch(self, quote_number: str) -> bytes: ...


class HttpQuotePdfs:
    """cart-quote's ``GET /internal/quotes/{number}/pdf``."""

    def __init__(self, client: ServiceClient):
        self.client = client

    def fetch(self, quote_number: str) -> bytes:
        try:
            resp = self.client.request("GET", f"/internal/quotes/{quote_number}/pdf")
        except ServiceUnavailable as exc:
            raise AttachmentUnavailable(f"cart-quote did not answer: {exc}") from exc
        if resp.status_code != 200 or not resp.content.startswith(b"%PDF"):
            raise AttachmentUnavailable(
                f"cart-quote answered {resp.status_code} for the PDF of quote {quote_number}"
            )
        return resp.content


def resolve(spec: dict | None, quote_pdfs: QuotePdfs) -> tuple[Attachment, ...]:
    """The attachments an outgoing-mail row asks for."""
    if not spec:
        return ()
    if spec.get("kind") == "quote_pdf":
        number = spec["quote_number"]
        return (Attachment(filename=f"{number}.pdf", content=quote_pdfs.fetch(number)),)
    raise AttachmentUnavailable(f"unknown attachment kind {spec.get('kind')!r}")
