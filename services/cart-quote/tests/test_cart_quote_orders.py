"""Renew or copy an order into the caller's cart (the order read from the orders service)."""

from __future__ import annotations

from portal_contracts import demo

CART = f"/customers/{demo.ACME_ID}/cart"


def an_order(number="O-2026-000042", reseller_id=demo.DEMO_RESELLER_ID) -> dict:
    return {
        "number": number,
        "reseller_id": reseller_id,
        "customer": {"id": demo.ACME_ID, "name": demo.ACME_NAME, "email": demo.ACME_CONTACT},
        "lines": [
            {
                "line_no": 1,
                "kind": "new",
                "product": "II",
                "quantity": 2,
                "term_years": 2,
                "team_id": "T-1",
                "team_name": None,
                "subscription_pack": None,
                "license_ids": [],
            },
            {
                "line_no": 2,
                "kind": "new",
                "product": "PC",
                "quantity": 1,
                "term_years": 1,
                "team_id": None,
                "team_name": "Data",
                "subscription_pack": None,
                "license_ids": [],
            },
        ],
        "license_ids": ["L-1", "L-2", "L-3"],
    }


def test_copy_puts_the_orders_new_lines_in_the_cart(orders, demo_client):
    orders.orders["O-2026-000042"] = an_order()
    resp = demo_client.post("/orders/O-2026-000042/copy")
    assert resp.status_code == 200, resp.get_json()
    items = resp.get_json()["items"]
    assert [(i["product"], i["quantity"], i["term_years"]) for i in items] == [
        ("II", 2, 2),
        ("PC", 1, 1),
    ]
    assert (items[0]["team_id"], items[1]["team_name"]) == ("T-1", "Data")
    assert items[0]["start_date"] == "2026-11-22"  # a copy starts afresh
    assert demo_client.get(CART).get_json()["total"] == resp.get_json()["total"]


def test_renew_puts_renewals_of_the_orders_licenses_grouped_by_product(
    orders, licenses, demo_client
):
    orders.orders["O-2026-000042"] = an_order()
    licenses.add(demo.ACME_ID, "L-1", "II", "2028-11-22")
    licenses.add(demo.ACME_ID, "L-2", "II", "2028-11-22")
    licenses.add(demo.ACME_ID, "L-3", "PC", "2027-11-22")
    resp = demo_client.post("/orders/O-2026-000042/renew")
    assert resp.status_code == 200, resp.get_json()
    items = resp.get_json()["items"]
    assert [(i["kind"], i["product"], i["quantity"], i["license_ids"]) for i in items] == [
        ("renewal", "II", 2, ["L-1", "L-2"]),
        ("renewal", "PC", 1, ["L-3"]),
    ]
    assert (items[0]["start_date"], items[0]["end_date"]) == ("2028-11-22", "2030-11-22")
    assert items[1]["unit_price"] == "36.00"
    # Renewing the same order again would charge its licenses twice: refused, cart unchanged.
    again = demo_client.post("/orders/O-2026-000042/renew")
    assert again.status_code == 422
    assert "license_ids" in again.get_json()["errors"]
    assert len(demo_client.get(CART).get_json()["items"]) == 2


def test_someone_elses_order_is_404(orders, other_client, demo_client):
    orders.orders["O-2026-000042"] = an_order()
    assert other_client.post("/orders/O-2026-000042/copy").status_code == 404
    assert other_client.post("/orders/O-2026-000042/renew").status_code == 404
    assert demo_client.post("/orders/O-2026-999999/copy").status_code == 404
