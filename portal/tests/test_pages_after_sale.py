"""Invoices (the unpaid warning, Pay), Updates & Renewals, payment methods and the customers
list, page by page with the Flask test client against the running system."""

from __future__ import annotations

import re

import pytest
from portal_testkit import ADDRESS, GLOBEX, Pages, add, empty_cart, error_of, text, wait_for_page

from portal_contracts import demo

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def po_order(portal_config):
    """An order placed from a quote with a PO: its invoice is unpaid."""
    from portal.app import create_app

    pages = Pages(create_app(portal_config))
    pages.sign_in(demo.DEMO_RESELLER_USER)
    empty_cart(pages)
    add(pages, product="PC", quantity="4")
    pages.get(f"/portal/customers/{GLOBEX}/quote")
    quote_url = pages.post(f"/portal/customers/{GLOBEX}/quote", ADDRESS).headers["Location"]
    pages.get(quote_url)
    resp = pages.post(quote_url + "/order", {"po_number": "PO-INV-9"})
    assert resp.status_code == 302, text(resp)
    order_url = resp.headers["Location"]
    page = wait_for_page(pages, order_url, r"Invoice INV-\S+")
    return order_url, re.search(r"Invoice (INV-\S+)", page).group(1)


def test_an_unpaid_invoice_shows_the_warning_and_is_paid_with_a_stored_method(
    reseller_pages, po_order
):
    _order_url, invoice = po_order
    listing = reseller_pages.get(f"/portal/invoices/?number={invoice}").get_data(as_text=True)
    assert 'aria-label="Unpaid invoices"' in listing
    assert "PO-INV-9" in listing and "Not paid" in listing and "4 × PyCharm Professional" in listing
    page = reseller_pages.get(f"/portal/invoices/{invoice}")
    assert "Postpaid" in text(page)
    resp = reseller_pages.post(f"/portal/invoices/{invoice}/pay", {"payment_method_id": ""})
    assert resp.status_code == 422
    assert error_of(resp, f"payment_method_id-{invoice}") == "Choose how to pay."
    assert "Not paid" in text(reseller_pages.get(f"/portal/invoices/{invoice}"))
    resp = reseller_pages.post(
        f"/portal/invoices/{invoice}/pay", {"payment_method_id": demo.DEMO_CARD_METHOD_ID}
    )
    assert resp.status_code == 302
    page = wait_for_page(reseller_pages, f"/portal/invoices/{invoice}", r"Paid Issued")
    assert f"Invoice {invoice} is paid." in page or "Date paid" in page
    pdf = reseller_pages.get(f"/portal/invoices/{invoice}/pdf")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")


def test_another_resellers_invoice_is_the_404_page(pages, po_order):
    _order_url, invoice = po_order
    pages.sign_in(demo.OTHER_RESELLER_USER)
    assert pages.get(f"/portal/invoices/{invoice}").status_code == 404
    assert pages.get(f"/portal/invoices/{invoice}/pdf").status_code == 404
    assert pages.post(
        f"/portal/invoices/{invoice}/pay", {"payment_method_id": "x"}
    ).status_code == (404)
    assert pages.get(_order_url).status_code == 404


def test_renewals_are_found_by_order_number_and_renewed_into_the_cart(reseller_pages, po_order):
    order_url, _invoice = po_order
    number = order_url.rsplit("/", 1)[1]
    empty_cart(reseller_pages)
    base = f"/portal/customers/{GLOBEX}/renewals/"
    resp = reseller_pages.get(base + "?license_ids=&order_number=")
    assert resp.status_code == 422
    assert error_of(resp, "license_ids") == "Enter at least one thing to search by."
    page = reseller_pages.get(base + f"?order_number={number}").get_data(as_text=True)
    ids = re.search(r'name="license_ids" value="([^"]+)"', page).group(1)
    assert len(ids.split()) == 4 and ">Renew<" in page
    resp = reseller_pages.post(
        f"/portal/customers/{GLOBEX}/renewals/cart",
        {"action": "renew", "license_ids": ids, "term_years": "1"},
    )
    assert resp.headers["Location"] == f"/portal/customers/{GLOBEX}/cart"
    cart = text(reseller_pages.get(resp.headers["Location"]))
    assert "Renewal" in cart and "A renewal of 4 licenses is in the cart." in cart
    assert "No subscriptions" in text(reseller_pages.get(base + "?order_number=O-1999-000001"))


def test_payment_methods_list_the_stored_card_and_a_bad_vault_token_adds_nothing(reseller_pages):
    page = text(reseller_pages.get("/portal/account/payment-methods"))
    assert "Visa ending 1111" in page and "Add card" in page and "Connect PayPal" in page
    resp = reseller_pages.get("/portal/account/payment-methods/card-return?vault_token=vt_forged")
    assert "The card could not be added" in text(reseller_pages.get(resp.headers["Location"]))
    assert text(reseller_pages.get("/portal/account/payment-methods")).count(
        "ending"
    ) == page.count("ending")
    resp = reseller_pages.post("/portal/account/payment-methods/card")
    assert resp.status_code == 303
    assert "/api/v1/sandbox/vault/card?session=" in resp.headers["Location"]


def test_customers_lists_managed_accounts_with_their_licensing_report(reseller_pages, po_order):
    page = reseller_pages.get("/portal/customers/").get_data(as_text=True)
    assert demo.GLOBEX_NAME in page and "Managed account" in page
    report = reseller_pages.get(f"/portal/customers/{GLOBEX}/licensing-report")
    assert report.mimetype == "text/csv" and b"license" in report.data.lower()
    licenses = text(reseller_pages.get(f"/portal/customers/{GLOBEX}/licenses"))
    assert "PC" in licenses or "PyCharm" in licenses


def test_a_customer_admin_lands_on_its_own_licenses_and_sees_no_reseller_pages(pages):
    resp = pages.sign_in(demo.ACME_ADMIN)
    assert resp.headers["Location"] == f"/portal/customers/{demo.ACME_ID}/licenses"
    assert pages.get(resp.headers["Location"]).status_code == 200
    # Its own quotes (it buys for its own account), but no reseller's pages nor other accounts.
    assert pages.get("/portal/quotes/").status_code == 200
    assert pages.get("/portal/").status_code == 404
    assert pages.get("/portal/customers/").status_code == 404
    assert pages.get(f"/portal/customers/{GLOBEX}/licenses").status_code == 404
