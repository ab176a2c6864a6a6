"""The grouped lists of a big account paged with keyset cursors, and the streamed report: every
group once across pages, also while people are assigned and revoked between pages."""

from __future__ import annotations

import csv
import io

from license_assign_testkit import ACME, order_placed, person, place

from license_assign.queries.lists import REPORT_BATCH


def all_pages(api, path: str, limit: int, between=None, **query) -> list[dict]:
    items, cursor, pages = [], None, 0
    while True:
        args = dict(query, limit=limit, **({"cursor": cursor} if cursor else {}))
        resp = api.get(path, query_string=args)
        assert resp.status_code == 200, resp.get_json()
        body = resp.get_json()
        assert len(body["items"]) <= limit
        items += body["items"]
        cursor, pages = body["next_cursor"], pages + 1
        if not cursor:
            return items
        if between:
            between(pages)


def assign(api, people: list[dict], product: str = "PC") -> None:
    resp = api.post(f"{ACME}/assignments", json={"product": product, "assignees": people})
    assert resp.status_code == 200 and not resp.get_json()["failed"], resp.get_json()


def test_people_page_by_email_with_no_one_twice_or_missed_while_others_join(api):
    place(api.service, order_placed("O-2026-000400", lines=[{"quantity": 60}]))
    assign(api, [person(f"{n:03d}") for n in range(40)])
    before = {u["email"] for u in all_pages(api, f"{ACME}/users", 100)}

    late = iter(range(100, 110))

    def join(_page):
        # Someone sorted before the cursor and someone after join between pages.
        n = next(late)
        assign(api, [person(f"{n:03d}"), {**person(n), "email": f"zz{n}@acme.example"}])

    seen = [u["email"] for u in all_pages(api, f"{ACME}/users", 7, between=join)]
    assert len(seen) == len(set(seen))  # nobody twice
    assert before <= set(seen)  # nobody who was there all along is missed
    assert seen == sorted(seen)
    assert {f"zz{n}@acme.example" for n in range(100, 105)} <= set(seen)
    one = next(
        u for u in all_pages(api, f"{ACME}/users", 100) if u["email"] == "user000@acme.example"
    )
    assert [lic["product"] for lic in one["licenses"]] == ["PC"]


def test_packs_page_by_number_each_with_all_its_subscriptions(api):
    for n in range(12):
        place(api.service, order_placed(f"O-2026-0005{n:02d}", lines=[{"quantity": 2}]))
    whole = all_pages(api, f"{ACME}/subscription-packs", 100)
    paged = all_pages(api, f"{ACME}/subscription-packs", 5)
    assert paged == whole
    assert [p["number"] for p in whole] == sorted(p["number"] for p in whole)
    counts = {p["number"]: sum(s["quantity"] for s in p["subscriptions"]) for p in whole}
    licenses = all_pages(api, f"{ACME}/licenses", 100)
    for number, count in counts.items():
        assert count == sum(1 for lic in licenses if lic["subscription_pack"] == number)
    new = [p for p in whole if p["subscriptions"][0]["order_numbers"][:1] == ["O-2026-000500"]]
    assert len(new) == 1 and new[0]["subscriptions"][0]["quantity"] == 2


def test_renewals_page_by_end_date_pack_and_product_without_repeats(api):
    for n in range(9):
        place(
            api.service,
            order_placed(
                f"O-2026-0006{n:02d}",
                lines=[{"quantity": 1, "end_date": f"2027-0{1 + n % 9}-15"}, {"product": "WS"}],
            ),
        )
    whole = all_pages(api, f"{ACME}/renewals", 100)
    paged = all_pages(api, f"{ACME}/renewals", 4)
    assert paged == whole
    keys = [(g["valid_until"], g["subscription_pack"], g["product"]) for g in whole]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert sum(g["quantity"] for g in whole) == len(all_pages(api, f"{ACME}/licenses", 100))
    bad = api.get(f"{ACME}/renewals", query_string={"cursor": "bm90LWEta2V5"})
    assert bad.status_code == 422


def test_the_report_streams_every_license_once_across_its_chunks(api):
    place(api.service, order_placed("O-2026-000700", lines=[{"quantity": REPORT_BATCH + 50}]))
    assign(api, [{**person(1), "first_name": "=SUM(A1)"}])
    resp = api.get(f"{ACME}/licensing-report")
    assert resp.status_code == 200 and resp.is_streamed
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    licenses = all_pages(api, f"{ACME}/licenses", 100)
    assert sorted(r["license_id"] for r in rows) == sorted(lic["license_id"] for lic in licenses)
    held = next(r for r in rows if r["assignee_email"] == "user1@acme.example")
    assert held["assignee_first_name"] == "'=SUM(A1)"  # never a formula in a spreadsheet
    assert held["status"] == "assigned"
