"""The MIME message of a row, as a mail reader parses it back: names, subjects and bodies intact."""

from __future__ import annotations

import datetime as dt
import email
import email.policy

import pytest

from notifications.mail import Attachment, build_message, wire_bytes
from notifications.models import OutgoingMail


def row(**changes) -> OutgoingMail:
    values = dict(
        message_id="<0123456789abcdef0123456789abcdef@portal.example>",
        cause_message_id="m-1",
        cause_type="orders.order.placed",
        correlation_id="corr-1",
        template="order_confirmation",
        recipient="sales@demo-reseller.example",
        recipient_name="Demo Reseller",
        sender="Partner Portal <no-reply@portal.example>",
        subject="Order O-2026-000042 confirmed: Acme Corp",
        text_body="Hello Demo Reseller,\n\nFrom now on your order is confirmed.\n.\n",
        html_body="<html><body><p>Hello Demo Reseller</p></body></html>\n",
        created_at=dt.datetime(2026, 12, 3, 9, 30, tzinfo=dt.UTC),
    )
    values.update(changes)
    return OutgoingMail(**values)


def as_received(mail: OutgoingMail, attachments: tuple[Attachment, ...] = ()):
    """The message as the SMTP server receives it, parsed as a mail reader does (which reads the
    wire's CRLF line ends as line ends)."""
    data = wire_bytes(build_message(mail, attachments)).replace(b"\r\n", b"\n")
    return email.message_from_bytes(data, policy=email.policy.default)


def test_the_message_carries_every_header_of_its_row():
    message = as_received(row())

    assert message["From"] == "Partner Portal <no-reply@portal.example>"
    assert message["To"] == "Demo Reseller <sales@demo-reseller.example>"
    assert message["Subject"] == "Order O-2026-000042 confirmed: Acme Corp"
    assert message["Date"].datetime == dt.datetime(2026, 12, 3, 9, 30, tzinfo=dt.UTC)
    assert message["Message-ID"] == "<0123456789abcdef0123456789abcdef@portal.example>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["X-Portal-Template"] == "order_confirmation"
    assert message["X-Correlation-ID"] == "corr-1"
    assert message.get_content_type() == "multipart/alternative"
    assert "X-Correlation-ID" not in as_received(row(correlation_id=None))


def test_the_bodies_arrive_as_written_with_no_line_mangled():
    message = as_received(row())
    # Readable in the raw message too (not base64), as they always were.
    assert b"\r\nFrom now on your order is confirmed.\r\n.\r\n" in wire_bytes(build_message(row()))

    plain = message.get_body(("plain",)).get_content()
    assert plain == "Hello Demo Reseller,\n\nFrom now on your order is confirmed.\n.\n"
    assert message.get_body(("html",)).get_content() == (
        "<html><body><p>Hello Demo Reseller</p></body></html>\n"
    )


def test_a_name_subject_and_body_that_are_not_ascii_read_back_the_same():
    message = as_received(
        row(
            recipient_name="Zoë Ünal-Straße",
            subject="Bestellung für Zoë bestätigt — Ärger? Nein",
            text_body="Grüße, Zoë 😀\n",
            html_body="<p>Grüße, Zoë 😀</p>\n",
            sender="Pärtner Portal <no-reply@portal.example>",
        )
    )

    assert message["To"].addresses[0].display_name == "Zoë Ünal-Straße"
    assert message["To"].addresses[0].addr_spec == "sales@demo-reseller.example"
    assert message["Subject"] == "Bestellung für Zoë bestätigt — Ärger? Nein"
    assert message["From"].addresses[0].display_name == "Pärtner Portal"
    assert message["From"].addresses[0].addr_spec == "no-reply@portal.example"
    assert message.get_body(("plain",)).get_content() == "Grüße, Zoë 😀\n"
    assert message.get_body(("html",)).get_content_charset() == "utf-8"
    assert "Grüße, Zoë 😀".encode() in wire_bytes(build_message(row(text_body="Grüße, Zoë 😀\n")))


def test_a_long_subject_stays_on_one_line():
    subject = "Order O-2026-000042 confirmed: " + "Acme Corporation International " * 8
    data = wire_bytes(build_message(row(subject=subject.strip())))

    assert f"Subject: {subject.strip()}\r\n".encode() in data
    assert email.message_from_bytes(data, policy=email.policy.default)["Subject"] == (
        subject.strip()
    )


def test_a_body_line_past_smtps_limit_is_wrapped_for_the_wire_and_reads_back_whole():
    long_line = "x" * 1500
    data = wire_bytes(build_message(row(html_body=f"<p>{long_line}</p>\n")))

    assert max(len(line) for line in data.split(b"\r\n")) <= 998
    message = email.message_from_bytes(data.replace(b"\r\n", b"\n"), policy=email.policy.default)
    assert message.get_body(("html",)).get_content() == f"<p>{long_line}</p>\n"


def test_the_wire_form_has_crlf_line_ends_only():
    data = wire_bytes(build_message(row()))

    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")


def test_an_attachment_makes_the_message_mixed_with_the_alternatives_first():
    pdf = b"%PDF-1.4\n% a quote\n%%EOF\n"
    message = as_received(row(), (Attachment(filename="Q-2026-000123.pdf", content=pdf),))

    assert message.get_content_type() == "multipart/mixed"
    first, attachment = message.iter_parts()
    assert first.get_content_type() == "multipart/alternative"
    assert message.get_body(("plain",)).get_content().startswith("Hello Demo Reseller")
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "Q-2026-000123.pdf"
    assert attachment.get_content() == pdf


@pytest.mark.parametrize(
    "changes",
    [
        dict(recipient_name="Eve\r\nBcc: victim@elsewhere.example"),
        dict(recipient_name="Eve\nBcc: victim@elsewhere.example"),
        dict(subject="Hello\rBcc: victim@elsewhere.example"),
        dict(correlation_id="corr-1\n"),
        dict(sender="Partner Portal <no-reply@portal.example>\r\nBcc: victim@elsewhere.example"),
    ],
)
def test_a_header_value_with_a_line_break_cannot_be_built(changes):
    with pytest.raises(ValueError, match="line break"):
        build_message(row(**changes))
