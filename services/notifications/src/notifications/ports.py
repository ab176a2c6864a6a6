"""What notifications needs outside: an SMTP server to send through, and the attachments it
fetches (the quote PDF from cart-quote), with their adapters.

``SMTP_URL`` is ``smtp://[user:password@]host:port`` (add ``?starttls=1`` to upgrade the
connection) or ``smtps://…`` for TLS from the first byte. Credentials in the URL are
percent-decoded.
"""

from __future__ import annotations

import smtplib
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message
from email.utils import getaddresses
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from notifications.mail import Attachment, wire_bytes
from portal_runtime.http import ServiceClient, ServiceUnavailable

# -- sending mail ------------------------------------------------------------------------------


class Mailer(Protocol):
    def session(self) -> Iterator[MailSession]: ...


class MailSession(Protocol):
    def send(self, message: Message) -> None: ...


class SmtpSettings:
    def __init__(self, url: str, timeout: float = 10.0):
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError(f"SMTP_URL must be smtp:// or smtps://, not {parts.scheme!r}")
        self.tls = parts.scheme == "smtps"
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (465 if self.tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        query = parse_qs(parts.query)
        self.starttls = query.get("starttls", ["0"])[0].lower() in ("1", "true", "yes")
        self.timeout = timeout

    def __repr__(self) -> str:  # never the password
        return f"SmtpSettings({'smtps' if self.tls else 'smtp'}://{self.host}:{self.port})"


class _SmtpSession:
    def __init__(self, client: smtplib.SMTP):
        self.client = client

    def send(self, message: Message) -> None:
        """The message flattened once and sent as those bytes (``send_message`` would flatten
        it again); the envelope is its From and To, as ``send_message`` took it."""
        sender = getaddresses([message["From"]])[0][1]
        recipients = [address for _, address in getaddresses(message.get_all("To", []))]
        options = self._international(sender, recipients)
        data = wire_bytes(message, utf8=bool(options))
        refused = self.client.sendmail(sender, recipients, data, options)
        if refused:
            raise smtplib.SMTPRecipientsRefused(refused)

    def _international(self, sender: str, recipients: list[str]) -> tuple[str, ...]:
        """The MAIL options an address that is not ASCII needs, if the server offers them."""
        if "".join([sender, *recipients]).isascii():
            return ()
        if not self.client.has_extn("smtputf8"):
            raise smtplib.SMTPNotSupportedError(
                "An address requires internationalized email (SMTPUTF8), which the server "
                "does not offer"
            )
        return ("SMTPUTF8", "BODY=8BITMIME")


class SmtpMailer:
    """One SMTP connection, kept open from batch to batch.

    A kept connection is checked with ``NOOP`` before a batch uses it (a server may have closed
    it meanwhile) and replaced when that fails; any error that escapes a batch closes it, so the
    next batch connects afresh. A message the server refuses does not end the connection.
    """

    def __init__(self, url: str, timeout: float = 10.0):
        self.settings = SmtpSettings(url, timeout)
        self._client: smtplib.SMTP | None = None
        self._lock = threading.Lock()

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.tls:
            client = smtplib.SMTP_SSL(
                s.host, s.port, timeout=s.timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            client.ehlo()
            if s.starttls:
                client.starttls(context=ssl.create_default_context())
                client.ehlo()
            if s.username:
                client.login(s.username, s.password or "")
        except BaseException:
            _close(client)
            raise
        return client

    def _kept(self) -> smtplib.SMTP | None:
        client, self._client = self._client, None
        if client is None:
            return None
        try:
            code, _ = client.noop()
            if code == 250:
                return client
        except (smtplib.SMTPException, OSError):
            pass
        _close(client)
        return None

    @contextmanager
    def session(self) -> Iterator[_SmtpSession]:
        with self._lock:
            client = self._kept() or self._connect()
            try:
                yield _SmtpSession(client)
            except BaseException:
                _close(client)
                raise
            self._client = client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                _close(self._client)
                self._client = None


def _close(client: smtplib.SMTP) -> None:
    try:
        client.quit()
    except (smtplib.SMTPException, OSError):
        client.close()


# -- attachments: fetched when the mail is sent -------------------------------------------------
#
# An attachment that cannot be fetched now fails the send like an SMTP error does: the mail is
# tried again later, and never goes out without it.


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
