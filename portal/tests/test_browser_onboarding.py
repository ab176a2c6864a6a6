"""Onboarding in Debian's Chromium, through the gateway's /portal/ and the mailbox only: a reseller
creates a customer; its contact sets a password from the e-mail and signs in; the admin adds the
reseller as admin of the account; a person claims a license through an invitation link and
downloads an activation code that verifies with the public key."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from license_assign.offline_verifier import verify
from portal_contracts import demo
from portal_system.client import PortalClient, wait_for
from portal_system.testing import login, mails_about, text_of

pytestmark = pytest.mark.e2e

PASSWORD = "a long browser password"


def mailed_link(system, recipient: str, needle: str, pattern: str) -> str:
    mails = wait_for(lambda: mails_about(system, recipient, needle), timeout=90, what="mail")
    return re.search(pattern, text_of(mails[-1])).group(0)


def sign_in(page: Page, email: str, password: str) -> None:
    page.context.clear_cookies()
    page.goto("/portal/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_a_new_customer_its_first_admin_and_a_claimed_license(
    page: Page, screenshots, portal_system, tmp_path
):
    tag = uuid.uuid4().hex[:6]
    contact = f"nina.{tag}@hooli.example"
    sign_in(page, demo.DEMO_RESELLER_USER, demo.DEMO_PASSWORD)
    page.get_by_role("link", name="Create customer").click()
    page.get_by_label("Organisation name").fill(f"Hooli {tag}")
    page.get_by_label("Country").fill("US")
    page.get_by_label("First name").fill("Nina")
    page.get_by_label("Last name").fill("North")
    page.get_by_label("Email").fill(contact)
    page.screenshot(path=screenshots / "create_customer.png", full_page=True)
    page.get_by_role("button", name="Create customer").click()
    expect(page.get_by_role("heading", name=re.compile(f"Hooli {tag}"))).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("set a password")

    link = mailed_link(portal_system, contact, f"Hooli {tag}", r"http\S+/portal/password/[\w-]+")
    page.context.clear_cookies()
    page.goto(link)
    page.get_by_label("New password").fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    page.screenshot(path=screenshots / "set_password.png", full_page=True)
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("status")).to_contain_text("Your password is set")

    sign_in(page, contact, PASSWORD)
    expect(page.get_by_role("heading", name=re.compile(f"Hooli {tag}"))).to_be_visible()
    page.get_by_role("navigation", name="License account").get_by_role(
        "link", name="Admins"
    ).click()
    page.get_by_label("Reseller's email").fill(demo.DEMO_RESELLER_USER)
    page.get_by_role("button", name="Add reseller as admin").click()
    expect(page.get_by_role("status")).to_contain_text("Demo Reseller is now an administrator")
    page.screenshot(path=screenshots / "admins.png", full_page=True)

    # The reseller now sees the account under Customers, as managed.
    sign_in(page, demo.DEMO_RESELLER_USER, demo.DEMO_PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Customers").click()
    expect(page.get_by_role("main")).to_contain_text(f"Hooli {tag}")

    # An invitation link of Acme, opened by a person in the browser.
    admin = login(portal_system, demo.ACME_ADMIN)
    teams = admin.get(f"/customers/{demo.ACME_ID}/teams").json()["items"]
    team = next(t for t in teams if t["is_default"])["team_id"]
    invitation = admin.post(
        f"/customers/{demo.ACME_ID}/invitation-links", json={"product": "ALL", "team_id": team}
    ).json()
    page.context.clear_cookies()
    page.goto(invitation["url"])
    expect(page.get_by_role("heading", name="Get your ALL license")).to_be_visible()
    page.get_by_label("First name").fill("Rae")
    page.get_by_label("Last name").fill(tag)
    page.get_by_label("Email").fill(f"rae.{tag}@acme.example")
    page.screenshot(path=screenshots / "invitation.png", full_page=True)
    page.get_by_role("button", name="Get license").click()
    expect(page.get_by_role("heading", name="Your ALL license")).to_be_visible()
    page.screenshot(path=screenshots / "claimed_license.png", full_page=True)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download activation code").click()
    saved = tmp_path / "code.txt"
    download_info.value.save_as(saved)
    code = saved.read_text().strip().splitlines()[-1]
    key = PortalClient(portal_system.gateway_url).get("/activation-codes/public-key").json()
    assert verify(code, key["public_key"])["licensee"]["email"] == f"rae.{tag}@acme.example"
