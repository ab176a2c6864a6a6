"""The sender: every queued email reaches the SMTP server once, even when the server was down."""

from __future__ import annotations

import copy
import time

from aiosmtpd.controller import Controller
from sqlalchemy import select
from structlog.testing import capture_logs

import portal_contracts
from notifications import SERVICE
from notifications.bootstrap import bootstrap
from notifications.config import NotificationsConfig
from notifications.models import OutgoingMail
from notifications.ports import SmtpSettings
from notifications.sender import claim, retry_delay, send_pending, send_while_due
from portal_runtime.clock import Clock
from portal_runtime.testing import deliver, event
from portal_system.mailsink import MailFolder


def example_event(event_type: str, **changes):
    payload = copy.deepcopy(portal_contracts.example(event_type))
    payload.update(changes)
    return event(event_type, payload)


def mails(service) -> list[OutgoingMail]:
    with service.sessions() as session:
        return list(session.scalars(select(OutgoingMail).order_by(OutgoingMail.id)))


def queue_some(service) -> set[str]:
    """Three causes, five emails."""
    deliver(service, example_event("orders.order.placed"))
    deliver(service, example_event("licensing.license.assigned"))
    deliver(
        service,
        example_event(
            "licensing.invitation.claimed", admin_emails=["a1@acme.example", "a2@acme.example"]
        ),
    )
    return {row.message_id for row in mails(service)}


def test_queued_mail_is_sent_over_smtp_and_marked_sent(service, sink):
    sink.start()
    expected = queue_some(service)

    assert send_pending(service) == 5

    received = sink.mails()
    assert {m["Message-ID"] for m in received} == expected
    assert all(row.status == "sent" and row.attempts == 1 for row in mails(service))
    confirmation = next(m for m in received if "confirmed" in m["Subject"])
    assert confirmation["To"] == "Demo Reseller <sales@demo-reseller.example>"
    assert confirmation.get_body(("plain",)).get_content().startswith("Hello Demo Reseller")
    assert "<html" in confirmation.get_body(("html",)).get_content()
    assert send_pending(service) == 0
    assert len(sink.mails()) == 5


def test_the_sender_runs_again_at_once_only_while_a_full_batch_came(make_service, sink):
    """Five mails in batches of two: two full batches say more may be due, the third (one mail)
    took all there was, so the job waits to be rung by the next mail queued."""
    sink.start()
    service = make_service(send_batch=2)
    queue_some(service)

    assert [send_while_due(service) for _ in range(3)] == [True, True, False]
    assert len(sink.mails()) == 5
    assert all(row.status == "sent" for row in mails(service))
    assert send_while_due(service) is False


def test_with_the_server_down_a_full_batch_does_not_make_the_sender_try_again_at_once(
    make_service, sink
):
    service = make_service(send_batch=2)
    queue_some(service)  # the sink is not started: nothing answers

    assert send_while_due(service) is False
    tried = [row.attempts for row in mails(service)]
    assert sorted(tried) == [0, 0, 0, 1, 1]  # one batch tried once, then the job waits


def test_the_same_event_delivered_twice_sends_one_email_per_recipient(service, sink):
    sink.start()
    placed = example_event("orders.order.placed")

    deliver(service, placed)
    send_pending(service)
    deliver(service, placed)
    send_pending(service)

    recipients = sorted(m["To"].addresses[0].addr_spec for m in sink.mails())
    assert recipients == ["ada@acme.example", "sales@demo-reseller.example"]


def test_smtp_down_for_a_while_every_email_arrives_once_it_is_back_none_twice(service, sink, clock):
    expected = queue_some(service)

    # The server is down: each run records a failed try and waits longer before the next.
    assert send_pending(service) == 0
    assert {(row.status, row.attempts) for row in mails(service)} == {("pending", 1)}
    assert all("Connection refused" in (row.last_error or "") for row in mails(service))
    assert send_pending(service) == 0, "not due again before the backoff has passed"
    clock.advance(seconds=1)
    send_pending(service)
    assert {row.attempts for row in mails(service)} == {2}
    clock.advance(seconds=1)
    assert send_pending(service) == 0, "the second wait is twice as long"

    sink.start()
    clock.advance(seconds=1)
    assert send_pending(service) == 5
    clock.advance(seconds=60)
    assert send_pending(service) == 0

    received = sink.mails()
    assert sorted(m["Message-ID"] for m in received) == sorted(expected)
    assert {(row.status, row.attempts) for row in mails(service)} == {("sent", 3)}


def test_a_send_that_keeps_failing_ends_failed_after_the_configured_attempts(make_service, clock):
    service = make_service(send_max_attempts=3)
    deliver(service, example_event("licensing.license.assigned"))

    with capture_logs() as logs:
        for _ in range(5):
            send_pending(service)
            clock.advance(seconds=60)

    [row] = mails(service)
    assert (row.status, row.attempts) == ("failed", 3)
    assert row.failed_at is not None and row.last_error
    [failure] = [entry for entry in logs if entry["event"] == "mail.failed"]
    assert failure["log_level"] == "error"
    assert failure["recipient"] == "ada@acme.example"


def test_the_quote_email_has_its_pdf_attached(service, sink, quote_pdfs):
    sink.start()
    deliver(service, example_event("quotes.quote.issued"))

    assert send_pending(service) == 1

    [message] = sink.mails()
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "Q-2026-000123.pdf"
    assert attachment.get_content().startswith(b"%PDF")
    assert message.get_body(("plain",)) is not None
    assert quote_pdfs.fetched == ["Q-2026-000123"]


def test_the_quote_waits_for_its_pdf_and_never_goes_out_without_it(
    service, sink, quote_pdfs, clock
):
    sink.start()
    quote_pdfs.down = True
    deliver(service, example_event("quotes.quote.issued"))

    assert send_pending(service) == 0
    assert sink.mails() == []
    [row] = mails(service)
    assert (row.status, row.attempts) == ("pending", 1)
    assert "cart-quote" in row.last_error

    quote_pdfs.down = False
    clock.advance(seconds=1)
    assert send_pending(service) == 1
    [message] = sink.mails()
    assert [a.get_filename() for a in message.iter_attachments()] == ["Q-2026-000123.pdf"]


class RefusingFolder(MailFolder):
    """A server that knows no mailbox called ``bounce@…`` and is short of room for ``full@…``."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.startswith("bounce@"):
            return "550 5.1.1 No such mailbox"
        if address.startswith("full@"):
            return "452 4.2.2 Mailbox full, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"


def test_one_refused_recipient_does_not_hold_up_the_others(service, sink, tmp_path):
    controller = Controller(RefusingFolder(sink.folder), hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        deliver(
            service,
            example_event(
                "licensing.invitation.claimed",
                admin_emails=["bounce@acme.example", "full@acme.example", "admin@acme.example"],
            ),
        )
        with capture_logs() as logs:
            assert send_pending(service) == 1
    finally:
        controller.stop()

    rows = {row.recipient: row for row in mails(service)}
    assert rows["admin@acme.example"].status == "sent"
    # No such mailbox: failed at once, and said so; a full mailbox is tried again later.
    assert (rows["bounce@acme.example"].status, rows["bounce@acme.example"].attempts) == (
        "failed",
        1,
    )
    assert "No such mailbox" in rows["bounce@acme.example"].last_error
    assert [e["event"] for e in logs if e.get("log_level") == "error"] == ["mail.failed"]
    assert rows["full@acme.example"].status == "pending"
    assert "Mailbox full" in rows["full@acme.example"].last_error
    assert [m["To"] for m in sink.mails()] == ["admin@acme.example"]


def test_backoff_doubles_up_to_the_cap():
    assert [retry_delay(n, 2.0, 30.0) for n in range(1, 7)] == [2, 4, 8, 16, 30, 30]


def test_smtp_url_carries_host_port_and_credentials():
    settings = SmtpSettings("smtp://mailer%40corp:s%3Acret@mail.corp:2525?starttls=1")
    assert (settings.host, settings.port) == ("mail.corp", 2525)
    assert (settings.username, settings.password) == ("mailer@corp", "s:cret")
    assert settings.starttls and not settings.tls
    assert "s:cret" not in repr(settings)
    assert SmtpSettings("smtps://mail.corp").port == 465


def test_credentials_in_smtp_url_are_used_to_log_in(make_service, sink):
    sink.start()
    service = make_service(smtp_url=f"smtp://user:secret@127.0.0.1:{sink.port}")
    deliver(service, example_event("licensing.license.revoked"))

    assert send_pending(service) == 1
    assert len(sink.mails()) == 1


def test_a_shifted_demo_clock_does_not_postpone_retries(tmp_path, sink, quote_pdfs):
    config = NotificationsConfig.from_env(
        SERVICE,
        database_url=f"sqlite:///{tmp_path / 'shifted.db'}",
        broker_url="memory://",
        smtp_url=sink.url,
        send_retry_base=0.05,
    )
    # The domain clock runs 40 days ahead (CLOCK_OFFSET_DAYS), then the worker restarts without.
    shifted = bootstrap(config, clock=Clock(offset_days=40), quote_pdfs=quote_pdfs)
    shifted.migrate()
    deliver(shifted, example_event("licensing.license.revoked"))
    assert send_pending(shifted) == 0
    restarted = bootstrap(config, clock=Clock(offset_days=0), quote_pdfs=quote_pdfs)

    sink.start()
    deadline = time.monotonic() + 5
    while not sink.mails() and time.monotonic() < deadline:
        send_pending(restarted)
        time.sleep(0.05)
    assert len(sink.mails()) == 1


def test_mail_claimed_by_a_sender_that_died_is_sent_after_its_lease(service, sink, clock):
    sink.start()
    deliver(service, example_event("licensing.license.revoked"))
    assert claim(service, clock.now()), "a sender takes the row, then dies before sending"

    assert send_pending(service) == 0, "another sender leaves it alone while the lease runs"
    clock.advance(seconds=service.config.send_claim_seconds + 1)
    assert send_pending(service) == 1
    assert len(sink.mails()) == 1


def test_a_run_out_of_time_hands_its_rows_back_untried(make_service, sink):
    sink.start()
    service = make_service(send_claim_seconds=0.0)
    deliver(service, example_event("orders.order.placed"))

    assert send_pending(service) == 0

    assert sink.mails() == []
    assert {(row.status, row.attempts, row.next_attempt_at) for row in mails(service)} == {
        ("pending", 0, None)
    }


class CountingFolder(MailFolder):
    """The sink's handler, counting the SMTP sessions clients open (one EHLO each)."""

    def __init__(self, folder):
        super().__init__(folder)
        self.sessions = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802
        self.sessions += 1
        session.host_name = hostname
        return responses


def test_batch_after_batch_goes_over_one_smtp_connection_and_a_dropped_one_is_replaced(
    service, sink
):
    handler = CountingFolder(sink.folder)
    controller = Controller(handler, hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        deliver(service, example_event("licensing.license.assigned"))
        assert send_pending(service) == 1
        deliver(service, example_event("orders.order.placed"))
        assert send_pending(service) == 2
        assert handler.sessions == 1
    finally:
        controller.stop()
    # The server went away and came back: the kept connection is dead, the next batch reconnects
    # and its mail goes out at the first attempt.
    sink.start()
    deliver(service, example_event("quotes.quote.issued"))
    assert send_pending(service) == 1
    assert {(row.status, row.attempts) for row in mails(service)} == {("sent", 1)}
    assert len(sink.mails()) == 4


def test_the_worker_sends_a_queued_mail_at_once_not_at_its_next_sweep(make_service, sink):
    import threading

    service = make_service(send_interval=600.0)
    sink.start()
    stop = threading.Event()
    worker = threading.Thread(
        target=service.run_worker, kwargs=dict(stop=stop, relay=False, consume=False), daemon=True
    )
    worker.start()
    try:
        time.sleep(0.5)  # the job's first run (at start) is over; only a wake-up sends now
        deliver(service, example_event("licensing.license.assigned"))
        deadline = time.monotonic() + 30
        while not sink.mails() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(sink.mails()) == 1
    finally:
        stop.set()
        worker.join(timeout=15)


def test_a_mail_whose_header_cannot_be_formatted_fails_alone_once_and_the_batch_is_sent(
    service, sink, clock
):
    sink.start()
    # A name with CR/LF, as the public invitation claim once let through, and a good mail beside.
    deliver(
        service,
        example_event(
            "licensing.license.assigned",
            assignee={
                "first_name": "Eve\r\nBcc: victim@elsewhere.example",
                "last_name": "Evil",
                "email": "eve@acme.example",
            },
        ),
    )
    queue_some(service)
    bad = next(row for row in mails(service) if row.recipient == "eve@acme.example")

    assert send_pending(service) == 5
    clock.advance(seconds=3600)
    assert send_pending(service) == 0

    row = next(row for row in mails(service) if row.id == bad.id)
    assert (row.status, row.attempts) == ("failed", 1)
    assert "cannot be formatted" in row.last_error
    assert all(r.status == "sent" for r in mails(service) if r.id != bad.id)
    received = sink.mails()
    assert len(received) == 5
    assert all("victim@elsewhere.example" not in str(m) for m in received)


def test_an_address_that_is_not_ascii_goes_out_over_smtputf8(service, sink):
    sink.start()  # the local sink offers SMTPUTF8, as most servers do
    deliver(
        service,
        example_event(
            "licensing.invitation.claimed", admin_emails=["zoë@acme.example", "a1@acme.example"]
        ),
    )

    assert send_pending(service) == 2

    # In UTF-8 as it is (an address has no RFC 2047 form), as the server read the envelope.
    files = [path.read_bytes() for path in sorted(sink.folder.glob("*.eml"))]
    assert sum("\r\nTo: zoë@acme.example\r\n".encode() in data for data in files) == 1
    assert sum(b"\r\nTo: a1@acme.example\r\n" in data for data in files) == 1


def test_mail_queued_beside_the_running_sender_is_handed_to_it_without_a_claim(make_service, sink):
    """The worker's consumer queues mail in the sender job's own process: the rows are leased
    to it in their insert and handed over at the commit, so the job sends them without the
    claim (a transaction of its own) that it makes for mail queued elsewhere."""
    import threading

    from sqlalchemy import event as sa_event

    service = make_service(send_interval=600.0)
    sink.start()
    claims: list[str] = []

    @sa_event.listens_for(service.engine, "before_cursor_execute")
    def count_claims(conn, cursor, statement, *args):
        if statement.lstrip().startswith("WITH due AS"):
            claims.append(statement)

    stop = threading.Event()
    worker = threading.Thread(
        target=service.run_worker, kwargs=dict(stop=stop, relay=False, consume=False), daemon=True
    )
    worker.start()
    try:
        deadline = time.monotonic() + 30
        while not claims and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(claims) == 1, "the job's first run claims what was due at its start"
        expected = queue_some(service)
        while len(sink.mails()) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert {m["Message-ID"] for m in sink.mails()} == expected
        assert len(claims) == 1, "the handed mails were sent without another claim"
        assert {(row.status, row.attempts) for row in mails(service)} == {("sent", 1)}
    finally:
        stop.set()
        worker.join(timeout=15)


def test_a_handed_mail_no_other_sender_takes_is_sent_once_after_its_sender_died(
    service, sink, clock
):
    from notifications.sender import WAKE
    from portal_runtime import wakeup

    sink.start()
    with wakeup.Doorbell(service.engine, WAKE):  # the sender job's, in this process
        assert send_while_due(service) is False  # its first run: nothing due yet
        deliver(service, example_event("licensing.license.revoked"))
        (row,) = mails(service)
        assert row.status == "pending" and row.next_attempt_at is not None, "leased to it"
        assert claim(service, clock.now()) == [], "another worker's sender passes it by"
    # The process dies with the mail handed over but not sent.

    assert send_pending(service) == 0, "nobody takes it while its lease runs"
    clock.advance(seconds=service.config.send_claim_seconds + 1)
    assert send_pending(service) == 1
    assert send_pending(service) == 0
    assert len(sink.mails()) == 1
