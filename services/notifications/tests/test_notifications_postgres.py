"""The sender on the real PostgreSQL: competing senders never send the same mail twice."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

import portal_contracts
from notifications import SERVICE
from notifications.bootstrap import bootstrap
from notifications.config import NotificationsConfig
from notifications.models import KnownLicense, OutgoingMail
from notifications.sender import send_pending
from portal_runtime.testing import deliver, event, postgres_database

pytestmark = pytest.mark.integration


def test_two_senders_on_postgresql_send_every_mail_exactly_once(sink, quote_pdfs):
    sink.start()
    with postgres_database("notifications") as url:
        config = NotificationsConfig.from_env(
            SERVICE,
            database_url=url,
            broker_url="memory://",
            smtp_url=sink.url,
            send_batch=3,
        )
        senders = [bootstrap(config, quote_pdfs=quote_pdfs) for _ in range(2)]
        senders[0].migrate()
        try:
            for number in range(15):
                payload = dict(
                    portal_contracts.example("licensing.invitation.claimed"),
                    license_id=f"L-{number:08d}",
                    admin_emails=["admin@acme.example", "owner@acme.example"],
                )
                deliver(senders[0], event("licensing.invitation.claimed", payload))
            deliver(
                senders[1],
                event("quotes.quote.issued", portal_contracts.example("quotes.quote.issued")),
            )

            start = threading.Barrier(2)
            sent = [0, 0]

            def run(index: int) -> None:
                start.wait()
                for _ in range(40):
                    sent[index] += send_pending(senders[index])

            threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)

            received = [m["Message-ID"] for m in sink.mails()]
            assert len(received) == 31
            assert len(set(received)) == 31
            assert sum(sent) == 31
            assert all(sent), "both senders took part"
            with senders[0].sessions() as session:
                statuses = dict(
                    session.execute(
                        select(OutgoingMail.status, func.count()).group_by(OutgoingMail.status)
                    ).all()
                )
                attempts = set(session.scalars(select(OutgoingMail.attempts)))
            assert statuses == {"sent": 31}
            assert attempts == {1}
        finally:
            for sender in senders:
                sender.engine.dispose()


def test_a_replay_that_slips_past_the_inbox_adds_no_mail_on_postgresql(quote_pdfs):
    with postgres_database("notifications") as url:
        config = NotificationsConfig.from_env(SERVICE, database_url=url, broker_url="memory://")
        service = bootstrap(config, quote_pdfs=quote_pdfs)
        service.migrate()
        try:
            placed = event(
                "orders.order.placed",
                dict(portal_contracts.example("orders.order.placed"), send_activation_email=True),
            )
            [handler] = service.handlers["orders.order.placed"]
            woken = []
            for _ in range(2):
                with service.uow() as uow:
                    handler(placed, uow)
                    woken.append(set(uow._wake))
                    uow.commit()
            with service.sessions() as session:
                templates = sorted(session.scalars(select(OutgoingMail.template)))
            assert templates == ["activation", "order_confirmation"]
            assert woken == [{"mail"}, set()]  # the replay queued nothing, so wakes nobody
        finally:
            service.engine.dispose()


def test_license_reports_on_postgresql_add_new_licenses_and_renew_known_ones(quote_pdfs):
    """What the license e-mails say of each license is one upsert per report: a renewal's new
    end date replaces the old one, and a license named twice in one report is kept once."""
    with postgres_database("notifications") as url:
        config = NotificationsConfig.from_env(
            SERVICE, database_url=url, broker_url="memory://", smtp_url="smtp://127.0.0.1:1"
        )
        service = bootstrap(config, quote_pdfs=quote_pdfs)
        service.migrate()
        try:
            issued = portal_contracts.example("licensing.licenses.issued")
            first = issued["licenses"][0]
            deliver(service, event("licensing.licenses.issued", issued))
            renewed = dict(
                issued,
                licenses=[
                    dict(first, valid_until="2028-11-22"),
                    dict(first, valid_until="2028-11-22"),
                    dict(first, license_id="L-NEW00001"),
                ],
            )
            deliver(service, event("licensing.licenses.issued", renewed))

            with service.sessions() as session:
                known = {
                    row.license_id: row.valid_until.isoformat()
                    for row in session.scalars(select(KnownLicense))
                }
            assert known[first["license_id"]] == "2028-11-22"
            assert known["L-NEW00001"] == first["valid_until"]
            assert len(known) == len(issued["licenses"]) + 1
        finally:
            service.engine.dispose()
