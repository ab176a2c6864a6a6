"""The whole path of a new customer in Debian's Chromium, through the gateway's /portal/ and the
mailbox only: a reseller creates a customer and places its first order; the contact sets a
password from the e-mail and signs in; the admin assigns licenses by CSV (one bad row explained),
creates an invitation link that a person claims in the browser, downloading an activation code
that verifies with the public key; the admin revokes a license and adds the reseller as admin,
who then sees the account under Customers. Then the admin buys more seats for its own account
(its own card, typed on the vault's page, into a new team), sees the order and the invoice PDF,
upgrades a single product to the All Products Pack, and finds both orders under Orders."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import Page, expect
from portal_testkit import browser_sign_in as sign_in
from portal_testkit import reload_until, shoot, type_card

from license_assign.offline_verifier import verify
from portal_contracts import demo
from portal_system.client import PortalClient, wait_for
from portal_system.testing import mails_about, text_of

pytestmark = pytest.mark.e2e

PASSWORD = "a long browser password"


def mailed_link(system, recipient: str, needle: str, pattern: str) -> str:
    mails = wait_for(lambda: mails_about(system, recipient, needle), timeout=90, what="mail")
    return re.search(pattern, text_of(mails[-1])).group(0)


def tab(page: Page, nav: str, name: str) -> None:
    page.get_by_role("navigation", name=nav).get_by_role(
        "link", name=re.compile(f"^{re.escape(name)}")
    ).click()


def fill_address(page: Page) -> None:
    page.get_by_label("Address line 1").fill("1 Hooli Way")
    page.get_by_label("City").fill("Palo Alto")
    page.get_by_label("Country").fill("US")


def test_a_new_customer_from_its_first_order_to_buying_on_its_own(
    page: Page, screenshots, portal_system, tmp_path
):
    tag = uuid.uuid4().hex[:6]
    org = f"Hooli {tag}"
    contact = f"nina.{tag}@hooli.example"

    # A reseller meets a new customer: Create customer, and it lands inside it.
    sign_in(page, demo.DEMO_RESELLER_USER, demo.DEMO_PASSWORD)
    page.get_by_role("link", name="Create customer").click()
    page.get_by_label("Organisation name").fill(org)
    page.get_by_label("Country").fill("US")
    page.get_by_label("First name").fill("Nina")
    page.get_by_label("Last name").fill("North")
    page.get_by_label("Email").fill(contact)
    shoot(page, screenshots, "create_customer")
    page.get_by_role("button", name="Create customer").click()
    expect(page.get_by_role("heading", name=re.compile(org))).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("set a password")

    # ... and places its first order: 4 WebStorm seats, paid with the reseller's stored card.
    page.get_by_role("navigation", name="Products").get_by_role("link", name="WebStorm").click()
    page.get_by_label("Quantity").fill("4")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_role("status")).to_contain_text("4 × WebStorm")
    tab(page, "Customer", "Cart")
    page.get_by_role("link", name="Checkout").click()
    page.get_by_label("Company name").fill("Demo Reseller Inc.")
    page.get_by_label("Address line 1").fill("1 Main Street")
    page.get_by_label("City").fill("Springfield")
    page.get_by_label("Country").fill("US")
    page.get_by_label("First name").fill("Nina")
    page.get_by_label("Last name").fill("North")
    page.get_by_label("Email").fill(contact)
    page.get_by_label(re.compile("Visa ending 1111")).check()
    page.get_by_role("button", name="Place order").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("O-")
    reload_until(page, r"INV-\S+[\s\S]*L-[A-Z0-9]{6,}")

    # The contact sets a password from the e-mail's link and signs in: its license account.
    link = mailed_link(portal_system, contact, org, r"http\S+/portal/password/[\w-]+")
    page.context.clear_cookies()
    page.goto(link)
    page.get_by_label("New password").fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    shoot(page, screenshots, "set_password")
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("status")).to_contain_text("Your password is set")
    sign_in(page, contact, PASSWORD)
    expect(page.get_by_role("heading", name=re.compile(org))).to_be_visible()
    reload_until(page, r"WS")

    # Assign by CSV: two people assigned, the bad row explained on the page.
    tab(page, "License account", "Assign")
    csv = tmp_path / "people.csv"
    csv.write_text(
        "first_name,last_name,email\n"
        f"Ann,{tag},ann.{tag}@hooli.example\n"
        "Bad,Row,not-an-email\n"
        f"Ben,{tag},ben.{tag}@hooli.example\n"
    )
    page.locator("#bulk_product").select_option("WS")
    page.get_by_label("Upload CSV").set_input_files(str(csv))
    page.get_by_role("button", name="Assign all").click()
    expect(page.get_by_role("status")).to_contain_text("2 assigned, 1 not assigned.")
    bad = page.get_by_role("row", name=re.compile("not-an-email"))
    expect(bad).to_contain_text("Not assigned: email")
    expect(page.get_by_role("row", name=re.compile(f"ann.{tag}@hooli.example"))).to_contain_text(
        "Assigned L-"
    )
    shoot(page, screenshots, "assign_csv")

    # An invitation link, claimed by a person in the browser; the code verifies offline.
    tab(page, "License account", "Invitation links")
    page.get_by_label("Product").select_option("WS")
    page.get_by_role("button", name="Create invitation link").click()
    invitation = page.locator("#new-link-url").input_value()
    expect(page.get_by_role("button", name="Copy link")).to_be_visible()
    shoot(page, screenshots, "invitation_links")
    page.context.clear_cookies()
    page.goto(invitation)
    expect(page.get_by_role("heading", name="Get your WS license")).to_be_visible()
    page.get_by_label("First name").fill("Rae")
    page.get_by_label("Last name").fill(tag)
    page.get_by_label("Email").fill(f"rae.{tag}@hooli.example")
    shoot(page, screenshots, "invitation")
    page.get_by_role("button", name="Get license").click()
    expect(page.get_by_role("heading", name="Your WS license")).to_be_visible()
    shoot(page, screenshots, "claimed_license")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download activation code").click()
    saved = tmp_path / "code.txt"
    download_info.value.save_as(saved)
    code = saved.read_text().strip().splitlines()[-1]
    key = PortalClient(portal_system.gateway_url).get("/activation-codes/public-key").json()
    assert verify(code, key["public_key"])["licensee"]["email"] == f"rae.{tag}@hooli.example"

    # The admin revokes Ben's license, and adds the reseller as an administrator.
    sign_in(page, contact, PASSWORD)
    tab(page, "License account", "Active users")
    expect(page.locator("main")).to_contain_text(f"rae.{tag}@hooli.example")
    page.get_by_role("row", name=re.compile(f"ben.{tag}@hooli.example")).get_by_role(
        "button", name="Revoke"
    ).click()
    expect(page.get_by_role("status")).to_contain_text("revoked and available to assign again")
    expect(page.locator("main")).not_to_contain_text(f"ben.{tag}@hooli.example")
    tab(page, "License account", "Admins")
    page.get_by_label("Reseller's email").fill(demo.DEMO_RESELLER_USER)
    page.get_by_role("button", name="Add reseller as admin").click()
    expect(page.get_by_role("status")).to_contain_text("Demo Reseller is now an administrator")
    shoot(page, screenshots, "admins")

    # The reseller now sees the account under Customers, as managed.
    sign_in(page, demo.DEMO_RESELLER_USER, demo.DEMO_PASSWORD)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Customers").click()
    expect(page).to_have_url(re.compile(r"/portal/customers/?$"))
    expect(page.get_by_role("main")).to_contain_text(org)

    # The admin buys more seats on its own: first its own card, typed on the vault's page.
    sign_in(page, contact, PASSWORD)
    page.locator("details.account > summary").click()
    page.get_by_role("link", name="Payment methods").click()
    page.get_by_role("button", name="Add card").click()
    type_card(page, "4111 1111 1111 1111", "Nina North")
    expect(page.get_by_role("status")).to_contain_text("Visa ending 1111 is added")

    main_nav = page.get_by_role("navigation", name="Main")
    main_nav.get_by_role("link", name="Product Catalog").click()
    page.get_by_role("navigation", name="Products").get_by_role("link", name="WebStorm").click()
    page.get_by_label("Quantity").fill("2")
    shoot(page, screenshots, "customer_catalog")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_role("status")).to_contain_text("2 × WebStorm")
    tab(page, "License account", "Cart")
    page.get_by_text("Details", exact=True).click()
    page.get_by_label("Team", exact=True).select_option(label="New team…")
    page.get_by_label("New team name").fill("Design")
    page.get_by_role("button", name="Save details").click()
    expect(page.get_by_role("status")).to_contain_text("details are saved")
    expect(page.locator("main")).to_contain_text("Design")
    shoot(page, screenshots, "customer_cart")
    page.get_by_role("link", name="Checkout").click()
    expect(page.get_by_label("Company name")).to_have_value(org)
    expect(page.get_by_label("Email")).to_have_value(contact)
    fill_address(page)
    page.get_by_label(re.compile("Visa ending 1111")).check()
    shoot(page, screenshots, "customer_checkout")
    page.get_by_role("button", name="Place order").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("O-")
    first = re.search(r"O-\d{4}-\d+", heading.inner_text()).group(0)
    reload_until(page, r"INV-\S+[\s\S]*L-[A-Z0-9]{6,}")
    shoot(page, screenshots, "customer_order")

    # Its invoice, and the PDF.
    page.get_by_role("link", name=re.compile(r"^INV-")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Paid")
    with page.expect_download() as pdf_info:
        page.get_by_role("link", name="Download PDF").click()
    assert pdf_info.value.path().read_bytes().startswith(b"%PDF")
    shoot(page, screenshots, "customer_invoice")

    # Upgrade to All Products Pack, from the WS row of By product.
    main_nav.get_by_role("link", name="License account").click()
    tab(page, "License account", "By product")
    page.get_by_role("link", name=re.compile("Upgrade to All Products Pack")).click()
    expect(page.get_by_role("heading", name=re.compile("to All Products Pack"))).to_be_visible()
    shoot(page, screenshots, "upgrade")
    page.get_by_role("button", name=re.compile("Upgrade to All Products Pack")).first.click()
    expect(page.get_by_role("status")).to_contain_text("An upgrade of")
    expect(page.locator("main")).to_contain_text("Upgrade")
    page.get_by_role("link", name="Checkout").click()
    expect(page.get_by_label("Address line 1")).to_have_value("1 Hooli Way")
    page.get_by_label(re.compile("Visa ending 1111")).check()
    page.get_by_role("button", name="Place order").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("O-")
    second = re.search(r"O-\d{4}-\d+", heading.inner_text()).group(0)
    expect(page.locator("main")).to_contain_text("Upgrade")

    # Both of its orders under Orders, and its invoices.
    main_nav.get_by_role("link", name="Orders").click()
    expect(page.locator("main")).to_contain_text(first)
    expect(page.locator("main")).to_contain_text(second)
    shoot(page, screenshots, "customer_orders")
    main_nav.get_by_role("link", name=re.compile("Invoices")).click()
    reload_until(page, r"INV-\S+[\s\S]*INV-\S+")
    shoot(page, screenshots, "customer_invoices")
