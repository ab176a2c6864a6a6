"""Claiming one direct quote twice at once on the real PostgreSQL: exactly one reseller wins.

Both claims are held right after reading the quote (``held_after``): without a row lock both
would see it unclaimed and both would take it.
"""

from __future__ import annotations

import threading

import pytest

from cart_quote.models import Quote
from cart_quote.seed import DIRECT_QUOTE_NUMBER, seed
from portal_contracts import demo
from portal_runtime.testing import held_after, recorded
from portal_runtime.testkit import GATEWAY

pytestmark = pytest.mark.integration


@pytest.fixture
def cart_quote(on_postgres):
    """cart-quote on PostgreSQL, seeded with the demo's direct quote (replaces conftest's)."""
    seed(on_postgres)
    return on_postgres


def test_two_resellers_claiming_one_direct_quote_at_once_leave_one_owner(
    cart_quote, client_for, monkeypatch
):
    monkeypatch.setattr(Quote, "effective_status", held_after(Quote.effective_status))
    # Apps are built before the threads start (a CPython 3.11 AST race in werkzeug's rules).
    gateways = [client_for(GATEWAY) for _ in range(2)]
    resellers = [demo.DEMO_RESELLER_ID, demo.OTHER_RESELLER_ID]
    answers = [None, None]
    start = threading.Barrier(2)

    def claim(i):
        start.wait(timeout=20)
        answers[i] = gateways[i].post(
            "/internal/quotes/claim",
            json={
                "quote_number": DIRECT_QUOTE_NUMBER,
                "email": "jane.doe@acme.example",
                "reseller_id": resellers[i],
            },
        )

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(a.status_code for a in answers) == [200, 404], [a.get_json() for a in answers]
    converted = recorded(cart_quote, "quotes.quote.converted")
    [winner] = [resellers[i] for i in range(2) if answers[i].status_code == 200]
    assert [c["reseller_id"] for c in converted] == [winner]
