"""Onboarding end to end, through the gateway and the mail sink: a reseller creates a new customer
and places its first order; the contact sets a password from the e-mailed link and signs in; the
admin invites a second admin, adds a reseller as admin of the account (who then finds it under its
customers and enters it by ID alone), and approves another reseller's request to manage it. A
reseller's new user gets its temporary password by e-mail; the gateway's notices (a refused
invitation, a throttled sign-in) reach their recipients."""

from __future__ import annotations

import re
import uuid

from portal_contracts import demo
from portal_system.client import PortalClient, wait_for
from portal_system.testing import login, mails_about, text_of

PASSWORD = "a long password for e2e"


def link_in(system, recipient: str, needle: str, pattern: str) -> str:
    mails = wait_for(lambda: mails_about(system, recipient, needle), timeout=90, what="mail")
    found = re.search(pattern, text_of(mails[-1]))
    assert found, text_of(mails[-1])
    return found.group(1)


def test_a_new_customer_its_admins_and_the_resellers_that_manage_it(system):
    tag = uuid.uuid4().hex[:8]
    contact = {"first_name": "Peter", "last_name": tag, "email": f"peter.{tag}@initech.example"}
    reseller = login(system, demo.DEMO_RESELLER_USER)
    created = reseller.post(
        "/customers",
        json={"name": f"Initech {tag}", "country": "DE", "vat_id": "DE1234567", "contact": contact},
    )
    assert created.status_code == 201, created.text
    customer_id = created.json()["customer_id"]
    assert re.fullmatch(r"C-\d{6,}", customer_id)

    # Inside at once: the first order, with the demo card.
    order = reseller.place_order(
        {
            "customer_id": customer_id,
            "lines": [{"kind": "new", "product": "PC", "quantity": 2, "term_years": 1}],
            "payment_method_id": demo.DEMO_CARD_METHOD_ID,
            "end_user": contact,
            "send_activation_email": False,
        }
    )
    assert order.status_code == 201, order.text

    # The contact's e-mail carries a single-use link to set a password.
    token = link_in(system, contact["email"], customer_id, r"/portal/password/([\w-]+)")
    public = PortalClient(system.gateway_url)
    short = public.post("/auth/password", json={"token": token, "password": "short"})
    assert short.status_code == 422
    done = public.post("/auth/password", json={"token": token, "password": PASSWORD})
    assert done.status_code == 200, done.text
    again = public.post("/auth/password", json={"token": token, "password": PASSWORD})
    assert again.status_code == 410
    admin = login(system, contact["email"], PASSWORD)
    assert admin.get("/me").json()["customer_id"] == customer_id
    licenses = wait_for(
        lambda: admin.get(f"/customers/{customer_id}/licenses").json()["items"] or None,
        timeout=90,
        what="the first order's licenses",
    )
    assert [lic["product"] for lic in licenses] == ["PC", "PC"]
    assert admin.get(f"/customers/{demo.ACME_ID}/licenses").status_code == 404

    # A second admin; the last one who signs in cannot be removed.
    second = {"first_name": "Joanna", "last_name": tag, "email": f"joanna.{tag}@initech.example"}
    invited = admin.post(f"/customers/{customer_id}/admins", json=second)
    assert invited.status_code == 202, invited.text
    link_in(system, second["email"], customer_id, r"/portal/password/([\w-]+)")
    admins = admin.get(f"/customers/{customer_id}/admins").json()["items"]
    assert [(a["email"], a["status"]) for a in admins] == [
        (contact["email"], "active"),
        (second["email"], "invited"),
    ]
    me = admins[0]["user_id"]
    assert admin.delete(f"/customers/{customer_id}/admins/{me}").status_code == 409

    # The admin adds Other Reseller as admin of the account, by its user's email.
    other = login(system, demo.OTHER_RESELLER_USER)
    assert other.get(f"/customers/{customer_id}/licenses").status_code == 404
    added = admin.post(
        f"/customers/{customer_id}/managing-resellers", json={"email": demo.OTHER_RESELLER_USER}
    )
    assert added.status_code == 201, added.text
    listed = other.get("/customers").json()["items"]
    assert {"customer_id": customer_id, "managed": True}.items() <= next(
        c for c in listed if c["customer_id"] == customer_id
    ).items()
    entered = other.post("/customer-access", json={"by": "customer_id", "value": customer_id})
    assert entered.status_code == 200, entered.text
    report = other.get(f"/customers/{customer_id}/licensing-report")
    assert report.status_code == 200 and report.text.count("\n") >= 3
    removed = admin.delete(f"/customers/{customer_id}/managing-resellers/{demo.OTHER_RESELLER_ID}")
    assert removed.status_code == 204
    # No longer managed (what it entered stays open for the grant's hours, as any entry).
    listed = other.get("/customers").json()["items"]
    assert next(c for c in listed if c["customer_id"] == customer_id)["managed"] is False

    # Demo Reseller asks to manage it; nothing changes until the admin approves.
    asked = reseller.post(f"/customers/{customer_id}/management-requests")
    assert asked.status_code == 202, asked.text
    decision = link_in(
        system, contact["email"], "asks to manage", r"/portal/management-requests/([\w-]+)"
    )
    managed = [c["customer_id"] for c in reseller.get("/customers").json()["items"] if c["managed"]]
    assert customer_id not in managed
    shown = public.get(f"/management-requests/{decision}").json()
    assert (shown["reseller_name"], shown["status"]) == (demo.DEMO_RESELLER_NAME, "pending")
    assert public.post(f"/management-requests/{decision}/approve").status_code == 200
    managed = [c["customer_id"] for c in reseller.get("/customers").json()["items"] if c["managed"]]
    assert customer_id in managed


def test_invitations_tell_nobody_who_signs_in_and_a_throttled_sign_in_is_mailed_to_its_owner(
    system,
):
    """Through the gateway's outbox, its worker's relay and notifications: a new colleague gets
    a temporary password by e-mail; inviting an address that signs in elsewhere answers the same
    and tells its owner; failed passwords on an account tell the owner once."""
    tag = uuid.uuid4().hex[:8]
    colleague = f"colleague.{tag}@demo-reseller.example"
    reseller = login(system, demo.DEMO_RESELLER_USER)
    new = reseller.post("/users", json={"email": colleague, "roles": ["sales"]})
    taken = reseller.post("/users", json={"email": demo.OTHER_RESELLER_USER, "roles": ["sales"]})
    assert new.status_code == taken.status_code == 202, (new.text, taken.text)
    assert new.json() == dict(taken.json(), email=colleague)
    refused = wait_for(
        lambda: mails_about(system, demo.OTHER_RESELLER_USER, "nothing has changed"),
        timeout=90,
        what="the refused invitation's mail",
    )
    assert demo.DEMO_RESELLER_NAME in text_of(refused[-1])
    temporary = link_in(system, colleague, "temporary password", r"temporary password:\s+(\S+)")
    assert login(system, colleague, temporary).get("/me").json()["email"] == colleague

    # Someone guesses the colleague's password: the owner hears of it once, not per attempt.
    public = PortalClient(system.gateway_url)
    answers = [
        public.post("/auth/token", json={"email": colleague, "password": f"guess-{i}"}).status_code
        for i in range(7)
    ]
    assert answers[:5] == [401] * 5 and 429 in answers[5:]
    notices = wait_for(
        lambda: mails_about(system, colleague, "Failed sign-ins"), timeout=90, what="the notice"
    )
    assert "5 times within 15 minutes" in text_of(notices[0])
    assert len(mails_about(system, colleague, "Failed sign-ins")) == 1
