"""The quote PDF comes from cart-quote over HTTP; anything but a PDF means "try again later"."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from notifications.ports import AttachmentUnavailable, HttpQuotePdfs
from portal_runtime import identity as ids
from portal_runtime.http import ServiceClient
from portal_runtime.testing import dev_keys

CART_QUOTE_KEYS = dev_keys("cart-quote")


class CartQuote(BaseHTTPRequestHandler):
    """cart-quote's internal PDF route: Q-1 exists, Q-500 is broken, others are unknown."""

    seen_identities: list = []

    def do_GET(self):
        path, _, query = self.path.partition("?")
        identity = ids.verify(
            self.headers.get(ids.HEADER), CART_QUOTE_KEYS, method="GET", path=path, query=query
        )
        CartQuote.seen_identities.append(identity)
        if self.path == "/internal/quotes/Q-1/pdf":
            self.send_response(200)
            self.send_header("Content-Type", "application/pdf")
            self.end_headers()
            self.wfile.write(b"%PDF-1.4 quote Q-1")
        elif self.path == "/internal/quotes/Q-500/pdf":
            self.send_response(500)
            self.end_headers()
        else:
            self.send_response(404)
            self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def cart_quote():
    server = ThreadingHTTPServer(("127.0.0.1", 0), CartQuote)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def pdfs(base_url: str) -> HttpQuotePdfs:
    return HttpQuotePdfs(
        ServiceClient(
            "cart-quote", "notifications", dev_keys("notifications"), timeout=2, base_url=base_url
        )
    )


def test_the_pdf_is_fetched_as_the_notifications_service(cart_quote):
    assert pdfs(cart_quote).fetch("Q-1").startswith(b"%PDF")
    caller = CartQuote.seen_identities[-1]
    assert caller.is_service and caller.name == "notifications"


@pytest.mark.parametrize("number", ["Q-500", "Q-404"])
def test_an_answer_without_the_pdf_is_a_reason_to_retry(cart_quote, number):
    with pytest.raises(AttachmentUnavailable):
        pdfs(cart_quote).fetch(number)


def test_cart_quote_not_answering_is_a_reason_to_retry():
    with pytest.raises(AttachmentUnavailable):
        pdfs("http://127.0.0.1:9").fetch("Q-1")
