"""The reseller journey in Debian's Chromium, through the gateway's /portal/ only, with
JavaScript turned off (every flow is plain pages and forms); a screenshot of each main page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import Page, expect
from portal_testkit import reload_until, shoot, type_card

from portal_contracts import demo

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "java_script_enabled": False}


def download(page: Page, link_name: str) -> bytes:
    with page.expect_download() as info:
        page.get_by_role("link", name=link_name).click()
    path = info.value.path()
    return open(path, "rb").read()


def open_cart(page: Page) -> None:
    page.get_by_role("navigation", name="Customer").get_by_role(
        "link", name=re.compile("Cart")
    ).click()
    expect(page.get_by_role("heading", name="Cart", exact=True)).to_be_visible()


def test_reseller_journey(page: Page, screenshots):
    # Sign in (the e-mail-style deep link comes back after sign-in, see the page tests).
    page.goto("/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email").fill(demo.DEMO_RESELLER_USER)
    page.get_by_label("Password").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    # Enter Acme by Customer ID and its contact email.
    main_nav = page.get_by_role("navigation", name="Main")
    for tab in ("Product Catalog", "Quotes", "Orders", "Customers", "Invoices"):
        expect(main_nav.get_by_role("link", name=tab, exact=True)).to_be_visible()
    expect(page.get_by_text(demo.DEMO_RESELLER_NAME).first).to_be_visible()
    page.get_by_label("Search by").select_option(label="Customer ID")
    page.get_by_label("Search for").fill(demo.ACME_ID)
    page.get_by_role("button", name="Search").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Contact email").fill(demo.ACME_CONTACT)
    shoot(page, screenshots, "start")
    dialog.get_by_role("button", name="Enter").click()
    expect(page.get_by_role("heading", name=re.compile(demo.ACME_NAME))).to_be_visible()

    # A product from the catalog on the left, into the cart.
    page.get_by_role("navigation", name="Products").get_by_role("link", name="WebStorm").click()
    page.get_by_label("Quantity").fill("3")
    page.get_by_label("Years").select_option("1")
    shoot(page, screenshots, "catalog")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_role("status")).to_contain_text("3 × WebStorm")

    # Co-term it to a date under a year: no perpetual fallback; then Set Default.
    open_cart(page)
    end = dt.date.today() + dt.timedelta(days=200)
    page.get_by_label("End date").fill(end.isoformat())
    page.get_by_role("button", name="Set Custom").click()
    expect(page.get_by_role("note")).to_contain_text("no perpetual fallback")
    page.get_by_text("Details", exact=True).click()
    expect(page.get_by_label("Subscription pack")).to_be_visible()
    shoot(page, screenshots, "cart")
    page.get_by_role("button", name="Set Default").click()
    expect(page.get_by_role("status")).to_contain_text("default end date")
    expect(page.get_by_role("note")).to_have_count(0)

    # Get Quote, with the billing address and the end user.
    page.get_by_role("link", name="Get Quote").click()
    page.get_by_label("Company name").fill("Demo Reseller Inc.")
    page.get_by_label("Address line 1").fill("1 Main Street")
    page.get_by_label("City").fill("Springfield")
    page.get_by_label("Country").fill("US")
    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Last name").fill("Lovelace")
    page.get_by_label("Email").fill("ada@acme.example")
    page.get_by_label("PO number").fill("PO-4711")
    page.get_by_role("button", name="Submit quote").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("Q-")
    quote_number = re.search(r"Q-\d{4}-\d+", heading.inner_text()).group(0)
    shoot(page, screenshots, "quote")

    # Find it in Quotes and download its PDF.
    main_nav.get_by_role("link", name="Quotes").click()
    page.get_by_label("Quote number").fill(quote_number)
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=quote_number).click()
    assert download(page, "Download PDF").startswith(b"%PDF")

    # Check out the cart with the stored card.
    # The quote took the cart's lines; buy the same again now, with the stored card.
    page.get_by_role("link", name="Open customer").click()
    page.get_by_role("navigation", name="Products").get_by_role("link", name="WebStorm").click()
    page.get_by_label("Quantity").fill("3")
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_role("status")).to_contain_text("3 × WebStorm")
    open_cart(page)
    page.get_by_role("link", name="Checkout").click()
    expect(page.get_by_label("Address line 1")).to_have_value("1 Main Street")
    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Last name").fill("Lovelace")
    page.get_by_label("Email").fill("ada@acme.example")
    page.get_by_label(re.compile("Visa ending 1111")).check()
    page.get_by_label("Send activation e-mail").check()
    shoot(page, screenshots, "checkout")
    page.get_by_role("button", name="Place order").click()

    # The order page: the invoice number and the licenses appear.
    expect(page.get_by_role("heading", level=1)).to_contain_text("O-")
    body = reload_until(page, r"INV-\S+[\s\S]*L-[A-Z0-9]{6,}")
    assert "WebStorm" in body
    shoot(page, screenshots, "order")
    order_url = page.url

    # The invoice and its PDF.
    page.get_by_role("link", name=re.compile(r"^INV-")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Paid")
    assert download(page, "Download PDF").startswith(b"%PDF")
    shoot(page, screenshots, "invoice")
    main_nav.get_by_role("link", name=re.compile("Invoices")).click()
    shoot(page, screenshots, "invoices")

    # Renew from the order: the renewal is in the cart.
    page.goto(order_url)
    page.get_by_role("button", name="Renew").click()
    expect(page.get_by_role("status")).to_contain_text("Renewals of order")
    expect(page.locator("main")).to_contain_text("Renewal")


def test_a_card_is_typed_into_the_vaults_own_page_never_the_portals(page: Page, screenshots):
    page.goto("/portal/account/payment-methods")
    page.get_by_label("Email").fill(demo.DEMO_RESELLER_USER)
    page.get_by_label("Password").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name="Add card").click()
    type_card(page, "4111 1111 1111 1112", "Ada Lovelace")
    expect(page.get_by_text("Not a valid card number.")).to_be_visible()
    page.get_by_label("Card number").fill("5555 5555 5555 4444")
    page.get_by_label("CVC").fill("123")
    page.get_by_role("button", name="Save card").click()
    expect(page.get_by_role("status")).to_contain_text("Mastercard ending 4444 is added")
    shoot(page, screenshots, "payment-methods")
    page.get_by_role("button", name="Remove Mastercard ending 4444").click()
    expect(page.get_by_role("status")).to_contain_text("removed")
