"""Every event someone should hear about becomes the right email, once per cause and recipient."""

from __future__ import annotations

import copy
import email
import email.policy

import pytest
from sqlalchemy import select

import portal_contracts
from notifications.handlers import EVENT_HANDLERS
from notifications.mail import build_message, message_id
from notifications.models import OutgoingMail
from portal_runtime.testing import deliver, event

# (event type, template, recipient, words the subject must contain)
EMAILS = [
    ("orders.order.placed", "order_confirmation", "sales@demo-reseller.example",
     ["O-2026-000042", "confirmed", "Acme Corp"]),
    ("orders.order.placed", "activation", "ada@acme.example",
     ["Activate", "Acme Corp", "O-2026-000042"]),
    ("orders.activation_email.requested", "activation", "ada@acme.example",
     ["Activate", "Acme Corp"]),
    ("orders.licenses.resend_requested", "license_details", "ada@acme.example",
     ["license details", "O-2026-000042"]),
    ("quotes.quote.issued", "quote", "sales@demo-reseller.example",
     ["Quote Q-2026-000123", "Acme Corp", "valid until"]),
    ("billing.invoice.issued", "invoice_issued", None, ["Invoice"]),
    ("billing.invoice.overdue", "invoice_overdue", None, ["Overdue", "invoice"]),
    ("billing.payment.failed", "payment_failed", None, ["Payment failed"]),
    ("billing.credit_note.issued", "credit_note", None, ["Credit note"]),
    ("licensing.license.assigned", "license_assigned", "ada@acme.example", ["license"]),
    ("licensing.license.revoked", "license_revoked", None, ["license", "revoked"]),
    ("licensing.invitation.claimed", "invitation_claimed", "admin@acme.example",
     ["Ada Lovelace", "claimed"]),
    ("licensing.admin.invited", "admin_invitation", "peter@initech.example",
     ["Initech", "C-100003", "set your password"]),
    ("licensing.management.requested", "management_request", "admin@acme.example",
     ["Demo Reseller", "manage", "Acme Corp"]),
    ("licensing.holder_link.issued", "my_licenses_link", "ada@acme.example",
     ["Your licenses", "activation codes"]),
    ("gateway.sign_in.throttled", "sign_in_throttled", "sales@demo-reseller.example",
     ["Failed sign-ins"]),
    ("gateway.user.invited", "user_invitation", "new.colleague@demo-reseller.example",
     ["invited", "Demo Reseller"]),
    ("gateway.invitation.refused", "invitation_refused", "sales@other-reseller.example",
     ["invitation", "Demo Reseller", "not sent"]),
]  # fmt: skip


def mails(service, **where) -> list[OutgoingMail]:
    with service.sessions() as session:
        query = select(OutgoingMail).order_by(OutgoingMail.id)
        for column, value in where.items():
            query = query.where(getattr(OutgoingMail, column) == value)
        return list(session.scalars(query))


def example_event(event_type: str, **changes):
    payload = copy.deepcopy(portal_contracts.example(event_type))
    payload.update(changes)
    return event(event_type, payload)


def parts(message) -> dict[str, str]:
    return {
        part.get_content_type(): part.get_content()
        for part in message.walk()
        if part.get_content_type() in ("text/plain", "text/html")
    }


@pytest.mark.parametrize(("event_type", "template", "recipient", "words"), EMAILS)
def test_every_email_renders_with_text_and_html_for_its_recipient(
    service, event_type, template, recipient, words
):
    example = portal_contracts.example(event_type)
    expected_to = recipient or example.get("buyer", {}).get("email")
    if event_type == "licensing.license.revoked":
        expected_to = example["former_assignee"]["email"]

    deliver(service, example_event(event_type))

    [row] = mails(service, template=template)
    assert row.recipient == expected_to
    for word in words:
        assert word.lower() in row.subject.lower()
    message = build_message(row)
    assert expected_to in message["To"]
    assert message["From"] == "Partner Portal <no-reply@portal.example>"
    assert message["Message-ID"] == row.message_id
    on_the_wire = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert on_the_wire["Subject"] == row.subject
    bodies = parts(on_the_wire)
    assert set(bodies) == {"text/plain", "text/html"}
    assert "<html" in bodies["text/html"] and "<html" not in bodies["text/plain"]
    # Both parts say the same thing; the plain one is not an HTML dump.
    assert "Partner Portal" in bodies["text/plain"]


def test_every_subscribed_event_is_handled():
    assert set(EVENT_HANDLERS) == set(portal_contracts.SUBSCRIPTIONS["notifications"])
    emailing = {event_type for event_type, *_ in EMAILS}
    facts = {"catalog.price_list.published", "licensing.licenses.issued"}
    assert emailing == set(EVENT_HANDLERS) - facts


def test_order_confirmation_links_to_the_order_in_the_portal_and_lists_what_was_bought(service):
    deliver(service, example_event("orders.order.placed", portal_url=None))

    [row] = mails(service, template="order_confirmation")
    assert "https://portal.test/portal/orders/O-2026-000042" in row.text_body
    assert 'href="https://portal.test/portal/orders/O-2026-000042"' in row.html_body
    assert "USD 448.20" in row.text_body
    # The quantity and the period never run together ("2" + "22 Nov" read as "222 Nov"): the
    # text says which is which, the HTML cells are padded apart.
    assert "quantity 2, 22 November 2026 to" in row.text_body
    assert 'padding: 4px 8px;">2</td><td style="padding: 4px 8px;">22 November 2026' in (
        row.html_body
    )


def test_order_confirmation_uses_the_link_the_order_carries(service):
    link = "https://partners.example.com/portal/orders/O-2026-000042"
    deliver(service, example_event("orders.order.placed", portal_url=link))

    [row] = mails(service, template="order_confirmation")
    assert link in row.text_body


def test_no_activation_email_unless_the_buyer_asked_for_it(service):
    deliver(service, example_event("orders.order.placed", send_activation_email=False))

    assert [row.template for row in mails(service)] == ["order_confirmation"]


def test_activation_email_says_what_was_bought_for_which_account_and_how_to_activate(service):
    deliver(service, example_event("catalog.price_list.published"))
    deliver(service, example_event("orders.order.placed"))

    [row] = mails(service, template="activation")
    assert row.recipient_name == "Ada Lovelace"
    assert "PyCharm Professional" in row.text_body
    assert "Acme Corp (account C-100001)" in row.text_body
    assert "How to activate" in row.text_body
    assert "https://portal.test/portal/customers/C-100001/licenses" in row.text_body


def test_license_email_carries_the_offline_activation_code(service):
    example = portal_contracts.example("licensing.license.assigned")
    deliver(service, example_event("licensing.license.assigned"))

    [row] = mails(service)
    assert example["activation_code"] in row.text_body
    assert example["activation_code"] in row.html_body
    assert example["license_id"] in row.text_body


def test_license_email_links_to_my_licenses_instead_of_a_sign_in_nobody_has(service):
    example = portal_contracts.example("licensing.license.assigned")
    deliver(service, example_event("licensing.license.assigned"))

    [row] = mails(service)
    link = f"https://portal.test/portal/my-licenses/{example['my_licenses_token']}"
    assert link in row.text_body and f'href="{link}"' in row.html_body
    assert "works once, until 29 November 2026" in row.text_body
    assert "sign in" not in row.text_body.lower() and "sign in" not in row.html_body.lower()


def test_a_license_email_from_before_my_licenses_links_still_renders(service):
    deliver(service, example_event("licensing.license.assigned", my_licenses_token=None))
    [row] = mails(service)
    assert "/portal/my-licenses/" not in row.text_body
    assert portal_contracts.example("licensing.license.assigned")["activation_code"] in (
        row.text_body
    )


def test_a_holder_who_asked_gets_the_single_use_link_and_where_to_ask_again(service):
    example = portal_contracts.example("licensing.holder_link.issued")
    deliver(service, example_event("licensing.holder_link.issued"))

    [row] = mails(service, template="my_licenses_link")
    link = f"https://portal.test/portal/my-licenses/{example['token']}"
    assert link in row.text_body and f'href="{link}"' in row.html_body
    assert "works once, until 29 November 2026" in row.text_body
    assert "2 licenses" in row.text_body
    assert "ask for a new one at https://portal.test/portal/my-licenses/" in row.text_body


def test_every_admin_hears_of_a_claim_once(service):
    deliver(
        service,
        example_event(
            "licensing.invitation.claimed",
            admin_emails=["admin@acme.example", "second@acme.example", "ADMIN@acme.example"],
        ),
    )

    assert sorted(row.recipient for row in mails(service)) == [
        "admin@acme.example",
        "second@acme.example",
    ]


def test_the_same_event_delivered_twice_makes_one_row_per_recipient(service):
    placed = example_event("orders.order.placed")

    assert deliver(service, placed) is True
    assert deliver(service, placed) is False

    assert sorted(row.template for row in mails(service)) == ["activation", "order_confirmation"]


def test_a_replay_that_slips_past_the_inbox_still_adds_nothing(service):
    placed = example_event("orders.order.placed")
    [handler] = service.handlers["orders.order.placed"]
    for _ in range(2):
        with service.uow() as uow:
            handler(placed, uow)
            uow.commit()

    assert len(mails(service)) == 2


def test_a_new_request_for_the_activation_email_sends_it_again(service):
    deliver(service, example_event("orders.activation_email.requested"))
    deliver(service, example_event("orders.activation_email.requested"))

    rows = mails(service, template="activation")
    assert len(rows) == 2 and rows[0].message_id != rows[1].message_id


def test_message_id_is_derived_from_cause_template_and_recipient():
    first = message_id("m-1", "quote", "Sales@Demo.example")

    assert first == message_id("m-1", "quote", "sales@demo.example")
    assert first != message_id("m-2", "quote", "sales@demo.example")
    assert first != message_id("m-1", "activation", "sales@demo.example")
    assert first.startswith("<") and first.endswith("@portal.example>")
    assert len(first.strip("<>").split("@")[0]) == 32


def test_names_from_events_are_escaped_in_the_html_part(service):
    example = portal_contracts.example("licensing.license.revoked")
    deliver(
        service,
        example_event("licensing.license.revoked", customer_name='<script>alert("x")</script>'),
    )

    [row] = mails(service)
    assert "<script>" not in row.html_body
    assert "&lt;script&gt;" in row.html_body
    assert example["license_id"] in row.text_body


def test_the_quote_email_asks_for_the_quote_pdf(service):
    deliver(service, example_event("quotes.quote.issued"))

    [row] = mails(service)
    assert row.attachment == {"kind": "quote_pdf", "quote_number": "Q-2026-000123"}
    assert "PO number: PO-77" in row.text_body


def test_resent_licenses_say_what_each_license_is(service):
    deliver(service, example_event("catalog.price_list.published"))
    deliver(service, example_event("licensing.licenses.issued"))
    deliver(
        service,
        example_event("orders.licenses.resend_requested", license_ids=["L-8F3K2M9Q", "L-UNKNOWN1"]),
    )

    [row] = mails(service)
    assert (
        "- L-8F3K2M9Q: PyCharm Professional, valid 22 November 2026 to 22 November 2027, "
        "perpetual fallback 2026.3, subscription pack SP-100001" in row.text_body
    )
    assert "- L-UNKNOWN1\n" in row.text_body
    assert "<code>L-8F3K2M9Q</code></td><td>PyCharm Professional</td>" in row.html_body


def test_a_renewal_updates_what_the_license_emails_say(service):
    issued = portal_contracts.example("licensing.licenses.issued")
    deliver(service, event("licensing.licenses.issued", issued))
    renewed = copy.deepcopy(issued)
    for lic in renewed["licenses"]:
        lic["valid_until"] = "2028-11-22"
    deliver(service, event("licensing.licenses.issued", renewed))
    deliver(service, example_event("orders.activation_email.requested"))

    [row] = mails(service)
    assert "valid 22 November 2026 to 22 November 2028" in row.text_body
    assert "2027" not in row.text_body


def test_the_invoice_email_links_to_the_invoice_and_its_order(service):
    deliver(service, example_event("billing.invoice.issued"))

    [row] = mails(service)
    example = portal_contracts.example("billing.invoice.issued")
    assert f"https://portal.test/portal/invoices/{example['invoice_number']}" in row.text_body
    assert f"https://portal.test/portal/orders/{example['order_number']}" in row.text_body
    assert f'href="https://portal.test/portal/orders/{example["order_number"]}"' in row.html_body


def test_a_new_admin_gets_the_single_use_password_link_and_where_to_sign_in(service):
    example = portal_contracts.example("licensing.admin.invited")
    deliver(service, example_event("licensing.admin.invited"))

    [row] = mails(service, template="admin_invitation")
    link = f"https://portal.test/portal/password/{example['token']}"
    assert link in row.text_body and link in row.html_body
    assert "8 December 2026" in row.text_body  # until when the link works
    assert "Demo Sales has opened the license account Initech" in row.text_body
    assert "https://portal.test/portal/" in row.text_body


def test_every_admin_gets_approve_and_decline_links_for_a_management_request(service):
    example = portal_contracts.example("licensing.management.requested")
    deliver(
        service,
        example_event(
            "licensing.management.requested",
            admin_emails=["admin@acme.example", "second@acme.example"],
        ),
    )

    rows = mails(service, template="management_request")
    assert sorted(r.recipient for r in rows) == ["admin@acme.example", "second@acme.example"]
    page = f"https://portal.test/portal/management-requests/{example['token']}"
    assert f"Approve: {page}?answer=approve" in rows[0].text_body
    assert f"Decline: {page}?answer=decline" in rows[0].text_body
    assert "Nothing changes unless you approve" in rows[0].text_body


def test_the_owner_of_a_throttled_sign_in_hears_from_where_and_that_it_may_still_sign_in(service):
    deliver(service, example_event("gateway.sign_in.throttled"))

    [row] = mails(service, template="sign_in_throttled")
    assert "5 times within 15 minutes, from the address 203.0.113.7" in row.text_body
    assert "02 Dec 2026, 09:00 UTC" in row.text_body
    assert "You can still sign in as usual" in row.text_body
    assert "203.0.113.7" in row.html_body


def test_a_new_reseller_user_gets_its_temporary_password_and_where_to_sign_in(service):
    example = portal_contracts.example("gateway.user.invited")
    deliver(service, example_event("gateway.user.invited"))

    [row] = mails(service, template="user_invitation")
    assert example["temporary_password"] in row.text_body
    assert example["temporary_password"] in row.html_body
    assert "Demo Sales has invited you" in row.text_body
    assert "https://portal.test/portal/sign-in" in row.text_body


def test_an_address_that_signs_in_elsewhere_hears_that_nothing_changed(service):
    deliver(
        service,
        example_event(
            "gateway.invitation.refused", invited_as="customer_admin", account_name="Initech"
        ),
    )

    [row] = mails(service, template="invitation_refused")
    assert row.recipient == "sales@other-reseller.example"
    assert "as an admin of the license account Initech" in row.text_body
    assert "nothing has changed" in row.text_body
