"""Onboarding pages with the Flask test client against the running system: Create customer, the
password link, the account's admins and managing resellers, a request to manage an account, and
an invitation link opened by the person who claims it."""

from __future__ import annotations

import io
import re
import uuid

import pytest

from license_assign.offline_verifier import verify
from portal_contracts import demo
from portal_system.client import PortalClient, wait_for
from portal_system.testing import login, mails_about, text_of

pytestmark = pytest.mark.e2e

PASSWORD = "a long portal password"


@pytest.fixture
def pages_for(pages, portal_config):
    """Another browser: a fresh test client of its own, signed in as nobody."""
    from portal.app import create_app

    return lambda: type(pages)(create_app(portal_config))


def html(resp) -> str:
    return resp.get_data(as_text=True)


def link_in(system, recipient: str, needle: str, pattern: str) -> str:
    mails = wait_for(lambda: mails_about(system, recipient, needle), timeout=90, what="mail")
    return re.search(pattern, text_of(mails[-1])).group(1)


def test_a_reseller_creates_a_customer_whose_contact_sets_a_password_and_signs_in(
    reseller_pages, pages_for, portal_system
):
    pages = reseller_pages
    assert "Create customer" in html(pages.get("/portal/customers/new"))
    bad = pages.post(
        "/portal/customers/new",
        {"name": "", "country": "Germany", "first_name": "", "last_name": "X", "email": "nope"},
    )
    assert bad.status_code == 422
    for message in (
        "Enter the organisation&#39;s name.",
        "two-letter country code",
        "Enter the contact&#39;s first name.",
        "Enter an email address like name@example.com.",
    ):
        assert message in html(bad)
    tag = uuid.uuid4().hex[:8]
    email = f"olga.{tag}@umbrella.example"
    made = pages.post(
        "/portal/customers/new",
        {
            "name": f"Umbrella {tag}",
            "country": "gb",
            "vat_id": "",
            "first_name": "Olga",
            "last_name": "Ops",
            "email": email,
        },
    )
    assert made.status_code == 302, html(made)[:1000]
    customer_id = made.headers["Location"].rsplit("/", 1)[-1]
    assert re.fullmatch(r"C-\d+", customer_id)
    assert f"Umbrella {tag}" in html(pages.get(made.headers["Location"]))

    token = link_in(portal_system, email, customer_id, r"/portal/password/([\w-]+)")
    admin = pages_for()
    admin.get(f"/portal/password/{token}")
    short = admin.post(f"/portal/password/{token}", {"password": "short", "confirm": "short"})
    assert short.status_code == 422
    assert "at least 12 characters" in html(short)
    differ = admin.post(f"/portal/password/{token}", {"password": PASSWORD, "confirm": "x" * 12})
    assert "not the same" in html(differ)
    done = admin.post(f"/portal/password/{token}", {"password": PASSWORD, "confirm": PASSWORD})
    assert done.status_code == 302
    again = admin.post(f"/portal/password/{token}", {"password": PASSWORD, "confirm": PASSWORD})
    assert again.status_code == 410
    assert "used already" in html(again)

    signed_in = admin.sign_in(email, PASSWORD)
    assert signed_in.headers["Location"].endswith(f"/portal/customers/{customer_id}/licenses")
    people = admin.get(f"/portal/customers/{customer_id}/admins")
    assert people.status_code == 200
    assert email in html(people) and "Active" in html(people)

    bad_invite = admin.post(
        f"/portal/customers/{customer_id}/admins",
        {"first_name": "", "last_name": "", "email": "not-an-email"},
    )
    assert bad_invite.status_code == 422
    assert "Enter the admin&#39;s first name." in html(bad_invite)
    unknown = admin.post(
        f"/portal/customers/{customer_id}/managing-resellers",
        {"reseller_email": "nobody@nowhere.example"},
    )
    assert unknown.status_code == 422
    assert "No reseller has a portal user with this email." in html(unknown)
    added = admin.post(
        f"/portal/customers/{customer_id}/managing-resellers",
        {"reseller_email": demo.OTHER_RESELLER_USER},
    )
    assert added.status_code == 302
    assert demo.OTHER_RESELLER_NAME in html(admin.get(f"/portal/customers/{customer_id}/admins"))
    # Another account's people page is the one 404 page.
    assert admin.get(f"/portal/customers/{demo.ACME_ID}/admins").status_code == 404


def test_an_admin_answers_a_request_to_manage_on_the_linked_page(pages, portal_system):
    reseller = login(portal_system, demo.OTHER_RESELLER_USER)
    reseller.enter_customer(demo.ACME_ID, demo.ACME_CONTACT)
    assert reseller.post(f"/customers/{demo.ACME_ID}/management-requests").status_code == 202
    token = link_in(
        portal_system,
        demo.ACME_ADMIN,
        demo.OTHER_RESELLER_NAME,
        r"/portal/management-requests/([\w-]+)",
    )
    page = pages.get(f"/portal/management-requests/{token}?answer=decline")
    assert page.status_code == 200
    assert "Approve" in html(page) and "Decline" in html(page)
    bogus = pages.post(f"/portal/management-requests/{token}", {"answer": "maybe"})
    assert bogus.status_code == 422
    declined = pages.post(f"/portal/management-requests/{token}", {"answer": "decline"})
    assert declined.status_code == 200
    assert "nothing changed" in html(declined)
    twice = pages.post(f"/portal/management-requests/{token}", {"answer": "approve"})
    assert twice.status_code == 409
    assert "declined already" in html(twice)
    assert pages.get("/portal/management-requests/not-a-real-token").status_code == 404


def test_a_person_claims_a_license_through_an_invitation_link_and_downloads_the_code(
    pages, portal_system
):
    admin = login(portal_system, demo.ACME_ADMIN)
    teams = admin.get(f"/customers/{demo.ACME_ID}/teams").json()["items"]
    team = next(t for t in teams if t["is_default"])["team_id"]
    link = admin.post(
        f"/customers/{demo.ACME_ID}/invitation-links",
        json={"product": "PC", "team_id": team, "allowed_domains": ["acme.example"]},
    ).json()
    path = link["url"].split(portal_system.url("gateway"), 1)[-1]
    assert path == f"/portal/invitations/{link['token']}"
    offer = pages.get(path)
    assert offer.status_code == 200
    assert "Acme Corp" in html(offer) and "Get license" in html(offer)
    empty = pages.post(path, {"first_name": "", "last_name": "", "email": ""})
    assert empty.status_code == 422
    assert "Enter your first name." in html(empty)
    tag = uuid.uuid4().hex[:6]
    person = {"first_name": "Dee", "last_name": tag, "email": f"dee.{tag}@acme.example"}
    wrong_domain = pages.post(path, dict(person, email=f"dee.{tag}@elsewhere.example"))
    assert wrong_domain.status_code == 422
    claimed = pages.post(path, person)
    assert claimed.status_code == 302, html(claimed)[:1000]
    page = pages.get(claimed.headers["Location"])
    assert "Download activation code" in html(page)
    download = pages.get(f"{path}/activation-code.txt")
    assert download.headers["Content-Disposition"].startswith("attachment;")
    text = html(download)
    code = text.strip().splitlines()[-1]
    key = PortalClient(portal_system.gateway_url).get("/activation-codes/public-key").json()
    assert verify(code, key["public_key"])["licensee"]["email"] == person["email"]
    assert "Perpetual fallback license" in text

    again = pages.post(path, person)
    assert again.status_code == 409
    assert "already" in html(again)
    admin.delete(f"/customers/{demo.ACME_ID}/invitation-links/{link['id']}")
    gone = pages.get(path)
    assert gone.status_code == 410
    assert "disabled" in html(gone)


def test_an_admin_assigns_by_csv_with_a_bad_row_creates_a_link_and_revokes(pages, portal_system):
    # A seat of its own to assign, in a team of its own: other tests take Acme's free seats.
    reseller = login(portal_system, demo.DEMO_RESELLER_USER)
    reseller.enter_customer(demo.ACME_ID, demo.ACME_CONTACT)
    team = reseller.post(
        f"/customers/{demo.ACME_ID}/teams", json={"name": f"CSV {uuid.uuid4().hex[:6]}"}
    ).json()["team_id"]
    order = reseller.place_order(
        {
            "customer_id": demo.ACME_ID,
            "lines": [
                {"kind": "new", "product": "WS", "quantity": 1, "term_years": 1, "team_id": team}
            ],
            "payment_method_id": demo.DEMO_CARD_METHOD_ID,
            "end_user": {"first_name": "Csv", "last_name": "Buyer", "email": "csv@acme.example"},
            "send_activation_email": False,
        }
    ).json()["number"]
    wait_for(
        lambda: reseller.get(f"/orders/{order}").json()["license_ids"] or None,
        timeout=90,
        what="the seat",
    )
    pages.sign_in(demo.ACME_ADMIN)
    acme = f"/portal/customers/{demo.ACME_ID}"
    assert "Upload CSV" in html(pages.get(f"{acme}/assign"))
    empty = pages.post(f"{acme}/assign/many", {"bulk_product": "ALL", "people": ""})
    assert empty.status_code == 422
    assert "Paste one person per line" in html(empty)
    bad_one = pages.post(
        f"{acme}/assign", {"first_name": "", "last_name": "", "email": "x", "product": "PC"}
    )
    assert bad_one.status_code == 422
    assert "Enter the person&#39;s first name." in html(bad_one)
    tag = uuid.uuid4().hex[:6]
    csv = f"first_name,last_name,email\nZoe,{tag},zoe.{tag}@acme.example\nBad,Row,not-an-email\n"
    result = pages.post(
        f"{acme}/assign/many",
        {
            "bulk_product": "WS",
            "bulk_team_id": team,
            "csv_file": (io.BytesIO(csv.encode()), "people.csv"),
        },
        content_type="multipart/form-data",
    )
    assert result.status_code == 200, html(result)[:2000]
    text = html(result)
    assert "1 assigned, 1 not assigned." in text
    assert f"zoe.{tag}@acme.example" in text and "Not assigned: email" in text

    bad_link = pages.post(
        f"{acme}/invitation-links",
        {"product": "PC", "team_id": "T-nope", "expires_on": "soon", "max_claims": "0"},
    )
    assert bad_link.status_code == 422
    assert "Enter the date as YYYY-MM-DD." in html(bad_link)

    overview = html(pages.get(f"{acme}/overview"))
    assert re.search(r">WS</a></th>\s*<td>\d+</td>", overview)
    assert 'aria-label="WS: ' in overview

    users = html(pages.get(f"{acme}/users"))
    assert f"zoe.{tag}@acme.example" in users and "Revocations are not limited." in users
    license_id = re.search(rf"zoe\.{tag}@acme\.example</td>\s*<td>(L-\w+)</td>", users).group(1)
    revoked = pages.post(f"{acme}/licenses/{license_id}/revoke")
    assert revoked.status_code == 302
    assert f"zoe.{tag}@acme.example" not in html(pages.get(f"{acme}/users"))
