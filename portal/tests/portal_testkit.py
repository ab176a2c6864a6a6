"""Helpers of the portal's page tests: a test client that sends forms as a browser does, and
the demo data's customer and addresses."""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from portal_contracts import demo
from portal_system.client import wait_for
from portal_system.testing import login

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Pages:
    """The portal app's test client, signed in or not, that sends forms with their CSRF token
    the way a browser does: read the token from the page, post it back."""

    def __init__(self, app):
        self.app = app
        self.client = app.test_client()
        self._token: str | None = None

    def get(self, path: str, **kw):
        resp = self.client.get(path, **kw)
        match = resp.mimetype == "text/html" and CSRF.search(resp.get_data(as_text=True))
        if match:
            self._token = match.group(1)
        return resp

    def post(self, path: str, data: dict | None = None, *, csrf: bool = True, **kw):
        data = dict(data or {})
        if csrf:
            if self._token is None:
                self.get("/portal/sign-in")
            data.setdefault("csrf_token", self._token)
        return self.client.post(path, data=data, **kw)

    def sign_in(self, email: str, password: str = "demo-password"):
        self.get("/portal/sign-in")
        resp = self.post("/portal/sign-in", {"email": email, "password": password})
        assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
        return resp


GLOBEX = demo.GLOBEX_ID
ADDRESS = {
    "company": "Demo Reseller Inc.",
    "line1": "1 Main Street",
    "city": "Springfield",
    "country": "US",
    "first_name": "Grace",
    "last_name": "Hopper",
    "email": "grace@globex.example",
}


def text(resp) -> str:
    html = resp.get_data(as_text=True)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def without_notices(resp) -> str:
    """The page without its flashed notices and CSRF tokens (signed with the time, so two pages
    served a second apart differ there only)."""
    page = re.sub(r'<div class="notice".*?</div>', "", resp.get_data(as_text=True), flags=re.S)
    return re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token"', page)


def error_of(resp, field_id: str) -> str:
    match = re.search(rf'id="{field_id}-error">(.*?)</p>', resp.get_data(as_text=True), re.S)
    assert match, f"no error next to {field_id}"
    return re.sub(r"<[^>]+>", "", match.group(1)).replace("Error:", "").strip()


def quote_links(pages) -> list[str]:
    html = pages.get("/portal/quotes/?customer_name=Globex").get_data(as_text=True)
    return re.findall(r'href="/portal/quotes/(Q-[^"]+)"', html)


def cart_lines(pages, customer=GLOBEX) -> list[str]:
    return re.findall(
        r'id="line-(\d+)"', pages.get(f"/portal/customers/{customer}/cart").get_data(as_text=True)
    )


def empty_cart(pages, customer=GLOBEX):
    for line in cart_lines(pages, customer):
        pages.post(f"/portal/customers/{customer}/cart/items/{line}/remove")


def add(pages, product="WS", quantity="2", years="1", customer=GLOBEX):
    pages.get(f"/portal/customers/{customer}?product={product}")
    return pages.post(
        f"/portal/customers/{customer}/cart/items",
        {"product": product, "quantity": quantity, "term_years": years},
    )


def wait_for_page(pages, path: str, pattern: str, timeout: float = 90) -> str:
    """The page's text once it shows ``pattern`` (an invoice being issued...), read again and
    again until then."""
    deadline = time.monotonic() + timeout
    while True:
        page = text(pages.get(path))
        if re.search(pattern, page):
            return page
        assert time.monotonic() < deadline, page
        time.sleep(0.5)


# --- browser tests (a Playwright page) ---------------------------------------------------------


def shoot(page, screenshots, name: str) -> None:
    page.screenshot(path=screenshots / f"{name}.png", full_page=True)


def reload_until(page, pattern: str, timeout: float = 90) -> str:
    """The main content once it shows ``pattern``, reloading the page until then."""
    deadline = time.monotonic() + timeout
    while True:
        body = page.locator("main").inner_text()
        if re.search(pattern, body):
            return body
        assert time.monotonic() < deadline, f"{pattern!r} never appeared:\n{body}"
        time.sleep(0.5)
        page.reload()


def type_card(page, number: str, holder: str, expiry: str = "12/30", cvc: str = "123") -> None:
    """Type a card on the payment vault's own page (where `Add card` leads) and save it."""
    assert "/api/v1/sandbox/vault/card" in page.url
    page.get_by_label("Card number").fill(number)
    page.get_by_label("Expiry (MM/YY)").fill(expiry)
    page.get_by_label("CVC").fill(cvc)
    page.get_by_label("Cardholder name").fill(holder)
    page.get_by_role("button", name="Save card").click()


def team_with_seats(system, name: str, quantity: int = 2) -> tuple[str, list[str]]:
    """A team of its own with freshly bought WS seats (other tests take Acme's free ones)."""
    reseller = login(system, demo.DEMO_RESELLER_USER)
    reseller.enter_customer(demo.ACME_ID, demo.ACME_CONTACT)
    team = reseller.post(f"/customers/{demo.ACME_ID}/teams", json={"name": name}).json()["team_id"]
    order = reseller.place_order(
        {
            "customer_id": demo.ACME_ID,
            "lines": [
                {"kind": "new", "product": "WS", "quantity": quantity, "term_years": 1,
                 "team_id": team}
            ],
            "payment_method_id": demo.DEMO_CARD_METHOD_ID,
            "end_user": {"first_name": "Team", "last_name": "Buyer", "email": "t@acme.example"},
            "send_activation_email": False,
        }
    ).json()["number"]  # fmt: skip
    ids = wait_for(
        lambda: reseller.get(f"/orders/{order}").json()["license_ids"] or None,
        timeout=90,
        what="the seats",
    )
    return team, ids


def browser_sign_in(page, email: str, password: str = demo.DEMO_PASSWORD) -> None:
    """Sign in on the portal's page in the browser, as nobody before, and wait until signed in.

    Call it once the page before has finished loading: every portal answer refreshes the session
    cookie, so a page still on its way when the cookies are cleared would sign its user back in
    (and the sign-in page would then send the browser on to that user's start page)."""
    page.context.clear_cookies()
    page.goto("/portal/sign-in")
    expect(page).to_have_url(re.compile(r"/portal/sign-in"))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).not_to_have_url(re.compile(r"/portal/sign-in"))
