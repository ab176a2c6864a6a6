"""Customer directory reads other services make, and the renewals search."""

from __future__ import annotations

import datetime as dt

from license_assign_testkit import ACME, order_placed, place
from sqlalchemy import update

from license_assign.models import OrderRecord
from portal_contracts import demo
from portal_runtime.identity import service_identity
from portal_runtime.testkit import ACME_ADMIN, GATEWAY, OTHER_RESELLER, RESELLER, TODAY


def test_the_customer_directory_answers_with_contacts_admins_and_managers(api):
    acme = api.get(f"/internal/customers/{demo.ACME_ID}", GATEWAY).get_json()
    assert acme == {
        "id": demo.ACME_ID,
        "name": "Acme Corp",
        "email": "it@acme.example",
        "contacts": ["it@acme.example"],
        "admin_emails": ["admin@acme.example"],
        "managing_reseller_ids": [],
    }
    globex = api.get(f"/internal/customers/{demo.GLOBEX_ID}", GATEWAY).get_json()
    assert globex["managing_reseller_ids"] == [demo.DEMO_RESELLER_ID]
    assert api.get("/internal/customers/C-404404", GATEWAY).status_code == 404
    assert api.get(f"/internal/customers/{demo.ACME_ID}", None).status_code == 401


def test_accounts_are_found_by_contact_email_and_by_managing_reseller(api):
    found = api.get(
        "/internal/customers", GATEWAY, query_string={"contact_email": "IT@Acme.example"}
    ).get_json()
    assert found == {"accounts": [{"customer_id": demo.ACME_ID, "name": "Acme Corp"}]}
    managed = api.get(
        "/internal/customers", GATEWAY, query_string={"managed_by": demo.DEMO_RESELLER_ID}
    ).get_json()
    assert managed == {"accounts": [{"customer_id": demo.GLOBEX_ID, "name": "Globex"}]}
    none = api.get(
        "/internal/customers", GATEWAY, query_string={"managed_by": demo.OTHER_RESELLER_ID}
    ).get_json()
    assert none == {"accounts": []}


def test_customer_access_verification_says_nothing_about_which_part_was_wrong(api):
    pack = api.licenses()[0]["subscription_pack"]

    def verify(by, value, email):
        return api.post(
            "/internal/customer-access/verify",
            GATEWAY,
            json={"by": by, "value": value, "email": email},
        )

    ok = verify("customer_id", demo.ACME_ID, "Admin@ACME.example")
    assert ok.status_code == 200
    assert ok.get_json() == {"customer_id": demo.ACME_ID, "name": "Acme Corp"}
    assert verify("subscription_pack", pack, "it@acme.example").status_code == 200

    failures = [
        verify("customer_id", "C-404404", "it@acme.example"),
        verify("customer_id", demo.ACME_ID, "someone@else.example"),
        verify("customer_id", demo.GLOBEX_ID, "it@acme.example"),
        verify("subscription_pack", "SP-999999", "it@acme.example"),
        verify("subscription_pack", pack, "licensing@globex.example"),
        verify("quote", "Q-1", "it@acme.example"),
        api.post("/internal/customer-access/verify", GATEWAY, json={"by": "customer_id"}),
    ]
    assert {r.status_code for r in failures} == {404}
    assert len({r.get_data() for r in failures}) == 1


def test_licenses_are_read_by_id_for_carts(api):
    lid = api.licenses(product="II")[0]["license_id"]
    resp = api.get(
        f"/internal/customers/{demo.ACME_ID}/licenses",
        service_identity("cart-quote"),
        query_string={"license_id": [lid, "L-UNKNOWN0"]},
    )
    items = resp.get_json()["items"]
    assert [i["license_id"] for i in items] == [lid]
    assert items[0]["status"] == "expired" and items[0]["product"] == "II"
    assert items[0]["subscription_pack"].startswith("SP-")


# -- renewals search -----------------------------------------------------------------------------


def renewals(api, identity=RESELLER, **query) -> list[dict]:
    resp = api.get(f"{ACME}/renewals", identity, query_string=query)
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()["items"]


def test_renewals_always_offer_renew_and_upgrade_only_while_a_single_product_is_active(api):
    found = {r["product"]: r for r in renewals(api)}
    assert found["PC"]["allowed_actions"] == ["renew", "upgrade"]
    assert found["PC"]["quantity"] == 3
    assert found["II"]["allowed_actions"] == ["renew"]
    assert found["II"]["status"] == "expired"
    assert found["ALL"]["allowed_actions"] == ["renew", "downgrade"]


def test_renewals_are_found_by_license_ids_po_order_pack_and_assignee(api):
    place(
        api.service,
        order_placed("O-2026-000300", lines=[{"product": "RM"}], po_number="PO-RM-1"),
    )
    rm = api.licenses(product="RM")
    by_ids = renewals(api, license_id=[rm[0]["license_id"], rm[1]["license_id"]])
    assert [(r["product"], sorted(r["license_ids"])) for r in by_ids] == [
        ("RM", sorted(lic["license_id"] for lic in rm))
    ]
    by_po = renewals(api, po_number="po-rm-1")
    assert [r["product"] for r in by_po] == ["RM"] and by_po[0]["po_numbers"] == ["PO-RM-1"]
    by_order = renewals(api, order_number="O-2026-000300")
    assert [r["order_numbers"] for r in by_order] == [["O-2026-000300"]]
    by_pack = renewals(api, subscription_pack=rm[0]["subscription_pack"])
    assert [r["product"] for r in by_pack] == ["RM"]
    by_assignee = renewals(api, assignee_email="GRACE@acme.example")
    assert [r["product"] for r in by_assignee] == ["ALL"]
    assert renewals(api, order_number="O-0000-000000") == []


def test_renewals_of_one_product_only_the_upgrade_page_lists(api):
    place(api.service, order_placed("O-2026-000310", lines=[{"product": "RM", "quantity": 2}]))
    by_product = renewals(api, product="rm")
    assert {r["product"] for r in by_product} == {"RM"}
    assert sum(r["quantity"] for r in by_product) == len(api.licenses(product="RM"))
    assert all(r["allowed_actions"] == ["renew", "upgrade"] for r in by_product)
    assert renewals(api, product="PC")[0]["product"] == "PC"
    assert renewals(api, product="NOPE") == []
    too_long = api.get(f"{ACME}/renewals", RESELLER, query_string={"product": "X" * 21})
    assert too_long.status_code == 422 and "product" in too_long.get_json()["errors"]


def test_renewals_group_per_product_pack_and_end_date_across_teams(api):
    pcs = [lic["license_id"] for lic in api.licenses(product="PC")]
    backend = api.post(f"{ACME}/teams", json={"name": "Backend"}).get_json()["team_id"]
    source = api.licenses(product="PC")[0]["team_id"]
    moved = api.post(
        f"{ACME}/teams/{source}/transfer", json={"license_ids": pcs[:1], "to_team_id": backend}
    )
    assert moved.status_code == 200
    [pc] = [r for r in renewals(api) if r["product"] == "PC"]
    assert sorted(pc["license_ids"]) == sorted(pcs)
    assert pc["team_id"] is None

    place(
        api.service,
        order_placed(
            lines=[
                {"product": "WS", "quantity": 1},
                {
                    "product": "WS",
                    "quantity": 2,
                    "end_date": (TODAY + dt.timedelta(days=500)).isoformat(),
                },
            ]
        ),
    )
    ws = [r for r in renewals(api) if r["product"] == "WS"]
    assert sorted(r["quantity"] for r in ws) == [1, 2]


def test_renewals_come_in_pages_that_add_up_to_the_whole(api):
    far = (TODAY + dt.timedelta(days=700)).isoformat()
    place(
        api.service,
        order_placed(
            "O-2026-000500",
            lines=[
                {"product": "WS", "quantity": 1},
                {"product": "RM", "quantity": 1},
                {"product": "RM", "quantity": 1, "end_date": far},
                {"product": "II", "quantity": 1, "end_date": far},
            ],
        ),
    )
    whole = api.get(f"{ACME}/renewals").get_json()
    assert whole["next_cursor"] is None and len(whole["items"]) == 7
    order = [(r["valid_until"], r["subscription_pack"], r["product"]) for r in whole["items"]]
    assert order == sorted(order)

    pages, cursor = [], None
    while True:
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        resp = api.get(f"{ACME}/renewals", query_string=query)
        assert resp.status_code == 200, resp.get_json()
        pages.append(resp.get_json()["items"])
        cursor = resp.get_json()["next_cursor"]
        if cursor is None:
            break
    assert [len(p) for p in pages] == [2, 2, 2, 1]
    assert [r for p in pages for r in p] == whole["items"]
    filtered = api.get(
        f"{ACME}/renewals", query_string={"limit": 1, "order_number": "O-2026-000500"}
    )
    assert len(filtered.get_json()["items"]) == 1 and filtered.get_json()["next_cursor"]
    assert api.get(f"{ACME}/renewals", query_string={"limit": 101}).status_code == 422
    assert api.get(f"{ACME}/renewals", query_string={"cursor": "nope!"}).status_code == 422


def test_the_renewals_search_accepts_limit_and_cursor_in_its_contract():
    from portal_contracts.api.licenses import RenewalSearchArgs

    args = RenewalSearchArgs().load({"limit": "10", "cursor": "abc", "po_number": "PO-1"})
    assert args["limit"] == 10 and args["cursor"] == "abc"


def other_resellers_order(api) -> None:
    payload = order_placed("O-2026-000400", lines=[{"product": "RM"}], po_number="PO-OTHER-1")
    payload["reseller_id"] = demo.OTHER_RESELLER_ID
    payload["buyer"] = dict(
        payload["buyer"],
        reseller_id=demo.OTHER_RESELLER_ID,
        name=demo.OTHER_RESELLER_NAME,
        email=demo.OTHER_RESELLER_USER,
        user_id="U-2",
    )
    place(api.service, payload)
    place(
        api.service, order_placed("O-2026-000401", lines=[{"product": "WS"}], po_number="PO-MINE")
    )


def shown_orders(api, identity) -> tuple[set, set, set]:
    """The order and PO numbers the renewals search shows, and those the packs list shows."""
    found = renewals(api, identity)
    packs = api.get(f"{ACME}/subscription-packs", identity).get_json()["items"]
    return (
        {o for r in found for o in r["order_numbers"]},
        {p for r in found for p in r["po_numbers"]},
        {o for p in packs for s in p["subscriptions"] for o in s["order_numbers"]},
    )


def test_a_reseller_sees_and_finds_only_the_orders_its_own_reseller_placed(api):
    other_resellers_order(api)
    orders, pos, in_packs = shown_orders(api, RESELLER)
    assert "O-2026-000400" not in orders | in_packs and "PO-OTHER-1" not in pos
    assert {"O-2026-000401"} <= orders and "PO-MINE" in pos and "O-2026-000401" in in_packs
    assert renewals(api, po_number="PO-OTHER-1") == []
    assert renewals(api, order_number="O-2026-000400") == []
    # The licenses themselves are the account's: they are still listed, without the order.
    [rm] = [r for r in renewals(api) if r["product"] == "RM"]
    assert rm["order_numbers"] == [] and rm["po_numbers"] == []

    orders, pos, in_packs = shown_orders(api, OTHER_RESELLER)
    assert "O-2026-000400" in orders and "PO-OTHER-1" in pos and "O-2026-000400" in in_packs
    assert "O-2026-000401" not in orders | in_packs and "PO-MINE" not in pos
    assert [r["product"] for r in renewals(api, OTHER_RESELLER, po_number="po-other-1")] == ["RM"]
    assert renewals(api, OTHER_RESELLER, order_number="O-2026-000401") == []


def test_the_customer_admin_sees_every_order_on_its_account(api):
    other_resellers_order(api)
    orders, pos, in_packs = shown_orders(api, ACME_ADMIN)
    assert {"O-2026-000400", "O-2026-000401"} <= orders & in_packs
    assert {"PO-OTHER-1", "PO-MINE"} <= pos
    assert [r["product"] for r in renewals(api, ACME_ADMIN, po_number="PO-OTHER-1")] == ["RM"]


def test_orders_of_no_known_reseller_are_shown_to_no_reseller(api):
    # Recorded before the placing reseller was kept: no reseller on record.
    place(api.service, order_placed("O-2026-000402", lines=[{"product": "WS"}], po_number="PO-OLD"))
    with api.service.uow() as uow:
        uow.session.execute(
            update(OrderRecord)
            .where(OrderRecord.order_number == "O-2026-000402")
            .values(reseller_id=None)
        )
        uow.commit()
    # Bought by the customer itself.
    own = order_placed("O-2026-000403", lines=[{"product": "RM"}], po_number="PO-OWN")
    own["reseller_id"] = None
    own["buyer"] = {
        "kind": "customer",
        "reseller_id": None,
        "customer_id": demo.ACME_ID,
        "name": "Alice Admin",
        "email": demo.ACME_ADMIN,
        "user_id": "CA-1",
    }
    place(api.service, own)

    orders, pos, in_packs = shown_orders(api, RESELLER)
    assert not {"O-2026-000402", "O-2026-000403"} & (orders | in_packs)
    assert not {"PO-OLD", "PO-OWN"} & pos
    assert renewals(api, po_number="PO-OLD") == renewals(api, po_number="PO-OWN") == []
    assert {"O-2026-000402", "O-2026-000403"} <= shown_orders(api, ACME_ADMIN)[0]


CART_QUOTE = service_identity("cart-quote")


def test_teams_and_packs_are_found_only_in_their_own_account(api):
    acme_team = api.get(f"/customers/{demo.ACME_ID}/teams").get_json()["items"][0]["team_id"]
    acme_pack = api.licenses()[0]["subscription_pack"]
    base = f"/internal/customers/{demo.ACME_ID}"
    assert api.get(f"{base}/teams/{acme_team}", CART_QUOTE).status_code == 200
    assert api.get(f"{base}/subscription-packs/{acme_pack}", CART_QUOTE).get_json() == {
        "number": acme_pack
    }
    assert api.get(f"{base}/teams/T-404", CART_QUOTE).status_code == 404
    assert api.get(f"{base}/subscription-packs/SP-404404", CART_QUOTE).status_code == 404
    globex = f"/internal/customers/{demo.GLOBEX_ID}"
    assert api.get(f"{globex}/teams/{acme_team}", CART_QUOTE).status_code == 404
    assert api.get(f"{globex}/subscription-packs/{acme_pack}", CART_QUOTE).status_code == 404
    assert api.get(f"{base}/teams/{acme_team}", None).status_code == 401
