"""Rendering emails from Jinja2 templates and building the MIME message the sender hands to SMTP.

Each email is three templates under ``templates/``: ``<name>.subject.txt``, ``<name>.txt`` (the
plain-text part) and ``<name>.html`` (the HTML part, autoescaped). The Message-ID is derived from
the cause, the template and the recipient, so the same cause never yields two distinct emails.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import hashlib
from dataclasses import dataclass
from decimal import Decimal
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

MESSAGE_ID_DOMAIN = "portal.example"
# Headers are folded only past SMTP's hard line limit: the default (78) folds a long subject
# before its first word, and some clients then show it with a leading space.
POLICY = email.policy.default.clone(max_line_length=998)


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


def build_message(mail, attachments: tuple[Attachment, ...] = ()) -> EmailMessage:
    """The MIME message of an outgoing-mail row: text and HTML alternatives, then attachments.

    Everything comes from the row, so sending the same row again yields the same message.
    """
    msg = EmailMessage(policy=POLICY)
    msg["From"] = mail.sender
    msg["To"] = (
        formataddr((mail.recipient_name, mail.recipient))
        if mail.recipient_name
        else (mail.recipient)
    )
    msg["Subject"] = mail.subject
    msg["Date"] = format_datetime(mail.created_at.astimezone(dt.UTC))
    msg["Message-ID"] = mail.message_id
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Portal-Template"] = mail.template
    if mail.correlation_id:
        msg["X-Correlation-ID"] = mail.correlation_id
    msg.set_content(mail.text_body)
    msg.add_alternative(mail.html_body, subtype="html")
    for item in attachments:
        msg.add_attachment(
            item.content, maintype=item.maintype, subtype=item.subtype, filename=item.filename
        )
    return msg
