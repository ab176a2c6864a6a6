"""Licenses from orders: issuance, duplicates, fallback, renewals, upgrades, downgrades,
cancellation and payment failure."""

from __future__ import annotations

import datetime as dt

import pytest
from license_assign_testkit import ACME, order_placed, person, pg_service, place, send
from sqlalchemy import select

from license_assign import accounts
from license_assign.jobs import enforce_grace_and_downgrades
from license_assign.models import SubscriptionPack
from portal_contracts import demo, example
from portal_runtime.testing import recorded
from portal_runtime.testkit import NOW, RESELLER, TODAY, customer_admin


def new_licenses(api, order_number: str) -> list[dict]:
    issued = [p for p in recorded(api.service, "licensing.licenses.issued")]
    return [lic for p in issued if p["order_number"] == order_number for lic in p["licenses"]]


def test_an_order_line_issues_one_license_per_seat_into_the_default_team_and_a_new_pack(api):
    before = len(api.licenses())
    place(api.service, order_placed(lines=[{"quantity": 3}]))

    issued = new_licenses(api, "O-2026-000100")
    assert len(issued) == 3
    assert len(api.licenses()) == before + 3
    packs = {lic["subscription_pack"] for lic in issued}
    assert len(packs) == 1 and packs.pop().startswith("SP-")
    default_team = next(t for t in api.get(f"{ACME}/teams").get_json()["items"] if t["is_default"])
    assert {lic["team_id"] for lic in issued} == {default_team["team_id"]}
    one = api.license(issued[0]["license_id"])
    assert one["status"] == "available"
    assert one["valid_from"] == TODAY.isoformat()
    assert one["valid_until"] == "2027-11-22"


def drawing_first(monkeypatch, taken: list[str]) -> None:
    """License ids are drawn as ``taken`` first, then at random as usual."""
    draw = accounts.new_license_id
    queue = list(taken)
    monkeypatch.setattr(accounts, "new_license_id", lambda: queue.pop(0) if queue else draw())


def seats_of(api, identity, customer: str) -> dict[str, dict]:
    """Every license of the account, each as its own page shows it."""
    return {
        lic["license_id"]: api.get(
            f"/customers/{customer}/licenses/{lic['license_id']}", identity
        ).get_json()
        for lic in api.licenses(identity, customer)
    }


def assert_seats_got_their_own_ids(api, before: dict, order_number: str, seats: int, *who):
    ids = [lic["license_id"] for lic in new_licenses(api, order_number)]
    assert len(ids) == seats and len(set(ids)) == seats
    after = seats_of(api, *who)
    assert set(after) == set(before) | set(ids) and not set(ids) & set(before)
    # The seats whose ids were drawn again are still their holders', untouched.
    assert {lid: after[lid] for lid in before} == before


def test_a_drawn_license_id_that_is_taken_already_is_drawn_again(api):
    who = (RESELLER, demo.ACME_ID)
    before = seats_of(api, *who)
    taken = list(before)[:2]
    with pytest.MonkeyPatch.context() as patch:
        drawing_first(patch, [*taken, *taken])  # taken again on the second draw
        place(api.service, order_placed(lines=[{"quantity": 3}]))

    assert_seats_got_their_own_ids(api, before, "O-2026-000100", 3, *who)


@pytest.mark.integration
def test_on_postgresql_a_taken_license_id_is_drawn_again(clock):
    customer = "C-200003"
    who = (customer_admin(customer), customer)
    with pg_service(clock, customer, seats=2) as api, pytest.MonkeyPatch.context() as patch:
        before = seats_of(api, *who)
        drawing_first(patch, list(before))
        place(
            api.service, order_placed("O-2026-000101", customer=customer, lines=[{"quantity": 2}])
        )

        assert_seats_got_their_own_ids(api, before, "O-2026-000101", 2, *who)


@pytest.mark.integration
def test_on_postgresql_a_new_pack_is_numbered_from_its_row_and_takes_later_orders(clock):
    customer = "C-200004"
    with pg_service(clock, customer, seats=1) as api:
        first = new_licenses(api, "O-2026-000100")[0]["subscription_pack"]
        place(
            api.service,
            order_placed("O-2026-000101", customer=customer, lines=[{"subscription_pack": first}]),
        )
        place(api.service, order_placed("O-2026-000102", customer=customer))

        with api.service.sessions() as session:
            rows = session.execute(select(SubscriptionPack.number, SubscriptionPack.id)).all()
        packs = {number: pk for number, pk in rows}
        assert all(number == f"SP-{100000 + pk}" for number, pk in packs.items())
        into = [
            new_licenses(api, n)[0]["subscription_pack"] for n in ("O-2026-000101", "O-2026-000102")
        ]
        assert into[0] == first and into[1] != first and set(into) <= set(packs)
        held = api.licenses(customer_admin(customer), customer)
        assert {lic["subscription_pack"] for lic in held} == {first, into[1]}


def test_a_duplicate_delivery_issues_nothing_more(api):
    payload = order_placed(lines=[{"quantity": 2}, {"product": "WS", "quantity": 1}])
    assert place(api.service, payload, message_id="m-1") is True
    count = len(api.licenses())
    # The same message again (the inbox), and the same order under a new message id (the guard).
    assert place(api.service, payload, message_id="m-1") is False
    place(api.service, payload, message_id="m-2")

    assert len(api.licenses()) == count
    assert len(recorded(api.service, "licensing.licenses.issued")) == 2  # one per line


def test_lines_go_to_an_existing_pack_and_a_named_new_team(api):
    acme_pack = api.licenses(product="PC")[0]["subscription_pack"]
    place(
        api.service,
        order_placed(lines=[{"subscription_pack": acme_pack, "team_name": "Data Science"}]),
    )

    issued = new_licenses(api, "O-2026-000100")
    assert {lic["subscription_pack"] for lic in issued} == {acme_pack}
    teams = {t["team_id"]: t["name"] for t in api.get(f"{ACME}/teams").get_json()["items"]}
    assert {teams[lic["team_id"]] for lic in issued} == {"Data Science"}


def test_an_order_for_an_account_we_have_not_seen_creates_it(api):
    place(api.service, order_placed(customer="C-777777"))
    from portal_runtime.identity import service_identity

    resp = api.get("/internal/customers/C-777777", service_identity("orders"))
    assert resp.status_code == 200
    assert resp.get_json()["name"] == "New Customer Ltd"
    assert resp.get_json()["contacts"] == ["buyer@new.example"]


# -- perpetual fallback --------------------------------------------------------------------------


def test_twelve_paid_months_give_the_fallback_to_the_version_current_at_their_start(api):
    place(
        api.service,
        order_placed(lines=[{"start_date": "2026-09-01", "end_date": "2027-09-01"}]),
    )
    # 2026.2 was released on 2026-08-05 and 2026.3 only on 2026-11-12.
    assert {lic["fallback_version"] for lic in new_licenses(api, "O-2026-000100")} == {"2026.2"}


def test_under_a_year_gives_no_fallback(api):
    place(
        api.service,
        order_placed(
            lines=[{"end_date": "2027-06-30", "fallback_eligible": False, "amount": "300.00"}]
        ),
    )
    assert {lic["fallback_version"] for lic in new_licenses(api, "O-2026-000100")} == {None}


def test_a_co_termed_renewal_keeps_the_fallback_when_the_paid_run_reaches_a_year(api, clock):
    place(
        api.service,
        order_placed(
            "O-2026-000100",
            lines=[{"quantity": 1, "end_date": "2027-05-22", "fallback_eligible": False}],
        ),
    )
    lid = new_licenses(api, "O-2026-000100")[0]["license_id"]
    assert api.license(lid)["fallback_version"] is None
    renewal = {
        "kind": "renewal",
        "quantity": 1,
        "license_ids": [lid],
        "start_date": "2027-05-22",
        "end_date": "2027-12-31",
        "fallback_eligible": False,
    }
    place(api.service, order_placed("O-2026-000101", lines=[renewal]))
    assert api.license(lid)["fallback_version"] == "2026.3"


def test_a_downgrade_removes_the_fallback_for_that_year_and_changes_the_product_at_renewal(
    api, clock
):
    all_license = api.licenses(product="ALL", status="assigned")[0]
    assert all_license["fallback_version"] is not None
    old_end = dt.date.fromisoformat(all_license["valid_until"])
    new_end = dt.date(old_end.year + 1, old_end.month, old_end.day)
    downgrade = {
        "kind": "downgrade",
        "product": "PC",
        "quantity": 1,
        "license_ids": [all_license["license_id"]],
        "start_date": old_end.isoformat(),
        "end_date": new_end.isoformat(),
    }
    place(api.service, order_placed(lines=[downgrade]))

    now = api.license(all_license["license_id"])
    assert now["product"] == "ALL"  # until the current term ends
    assert now["pending_product"] == "PC"
    assert now["fallback_version"] is None
    assert now["valid_until"] == new_end.isoformat()

    clock.advance(days=(old_end - TODAY).days + 1)
    enforce_grace_and_downgrades(api.service)
    after = api.license(all_license["license_id"])
    assert after["product"] == "PC"
    assert after["fallback_version"] is None
    # The holder gets a code for the new product.
    codes = recorded(api.service, "licensing.license.assigned")
    assert codes and codes[-1]["product"] == "PC"


# -- renewals and upgrades -----------------------------------------------------------------------


def test_a_renewal_extends_the_same_licenses_and_gives_the_holder_a_new_code(api):
    held = api.licenses(product="PC", status="assigned")[0]
    free = api.licenses(product="PC", status="available")
    old_code = api.get(f"{ACME}/licenses/{held['license_id']}/activation-code").get_json()[
        "activation_code"
    ]
    count = len(api.licenses())
    ids_ = [held["license_id"], free[0]["license_id"]]
    renewal = {
        "kind": "renewal",
        "quantity": 2,
        "license_ids": ids_,
        "start_date": held["valid_until"],
        "end_date": "2028-01-26",
    }
    place(api.service, order_placed(lines=[renewal], po_number="PO-9"))

    assert len(api.licenses()) == count  # no new licenses
    for lid in ids_:
        assert api.license(lid)["valid_until"] == "2028-01-26"
    issued = recorded(api.service, "licensing.licenses.issued")[-1]
    assert issued["kind"] == "renewal"
    assert sorted(lic["license_id"] for lic in issued["licenses"]) == sorted(ids_)
    renewed = [
        e for e in recorded(api.service, "licensing.license.assigned") if e["reason"] == "renewed"
    ]
    assert [e["license_id"] for e in renewed] == [held["license_id"]]
    new_code = api.get(f"{ACME}/licenses/{held['license_id']}/activation-code").get_json()
    assert new_code["activation_code"] == renewed[0]["activation_code"] != old_code
    in_issued = {lic["license_id"]: lic["activation_code"] for lic in issued["licenses"]}
    assert in_issued[held["license_id"]] == new_code["activation_code"]
    assert new_code["valid_until"] == "2028-01-26"


def test_an_upgrade_keeps_the_ids_and_makes_them_all_products(api):
    pcs = api.licenses(product="PC")
    upgrade = {
        "kind": "upgrade",
        "product": "ALL",
        "quantity": len(pcs),
        "license_ids": [lic["license_id"] for lic in pcs],
        "start_date": TODAY.isoformat(),
        "end_date": pcs[0]["valid_until"],
    }
    place(api.service, order_placed(lines=[upgrade]))
    for lic in pcs:
        after = api.license(lic["license_id"])
        assert after["product"] == "ALL"
        assert after["valid_until"] == lic["valid_until"]


# -- cancellation and payment --------------------------------------------------------------------


def test_cancelling_an_order_revokes_and_removes_its_licenses(api):
    place(api.service, order_placed(lines=[{"quantity": 2}]))
    issued = new_licenses(api, "O-2026-000100")
    resp = api.post(
        f"{ACME}/assignments",
        json={"license_id": issued[0]["license_id"], "assignee": person(1)},
    )
    assert resp.status_code == 200
    cancelled = dict(
        example("orders.order.cancelled"),
        order_number="O-2026-000100",
        license_ids=[lic["license_id"] for lic in issued],
    )
    cancelled["customer"] = {"id": demo.ACME_ID, "name": demo.ACME_NAME, "email": None}
    send(api.service, "orders.order.cancelled", cancelled)

    remaining = {lic["license_id"] for lic in api.licenses()}
    assert not remaining & {lic["license_id"] for lic in issued}
    revoked = recorded(api.service, "licensing.license.revoked")
    assert [(r["license_id"], r["reason"]) for r in revoked] == [
        (issued[0]["license_id"], "order_cancelled")
    ]


def test_a_failed_payment_suspends_after_grace_and_payment_reinstates(api, clock):
    place(api.service, order_placed(lines=[{"quantity": 1}]))
    lid = new_licenses(api, "O-2026-000100")[0]["license_id"]
    failed = dict(
        example("billing.payment.failed"),
        order_number="O-2026-000100",
        grace_until=(TODAY + dt.timedelta(days=7)).isoformat(),
    )
    send(api.service, "billing.payment.failed", failed)
    assert api.license(lid)["status"] == "available"  # still usable during grace
    assert api.license(lid)["grace_until"] == (TODAY + dt.timedelta(days=7)).isoformat()

    clock.advance(days=7)
    enforce_grace_and_downgrades(api.service)
    assert api.license(lid)["status"] == "available"
    clock.advance(days=1)
    enforce_grace_and_downgrades(api.service)
    assert api.license(lid)["status"] == "suspended"

    captured = dict(example("billing.payment.captured"), order_number="O-2026-000100")
    send(api.service, "billing.payment.captured", captured)
    assert api.license(lid)["status"] == "available"
    assert api.license(lid)["grace_until"] is None


def test_a_payment_failure_seen_before_its_order_still_suspends_after_grace(api, clock):
    grace = TODAY + dt.timedelta(days=7)
    failed = dict(
        example("billing.payment.failed"),
        order_number="O-2026-000100",
        grace_until=grace.isoformat(),
    )
    send(api.service, "billing.payment.failed", failed)
    place(api.service, order_placed(lines=[{"quantity": 2}]))
    issued = new_licenses(api, "O-2026-000100")
    assert [api.license(lic["license_id"])["grace_until"] for lic in issued] == [
        grace.isoformat()
    ] * 2

    clock.advance(days=8)
    enforce_grace_and_downgrades(api.service)
    assert {api.license(lic["license_id"])["status"] for lic in issued} == {"suspended"}


def test_a_payment_captured_before_its_order_arrives_leaves_the_licenses_in_good_standing(api):
    failed = dict(example("billing.payment.failed"), order_number="O-2026-000100")
    send(api.service, "billing.payment.failed", failed)
    captured = dict(example("billing.payment.captured"), order_number="O-2026-000100")
    send(api.service, "billing.payment.captured", captured)
    place(api.service, order_placed(lines=[{"quantity": 1}]))
    lid = new_licenses(api, "O-2026-000100")[0]["license_id"]
    assert api.license(lid)["grace_until"] is None
    assert api.license(lid)["status"] == "available"


def test_every_consumed_example_is_accepted(api):
    for event_type in api.service.handlers:
        assert send(api.service, event_type, example(event_type)) is True
    assert len(new_licenses(api, example("orders.order.placed")["order_number"])) == 2


def test_seed_is_idempotent(api):
    from license_assign.seed import seed

    before = api.licenses()
    outbox = recorded(api.service)
    seed(api.service)
    assert api.licenses() == before
    assert recorded(api.service) == outbox
    assert NOW.tzinfo is not None


def test_a_line_of_thousands_of_seats_issues_each_seat_once_with_its_own_id_and_order_link(api):
    place(api.service, order_placed(lines=[{"quantity": 2500}], po_number="PO-BIG"))

    issued = new_licenses(api, "O-2026-000100")
    ids = [lic["license_id"] for lic in issued]
    assert len(ids) == 2500 and len(set(ids)) == 2500
    assert {lic["status"] for lic in issued} == {"available"}
    assert len({lic["subscription_pack"] for lic in issued}) == 1
    # Every seat is found again by its order and its PO number, as one renewal group.
    renewals = api.get(f"{ACME}/renewals", query_string={"po_number": "PO-BIG"}).get_json()
    assert [g["quantity"] for g in renewals["items"]] == [2500]
    assert sorted(renewals["items"][0]["license_ids"]) == sorted(ids)
    assert renewals["items"][0]["order_numbers"] == ["O-2026-000100"]
    one = api.license(ids[-1])
    assert one["fallback_version"] == issued[-1]["fallback_version"]
