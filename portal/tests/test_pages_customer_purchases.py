"""A customer admin buys for its own account: the catalog, cart (into an existing or a new team),
Get Quote and Checkout with its own payment methods, Upgrade to All Products Pack, and its own
quotes, orders and invoices with their PDFs; never another account's, never a reseller's. Page by
page with the Flask test client against the running system."""

from __future__ import annotations

import html
import re
import uuid

import pytest
from portal_testkit import GLOBEX, Pages, cart_lines, empty_cart, error_of, text, wait_for_page

from portal_contracts import demo
from portal_system.testing import login

pytestmark = pytest.mark.e2e

ACME = demo.ACME_ID
SHOP = f"/portal/customers/{ACME}"


@pytest.fixture
def admin_pages(pages) -> Pages:
    pages.sign_in(demo.ACME_ADMIN)
    empty_cart(pages, ACME)
    return pages


@pytest.fixture(scope="module")
def acme_card(portal_system) -> str:
    """A card of Acme's own, tokenised by the sandbox vault (as `Add card` does in a browser)."""
    admin = login(portal_system, demo.ACME_ADMIN)
    token = admin.post(
        "/vault/cards",
        json={"number": demo.SUCCESS_CARD, "expiry": "12/30", "cvc": "123", "holder": "Acme"},
    ).json()["vault_token"]
    resp = admin.post("/payment-methods", json={"kind": "card", "vault_token": token})
    assert resp.status_code in (200, 201), resp.text
    return resp.json()["id"]


def add(pages, product="WS", quantity="2", years="1"):
    pages.get(f"{SHOP}?product={product}")
    return pages.post(
        f"{SHOP}/cart/items", {"product": product, "quantity": quantity, "term_years": years}
    )


def buyer(tag: str) -> dict:
    return {
        "company": "Acme Corp",
        "line1": "1 Acme Way",
        "city": "Springfield",
        "country": "US",
        "first_name": "Ada",
        "last_name": tag,
        "email": f"ada.{tag}@acme.example",
    }


def test_a_customer_admin_has_the_buying_pages_of_its_own_account_only(admin_pages):
    start = admin_pages.get(f"{SHOP}/licenses").get_data(as_text=True)
    main_nav = re.search(r'<nav aria-label="Main">(.*?)</nav>', start, re.S).group(1)
    for name in ("License account", "Product Catalog", "Quotes", "Orders", "Invoices"):
        assert f">{name}<" in main_nav or f">{name} <" in main_nav, name
    assert "Customers" not in main_nav
    assert "Payment methods" in start
    catalog = admin_pages.get(f"{SHOP}?product=WS")
    assert catalog.status_code == 200 and "Add to cart" in text(catalog)
    # Another account's shop, cart, checkout and renewals are the one 404 page, and change nothing.
    for path in ("", "/cart", "/checkout", "/quote", "/renewals/", "/renewals/upgrade?product=PC"):
        assert admin_pages.get(f"/portal/customers/{GLOBEX}{path}").status_code == 404, path
    resp = admin_pages.post(
        f"/portal/customers/{GLOBEX}/cart/items",
        {"product": "WS", "quantity": "1", "term_years": "1"},
    )
    assert resp.status_code == 404
    # The reseller's start page and customer list are not a customer admin's.
    assert admin_pages.get("/portal/").status_code == 404
    assert admin_pages.get("/portal/customers/").status_code == 404


def test_bad_input_in_a_customer_admins_cart_says_what_and_changes_nothing(admin_pages):
    for quantity, message in (("0", "Enter a quantity from 1 to 10000."), ("x", None)):
        resp = add(admin_pages, quantity=quantity)
        assert resp.status_code == 422
        assert error_of(resp, "quantity") == (message or "Enter a quantity from 1 to 10000.")
    assert cart_lines(admin_pages, ACME) == []
    assert add(admin_pages, years="3").status_code == 422
    assert cart_lines(admin_pages, ACME) == []

    assert add(admin_pages, product="WS", quantity="2").status_code == 302
    [line] = cart_lines(admin_pages, ACME)
    # A new team needs its name.
    resp = admin_pages.post(
        f"{SHOP}/cart/items/{line}",
        {"action": "details", "team_id": "__new__", "team_name": "  "},
    )
    assert resp.status_code == 422
    assert error_of(resp, f"team_name-{line}") == "Enter the name of the new team."
    assert "new team" not in text(admin_pages.get(f"{SHOP}/cart"))
    # Checkout without a name, an address or a way to pay.
    admin_pages.get(f"{SHOP}/checkout")
    resp = admin_pages.post(
        f"{SHOP}/checkout",
        {"line1": "", "city": "", "country": "USA", "email": "nope", "payment_method_id": "pm-x"},
    )
    assert resp.status_code == 422
    assert error_of(resp, "line1") == "Enter the first line of the billing address."
    assert error_of(resp, "country").startswith("Enter the country as its two-letter code")
    assert error_of(resp, "email") == "Enter an email address like name@example.com."
    assert "Choose how to pay." in text(resp)
    # Get Quote without the end user.
    admin_pages.get(f"{SHOP}/quote")
    resp = admin_pages.post(f"{SHOP}/quote", {**buyer("q"), "first_name": "", "email": ""})
    assert resp.status_code == 422
    assert html.unescape(error_of(resp, "first_name")) == "Enter the end user's first name."
    assert cart_lines(admin_pages, ACME) == [line]
    empty_cart(admin_pages, ACME)


def test_a_customer_admin_buys_seats_into_a_new_team_and_sees_the_order_and_invoice_pdf(
    admin_pages, acme_card
):
    tag = uuid.uuid4().hex[:6]
    team = f"Design {tag}"
    assert add(admin_pages, product="WS", quantity="2").status_code == 302
    [line] = cart_lines(admin_pages, ACME)
    resp = admin_pages.post(
        f"{SHOP}/cart/items/{line}",
        {"action": "details", "team_id": "__new__", "team_name": team},
    )
    assert resp.status_code == 302
    cart = text(admin_pages.get(f"{SHOP}/cart"))
    assert f"Team {team} new team" in cart

    form = admin_pages.get(f"{SHOP}/checkout").get_data(as_text=True)
    # Its own card, and the form prefilled with its own organisation and the admin as licensee.
    assert f'value="{acme_card}"' in form and "pm-demo-card" not in form
    assert 'value="Acme Corp"' in form and f'value="{demo.ACME_ADMIN}"' in form
    key = re.search(r'name="idempotency_key" value="([^"]+)"', form).group(1)
    resp = admin_pages.post(
        f"{SHOP}/checkout",
        {**buyer(tag), "payment_method_id": acme_card, "idempotency_key": key},
    )
    assert resp.status_code == 302, text(resp)[:2000]
    order_url = resp.headers["Location"]
    number = order_url.rsplit("/", 1)[-1]
    page = wait_for_page(admin_pages, order_url, r"Invoice INV-\S+")
    invoice = re.search(r"Invoice (INV-\S+)", page).group(1)
    assert f"ada.{tag}@acme.example" in page

    orders = text(admin_pages.get("/portal/orders/"))
    assert number in orders
    invoices = text(admin_pages.get(f"/portal/invoices/?number={invoice}"))
    assert invoice in invoices and number in invoices and "Paid" in invoices
    shown = admin_pages.get(f"/portal/invoices/{invoice}").get_data(as_text=True)
    assert f'href="/portal/orders/{number}"' in shown
    pdf = admin_pages.get(f"/portal/invoices/{invoice}/pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")

    # The new team exists once the seats are issued (the Assign page offers it).
    wait_for_page(admin_pages, f"{SHOP}/assign", re.escape(team))

    # A reseller does not see the account's own order or invoice.
    reseller = Pages(admin_pages.app)
    reseller.sign_in(demo.DEMO_RESELLER_USER)
    assert reseller.get(order_url).status_code == 404
    assert reseller.get(f"/portal/invoices/{invoice}").status_code == 404


def test_a_customer_admin_asks_for_a_quote_and_finds_it_in_its_quotes(admin_pages):
    tag = uuid.uuid4().hex[:6]
    assert add(admin_pages, product="PC", quantity="3", years="2").status_code == 302
    admin_pages.get(f"{SHOP}/quote")
    resp = admin_pages.post(f"{SHOP}/quote", {**buyer(tag), "po_number": f"PO-{tag}"})
    assert resp.status_code == 302, text(resp)[:2000]
    quote_url = resp.headers["Location"]
    number = quote_url.rsplit("/", 1)[-1]
    page = text(admin_pages.get(quote_url))
    assert number in page and f"PO-{tag}" in page and "Download PDF" in page
    listing = text(admin_pages.get(f"/portal/quotes/?number={number}"))
    assert number in listing
    pdf = admin_pages.get(f"/portal/quotes/{number}/pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    # The reseller's quotes are not in the admin's list, nor is the admin's in the reseller's.
    reseller = Pages(admin_pages.app)
    reseller.sign_in(demo.DEMO_RESELLER_USER)
    assert reseller.get(quote_url).status_code == 404
    assert admin_pages.post(f"{quote_url}/cancel").status_code == 302
    assert "Cancelled" in text(admin_pages.get(quote_url))


def test_upgrade_to_all_products_pack_from_the_product_row(admin_pages):
    overview = admin_pages.get(f"{SHOP}/overview").get_data(as_text=True)
    link = f"/portal/customers/{ACME}/renewals/upgrade?product=PC"
    assert f'href="{link}"' in overview
    assert "upgrade?product=ALL" not in overview
    page = admin_pages.get(link)
    assert page.status_code == 200
    words = text(page)
    assert "Upgrade PyCharm Professional to All Products Pack" in words
    assert "L-ACME0001" in words and "Upgrade to All Products Pack" in words
    # Not a product, or the pack itself: the 404 page.
    assert admin_pages.get(f"{SHOP}/renewals/upgrade?product=NOPE").status_code == 404
    assert admin_pages.get(f"{SHOP}/renewals/upgrade?product=ALL").status_code == 404
    # An ended subscription cannot be upgraded, and the page says so.
    ended = text(admin_pages.get(f"{SHOP}/renewals/upgrade?product=II"))
    assert "Only licenses still active can be upgraded" in ended and "renew it first" in ended

    ids = re.search(r'name="license_ids" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    resp = admin_pages.post(
        f"{SHOP}/renewals/cart", {"action": "upgrade", "license_ids": ids, "term_years": "1"}
    )
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"{SHOP}/cart")
    cart = text(admin_pages.get(f"{SHOP}/cart"))
    assert "All Products Pack Upgrade" in cart and "L-ACME0001" in cart
    # The same licenses cannot be upgraded twice in one cart.
    again = admin_pages.post(
        f"{SHOP}/renewals/cart", {"action": "upgrade", "license_ids": ids, "term_years": "1"}
    )
    assert again.status_code == 302
    assert len(cart_lines(admin_pages, ACME)) == 1
    empty_cart(admin_pages, ACME)
