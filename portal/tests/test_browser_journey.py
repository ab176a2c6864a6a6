"""The reseller journey in Debian's Chromium, through the gateway's /portal/ only."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from portal_contracts import demo

pytestmark = pytest.mark.e2e


def test_reseller_journey(page: Page, screenshots):
    page.goto("/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email").fill(demo.DEMO_RESELLER_USER)
    page.get_by_label("Password").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    # Enter Acme by Customer ID and its contact email.
    expect(page.get_by_role("navigation", name="Main")).to_contain_text("Product Catalog")
    expect(page.get_by_text("Demo Reseller")).to_be_visible()
    page.get_by_label("Search by").select_option(label="Customer ID")
    page.get_by_label("Search for").fill(demo.ACME_ID)
    page.get_by_role("button", name="Search").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Contact email").fill("it@acme.example")
    page.screenshot(path=screenshots / "start.png", full_page=True)
    dialog.get_by_role("button", name="Enter").click()
    expect(page.get_by_role("heading", name=re.compile("Acme Corp"))).to_be_visible()

    # A product from the catalog on the left, into the cart.
    page.get_by_role("navigation", name="Products").get_by_role(
        "link", name="PyCharm Professional"
    ).click()
    page.get_by_label("Quantity").fill("3")
    page.get_by_label("Years").select_option("1")
    page.screenshot(path=screenshots / "catalog.png", full_page=True)
    page.get_by_role("button", name="Add to cart").click()
    expect(page.get_by_role("status")).to_contain_text("3 × PyCharm Professional")
