"""Entering a customer, the catalog, the cart, Get Quote, Checkout, quotes and orders, page by
page with the Flask test client against the running system (Globex: a managed account)."""

from __future__ import annotations

import datetime as dt
import html
import re
import time

import pytest
from portal_testkit import (
    ADDRESS,
    GLOBEX,
    add,
    cart_lines,
    empty_cart,
    error_of,
    quote_links,
    text,
    without_notices,
)

from portal_contracts import demo

pytestmark = pytest.mark.e2e


def test_entering_with_an_email_not_of_the_account_says_only_that_nothing_matched(reseller_pages):
    pages = reseller_pages
    resp = pages.get(f"/portal/?by=customer_id&q={demo.ACME_ID}")
    assert "Contact email" in text(resp)
    resp = pages.post(
        "/portal/enter", {"by": "customer_id", "value": demo.ACME_ID, "email": "x@nowhere.example"}
    )
    assert resp.status_code == 422
    assert error_of(resp, "email").startswith("No account matched.")
    resp = pages.post("/portal/enter", {"by": "customer_id", "value": "C-999999", "email": "x@y.z"})
    assert error_of(resp, "email").startswith("No account matched.")


def test_entering_by_email_lists_the_accounts_to_choose_from(reseller_pages):
    resp = reseller_pages.get(f"/portal/?by=email&q={demo.ACME_CONTACT}")
    assert f"{demo.ACME_NAME} ({demo.ACME_ID})" in text(resp)
    resp = reseller_pages.get("/portal/?by=email&q=nobody@nowhere.example")
    assert error_of(resp, "q").startswith("No account matched.")


def test_a_bad_quantity_is_named_next_to_the_field_and_adds_nothing(reseller_pages):
    empty_cart(reseller_pages)
    resp = add(reseller_pages, quantity="0")
    assert resp.status_code == 422
    assert error_of(resp, "quantity") == "Enter a quantity from 1 to 10000."
    assert add(reseller_pages, quantity="lots").status_code == 422
    assert cart_lines(reseller_pages) == []


def test_co_terming_under_a_year_warns_of_no_fallback_and_set_default_restores(reseller_pages):
    pages = reseller_pages
    empty_cart(pages)
    assert add(pages).status_code == 302
    (line,) = cart_lines(pages)
    url = f"/portal/customers/{GLOBEX}/cart/items/{line}"
    resp = pages.post(url, {"action": "custom", "end_date": "30/02/2027"})
    assert resp.status_code == 422
    assert "Enter the end date as a date" in error_of(resp, f"end_date-{line}")
    resp = pages.post(url, {"action": "custom", "end_date": "2000-01-01"})
    assert resp.status_code == 422
    page = text(pages.get(f"/portal/customers/{GLOBEX}/cart"))
    assert "no perpetual fallback" not in page
    end = dt.date.today() + dt.timedelta(days=180)
    assert pages.post(url, {"action": "custom", "end_date": end.isoformat()}).status_code == 302
    page = text(pages.get(f"/portal/customers/{GLOBEX}/cart"))
    assert "it gets no perpetual fallback license" in page
    assert "Set Default" in page
    assert pages.post(url, {"action": "default"}).status_code == 302
    page = text(pages.get(f"/portal/customers/{GLOBEX}/cart"))
    assert "no perpetual fallback" not in page


def test_get_quote_with_bad_fields_names_each_and_issues_nothing_then_issues_it(reseller_pages):
    pages = reseller_pages
    empty_cart(pages)
    add(pages, product="RM", quantity="3")
    before = quote_links(pages)
    pages.get(f"/portal/customers/{GLOBEX}/quote")
    resp = pages.post(
        f"/portal/customers/{GLOBEX}/quote",
        {**ADDRESS, "line1": "", "country": "USA", "email": "not-an-email"},
    )
    assert resp.status_code == 422
    assert error_of(resp, "line1") == "Enter the first line of the billing address."
    assert "two-letter code" in error_of(resp, "country")
    assert "email address like" in error_of(resp, "email")
    assert quote_links(pages) == before
    resp = pages.post(f"/portal/customers/{GLOBEX}/quote", {**ADDRESS, "po_number": "PO-G-1"})
    assert resp.status_code == 302
    number = resp.headers["Location"].rsplit("/", 1)[1]
    page = text(pages.get(resp.headers["Location"]))
    assert number in page and "PO-G-1" in page and "RubyMine" in page and "$" in page
    found = text(pages.get(f"/portal/quotes/?number={number}"))
    assert number in found
    pdf = pages.get(f"/portal/quotes/{number}/pdf")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    # The next Get Quote is prefilled with the address used last.
    assert (
        'value="1 Main Street"'
        in pages.get(f"/portal/customers/{GLOBEX}/quote").get_data(as_text=True)
        or cart_lines(pages) == []
    )


def test_quotes_search_refuses_a_to_date_before_from(reseller_pages):
    resp = reseller_pages.get("/portal/quotes/?from=2026-05-01&to=2026-04-01")
    assert resp.status_code == 422
    assert error_of(resp, "to") == "The To date must be on or after the From date."


def test_checkout_needs_a_payment_method_then_places_the_order_once(reseller_pages):
    pages = reseller_pages
    empty_cart(pages)
    add(pages, product="II", quantity="1")
    form = pages.get(f"/portal/customers/{GLOBEX}/checkout").get_data(as_text=True)
    # Prefilled with the billing address used last (the quote above).
    assert 'value="1 Main Street"' in form
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form).group(1)
    resp = pages.post(f"/portal/customers/{GLOBEX}/checkout", {**ADDRESS, "idempotency_key": key})
    assert resp.status_code == 422
    assert "Choose how to pay." in text(resp)
    body = {**ADDRESS, "idempotency_key": key, "payment_method_id": demo.DEMO_CARD_METHOD_ID}
    resp = pages.post(f"/portal/customers/{GLOBEX}/checkout", body)
    assert resp.status_code == 302
    order_url = resp.headers["Location"]
    # A second click on Place order (same form) is the same order.
    assert pages.post(f"/portal/customers/{GLOBEX}/checkout", body).headers["Location"] == order_url
    deadline = time.monotonic() + 60
    while True:
        page = text(pages.get(order_url))
        if "INV-" in page and re.search(r"L-[A-Z0-9]+", page):
            break
        assert time.monotonic() < deadline, page
        time.sleep(0.5)
    assert "IntelliJ IDEA Ultimate" in page
    # A buyer in the US: the order states its subtotal and that no EU VAT applies.
    assert "Subtotal" in page and "outside the scope of eu vat" in page.lower()
    number = order_url.rsplit("/", 1)[1]
    assert number in text(pages.get("/portal/orders/?customer_name=Globex"))
    resp = pages.post(f"{order_url}/resend-licenses")
    assert "The licenses are on their way" in text(pages.get(resp.headers["Location"]))


def test_another_resellers_quote_order_and_customer_are_the_404_page(pages, reseller_pages):
    empty_cart(reseller_pages)
    add(reseller_pages, product="PC", quantity="1")
    reseller_pages.get(f"/portal/customers/{GLOBEX}/quote")
    quote_url = reseller_pages.post(f"/portal/customers/{GLOBEX}/quote", ADDRESS).headers[
        "Location"
    ]
    other = pages.__class__(pages.app)
    other.sign_in(demo.OTHER_RESELLER_USER)
    missing = other.get("/portal/quotes/Q-2099-999999")
    assert missing.status_code == 404
    assert "Page not found" in text(missing)
    for path in (
        quote_url,
        quote_url + "/pdf",
        f"/portal/customers/{GLOBEX}",
        f"/portal/customers/{GLOBEX}/cart",
        f"/portal/customers/{GLOBEX}/licenses",
    ):
        resp = other.get(path)
        assert resp.status_code == 404, path
        assert without_notices(resp) == without_notices(missing), path
    assert other.post(quote_url + "/cancel").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        f"/portal/customers/{GLOBEX}/licenses",
        "/portal/orders/?number=O-2026",
        "/portal/invoices/?customer_name=Globex",
        "/portal/quotes/?customer_name=Globex",
    ],
)
def test_an_email_link_opens_its_page_after_sign_in(pages, path):
    resp = pages.get(path)
    assert resp.status_code == 302
    target = resp.headers["Location"]
    assert target.startswith("/portal/sign-in?next=")
    form = pages.get(target).get_data(as_text=True)
    carried = html.unescape(re.search(r'name="next" value="([^"]*)"', form).group(1))
    resp = pages.post(
        "/portal/sign-in",
        {"email": demo.DEMO_RESELLER_USER, "password": "demo-password", "next": carried},
    )
    assert resp.headers["Location"] == path
    assert pages.get(path).status_code == 200
