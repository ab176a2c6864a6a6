"""Teams and My licenses in Debian's Chromium, through the gateway's /portal/ and the mailbox
only: a customer admin creates, renames and merges teams and moves a license with Transfer
from the filtered licenses list; a license holder asks for a link on the sign-in page, opens
it from the e-mail and downloads an activation code that verifies with the public key."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect
from portal_testkit import browser_sign_in as sign_in
from portal_testkit import team_with_seats

from license_assign.offline_verifier import verify
from portal_contracts import demo
from portal_system.client import PortalClient, wait_for
from portal_system.testing import login, mails_about, text_of

pytestmark = pytest.mark.e2e


def test_an_admin_organises_teams_and_a_holder_opens_my_licenses(
    page: Page, screenshots, portal_system, tmp_path
):
    tag = uuid.uuid4().hex[:6]
    source, seats = team_with_seats(portal_system, f"Design {tag}")
    sign_in(page, demo.ACME_ADMIN)
    account = page.get_by_role("navigation", name="License account")
    account.get_by_role("link", name="Teams").click()
    expect(page.get_by_role("heading", name="Teams")).to_be_visible()

    page.get_by_label("New team name").fill(f"Backend {tag}")
    page.get_by_role("button", name="Create team").click()
    expect(page.get_by_role("status")).to_contain_text(f"Team Backend {tag}")
    row = page.locator(f"#team-{source}")
    row.get_by_label("New name").fill(f"Platform {tag}")
    row.get_by_role("button", name="Rename").click()
    expect(page.get_by_role("status")).to_contain_text(f"now called Platform {tag}")
    expect(page.locator(f"#team-{source}")).to_contain_text("2 licenses")
    page.screenshot(path=screenshots / "teams.png", full_page=True)

    # Transfer: from the licenses list filtered by the team, one checked license moves.
    page.locator(f"#team-{source}").get_by_role("link", name="2 licenses").click()
    expect(page.get_by_label("Team", exact=True)).to_have_value(source)
    page.get_by_label(f"Move {seats[0]}").check()
    page.get_by_label("Move the checked licenses to team").select_option(label=f"Backend {tag}")
    page.get_by_role("button", name="Transfer").click()
    expect(page.get_by_role("status")).to_contain_text(f"1 license moved to Backend {tag}.")
    expect(page.get_by_role("main")).not_to_contain_text(seats[0])
    expect(page.get_by_role("main")).to_contain_text(seats[1])

    # Merge the rest of Platform into Backend: the team goes away, its license moves.
    account.get_by_role("link", name="Teams").click()
    row = page.locator(f"#team-{source}")
    row.get_by_label("Merge into").select_option(label=f"Backend {tag}")
    row.get_by_role("button", name="Merge").click()
    expect(page.get_by_role("status")).to_contain_text("1 license moved, and the team is gone")
    expect(page.locator(f"#team-{source}")).to_have_count(0)
    expect(page.get_by_role("main")).to_contain_text("2 licenses")

    # A license holder: the seat is assigned, the holder asks for a link on the sign-in page.
    email = f"lena.{tag}@acme.example"
    admin = login(portal_system, demo.ACME_ADMIN)
    assigned = admin.post(
        f"/customers/{demo.ACME_ID}/assignments",
        json={"license_id": seats[0],
              "assignee": {"first_name": "Lena", "last_name": tag, "email": email}},
    )  # fmt: skip
    assert assigned.json()["assigned"], assigned.text
    page.context.clear_cookies()
    page.goto("/portal/sign-in")
    page.get_by_label("Send the link to").fill(email)
    page.get_by_role("button", name="Get a link to my licenses").click()
    expect(page.get_by_role("status")).to_contain_text("a link to its licenses is on its way")

    mails = wait_for(
        lambda: mails_about(portal_system, email, "link to your licenses"), timeout=90, what="mail"
    )
    link = re.search(r"http\S+/portal/my-licenses/[\w-]{20,}", text_of(mails[-1])).group(0)
    page.goto(link)
    page.get_by_role("button", name="Show my licenses").click()
    expect(page.get_by_role("heading", name="My licenses")).to_be_visible()
    main = page.get_by_role("main")
    expect(main).to_contain_text(email)
    expect(main).to_contain_text(seats[0])
    expect(main).to_contain_text("Acme Corp")
    expect(main).to_contain_text("How to activate")
    expect(main).not_to_contain_text(seats[1])
    page.screenshot(path=screenshots / "my_licenses.png", full_page=True)
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download activation code").click()
    saved = tmp_path / "code.txt"
    download_info.value.save_as(saved)
    text = saved.read_text()
    assert "Perpetual fallback license" in text
    key = PortalClient(portal_system.gateway_url).get("/activation-codes/public-key").json()
    assert verify(text.strip().splitlines()[-1], key["public_key"])["licensee"]["email"] == email

    # The account's pages stay closed to the holder: they ask for a sign-in.
    page.goto(f"/portal/customers/{demo.ACME_ID}/teams")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
