"""Rendering emails from Jinja2 templates and building the MIME message the sender hands to SMTP.

Each email is three templates under ``templates/``: ``<name>.subject.txt``, ``<name>.txt`` (the
plain-text part) and ``<name>.html`` (the HTML part, autoescaped). The Message-ID is derived from
the cause, the template and the recipient, so the same cause never yields two distinct emails.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from email import encoders
from email.charset import QP, Charset
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.text import MIMEText
from email.policy import Compat32
from email.utils import format_datetime, formataddr, parseaddr

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

MESSAGE_ID_DOMAIN = "portal.example"
# SMTP's hard limit on a line, without its CRLF.
MAX_LINE = 998


class _Policy(Compat32):
    """The classic (compat32) API, which builds and flattens a message without parsing back every
    header it sets as policy.default's header registry does (most of the sender's CPU went there).

    A header that needs neither encoding nor folding is written as it is: compat32 would run it
    through ``email.header.Header`` to find that out (half of the flattening); any other goes
    that way. With ``utf8`` (for a server taking SMTPUTF8) a header that is not ASCII is written
    as UTF-8 too, as policy.default's ``utf8`` did: an address cannot be RFC 2047-encoded.
    """

    utf8 = False

    def fold_binary(self, name, value):
        if isinstance(value, str) and (self.utf8 or value.isascii()):
            line = f"{name}: {value}".encode()
            if len(line) <= self.max_line_length and b"\r" not in line and b"\n" not in line:
                return line + self.linesep.encode("ascii")
        return super().fold_binary(name, value)


# Headers are folded only past SMTP's hard line limit: the default (78) folds a long subject
# before its first word, and some clients then show it with a leading space. No ">From " in bodies.
POLICY = _Policy(max_line_length=MAX_LINE, mangle_from_=False)
# The message as SMTP's DATA carries it: CRLF line ends (smtplib sends bytes as they are).
WIRE = POLICY.clone(linesep="\r\n")
WIRE_UTF8 = WIRE.clone(utf8=True)
# UTF-8 bodies go as they are (7bit, or 8bit when not ASCII) while every line fits SMTP's limit,
# as policy.default sent them; a body with a longer line goes quoted-printable.
AS_IS = Charset("utf-8")
AS_IS.body_encoding = None
QUOTED = Charset("utf-8")
QUOTED.body_encoding = QP


def message_id(cause_message_id: str, template: str, recipient: str) -> str:
    """``<sha256(cause + template + recipient)[:32]@portal.example>``, recipient case-folded."""
    digest = hashlib.sha256(
        (cause_message_id + template + recipient.strip().lower()).encode()
    ).hexdigest()
    return f"<{digest[:32]}@{MESSAGE_ID_DOMAIN}>"


def money(amount, currency: str | None = None) -> str:
    value = Decimal(str(amount)).quantize(Decimal("0.01"))
    return f"{currency} {value:,}" if currency else f"{value:,}"


def day(value) -> str:
    """A date as people read it: ``22 November 2026``."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    return f"{value.day} {value:%B %Y}"


def person(value: dict | None) -> str:
    if not value:
        return ""
    return f"{value.get('first_name', '')} {value.get('last_name', '')}".strip()


LINE_KINDS = {
    "new": "New subscription",
    "renewal": "Renewal",
    "upgrade": "Upgrade to All Products Pack",
    "downgrade": "Downgrade",
}


def line_kind(kind: str) -> str:
    return LINE_KINDS.get(kind, kind)


def _environment(html: bool) -> Environment:
    env = Environment(
        loader=PackageLoader("notifications", "templates"),
        autoescape=select_autoescape(["html"]) if html else False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # The templates ship with the package: no stat() of each file on every render.
        auto_reload=False,
    )
    env.filters.update(money=money, day=day, person=person, line_kind=line_kind)
    return env


_TEXT = _environment(html=False)
_HTML = _environment(html=True)


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def render(template: str, context: dict) -> Rendered:
    subject = _TEXT.get_template(f"{template}.subject.txt").render(context)
    return Rendered(
        # One line, whatever the template's whitespace: a header cannot span lines.
        subject=" ".join(subject.split()),
        text=_TEXT.get_template(f"{template}.txt").render(context),
        html=_HTML.get_template(f"{template}.html").render(context),
    )


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    maintype: str = "application"
    subtype: str = "pdf"


def build_message(mail, attachments: tuple[Attachment, ...] = ()) -> Message:
    """The MIME message of an outgoing-mail row: text and HTML alternatives, then attachments.

    Everything comes from the row, so sending the same row again yields the same message. A header
    value that would span lines (a name with CR/LF: "Bcc: ...") raises ``ValueError``.
    """
    alternatives = [_text_part(mail.text_body, "plain"), _text_part(mail.html_body, "html")]
    if not attachments:
        return _multipart("alternative", alternatives, _headers(mail))
    parts = [_multipart("alternative", alternatives), *map(_attachment_part, attachments)]
    return _multipart("mixed", parts, _headers(mail))


def wire_bytes(message: Message, utf8: bool = False) -> bytes:
    """The message flattened once, as SMTP's DATA carries it (CRLF line ends); ``utf8`` when it
    goes with SMTPUTF8 (an address that is not ASCII)."""
    return message.as_bytes(policy=WIRE_UTF8 if utf8 else WIRE)


def _headers(mail) -> list[tuple[str, str]]:
    """The row's headers; names and subjects that are not ASCII are RFC 2047-encoded."""
    to = (
        formataddr((mail.recipient_name, mail.recipient)) if mail.recipient_name else mail.recipient
    )
    headers = [
        ("From", _address(mail.sender)),
        ("To", to),
        ("Subject", mail.subject),
        ("Date", format_datetime(mail.created_at.astimezone(dt.UTC))),
        ("Message-ID", mail.message_id),
        ("Auto-Submitted", "auto-generated"),
        ("X-Portal-Template", mail.template),
    ]
    if mail.correlation_id:
        headers.append(("X-Correlation-ID", mail.correlation_id))
    headers.append(("MIME-Version", "1.0"))
    return headers


def _address(value: str) -> str:
    """A configured address (``MAIL_FROM``), its display name encoded when it is not ASCII: the
    classic API would encode the address along with it."""
    return value if value.isascii() else formataddr(parseaddr(value))


def _one_line(name: str, value: str) -> str:
    """``value``, unless it holds a line break: it would end the header there and start another
    (or the body). policy.default refused such values when they were set; it let a trailing one
    through, which ended the headers early."""
    if "\r" in value or "\n" in value or len(value.splitlines()) > 1:
        raise ValueError(f"The {name} header may not contain a line break")
    return value


def _multipart(
    subtype: str, parts: list[Message], headers: Iterable[tuple[str, str]] = ()
) -> Message:
    """``parts`` as one multipart/``subtype``, after ``headers`` (a message's own, set first)."""
    message = Message(policy=POLICY)
    for name, value in headers:
        message[name] = _one_line(name, value)
    # 128 random bits cannot occur in parts rendered before them: the generator need not make
    # a boundary and search the parts for it (a regular expression compiled per message).
    message["Content-Type"] = f'multipart/{subtype}; boundary="=_{secrets.token_hex(16)}"'
    for part in parts:
        message.attach(part)
    return message


def _text_part(text: str, subtype: str) -> MIMEText:
    fits = max(map(len, text.encode().splitlines()), default=0) <= MAX_LINE
    part = MIMEText(text, subtype, AS_IS if fits else QUOTED, policy=POLICY)
    del part["MIME-Version"]  # the message says it once
    return part


def _attachment_part(item: Attachment) -> MIMEBase:
    part = MIMEBase(item.maintype, item.subtype, policy=POLICY)
    part.set_payload(item.content)
    encoders.encode_base64(part)
    part.add_header("Content-Disposition", "attachment", filename=item.filename)
    del part["MIME-Version"]
    return part
