"""Entering a customer (all four ways), grants, managed accounts and the entry rate limits."""

import statistics
import time

from gateway_testkit import (
    ACME_ADMIN,
    BILLING_ONLY,
    DEMO,
    OTHER,
    SALES_ONLY,
    all_services,
    make_gateway,
)

from gateway.models import AccessGrant
from portal_contracts import demo

ACME, GLOBEX = demo.ACME_ID, demo.GLOBEX_ID


def enter(gw, who, **body):
    return gw.call("POST", "/customer-access", who, json=body)


def licenses(gw, who, customer_id):
    return gw.call("GET", f"/customers/{customer_id}/licenses", who)


def test_entering_by_customer_id_and_an_account_email_grants_access_for_8_hours(
    gw, upstream, clock
):
    assert licenses(gw, DEMO, ACME).status_code == 404
    resp = enter(gw, DEMO, by="customer_id", value=ACME, email="IT@acme.example")
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["customer_id"] == ACME and body["name"] == demo.ACME_NAME
    assert body["expires_at"].startswith("2026-03-02T17:00:00")
    resp = licenses(gw, DEMO, ACME)
    assert resp.status_code == 200
    identity = upstream.last()["identity"]
    assert identity.customer_scope == ACME
    assert identity.reseller_id == demo.DEMO_RESELLER_ID
    # Another user of the same reseller shares the grant; another reseller does not.
    assert licenses(gw, SALES_ONLY, ACME).status_code == 200
    assert licenses(gw, OTHER, ACME).status_code == 404
    clock.advance(hours=8, seconds=1)
    assert licenses(gw, DEMO, ACME).status_code == 404


def test_the_grant_is_recorded_with_who_when_and_how(gw, clock):
    enter(gw, SALES_ONLY, by="subscription_pack", value="SP-1001", email=demo.ACME_ADMIN)
    with gw.service.sessions() as session:
        grant = session.query(AccessGrant).one()
    assert grant.reseller_id == demo.DEMO_RESELLER_ID
    assert grant.customer_id == ACME
    assert grant.method == "subscription_pack"
    assert grant.reference == "SP-1001"
    assert grant.created_at == clock.now()
    assert grant.user_id.startswith("U-")


def test_entering_by_email_lists_every_account_of_that_email_without_a_grant(gw):
    resp = enter(gw, DEMO, by="email", value="shared@example.com")
    assert resp.status_code == 200
    accounts = resp.get_json()["accounts"]
    assert sorted(a["customer_id"] for a in accounts) == [GLOBEX, "C-100003"]
    assert licenses(gw, DEMO, "C-100003").status_code == 404
    enter(gw, DEMO, by="customer_id", value="C-100003", email="shared@example.com")
    assert licenses(gw, DEMO, "C-100003").status_code == 200


def test_entering_by_a_direct_quote_makes_it_the_resellers(gw, upstream):
    resp = enter(gw, DEMO, by="quote", value="Q-2026-000042", email=demo.ACME_CONTACT)
    assert resp.status_code == 200
    body = resp.get_json()
    assert body["customer_id"] == ACME
    assert body["quote_number"] == "Q-2026-000042"
    assert upstream.claimed[-1]["reseller_id"] == demo.DEMO_RESELLER_ID
    assert upstream.claimed[-1]["reseller_name"] == demo.DEMO_RESELLER_NAME
    assert licenses(gw, DEMO, ACME).status_code == 200


def test_every_failed_entry_answers_exactly_the_same(gw):
    failures = [
        {"by": "customer_id", "value": "C-999999", "email": demo.ACME_CONTACT},
        {"by": "customer_id", "value": ACME, "email": "wrong@acme.example"},
        {"by": "customer_id", "value": ACME, "email": demo.GLOBEX_CONTACT},
        {"by": "subscription_pack", "value": "SP-0000", "email": demo.ACME_CONTACT},
        {"by": "quote", "value": "Q-2026-000042", "email": "someone@else.example"},
        {"by": "quote", "value": "Q-0000", "email": demo.ACME_CONTACT},
        {"by": "email", "value": "nobody@nowhere.example"},
    ]
    answers = [enter(gw, DEMO, **body) for body in failures]
    assert {a.status_code for a in answers} == {404}
    assert len({a.get_data() for a in answers}) == 1
    with gw.service.sessions() as session:
        assert session.query(AccessGrant).count() == 0


def test_an_email_is_required_except_by_email_and_for_a_managed_accounts_id(gw):
    resp = enter(gw, DEMO, by="subscription_pack", value="SP-1001")
    assert resp.status_code == 422
    assert "email" in resp.get_json()["errors"]
    # By customer ID alone only a managed account opens; any other is the one failure.
    assert enter(gw, DEMO, by="customer_id", value=ACME).status_code == 404
    assert enter(gw, DEMO, by="phone", value="1", email="a@b.example").status_code == 422


def test_failed_entries_are_limited_per_reseller(gw):
    for i in range(10):
        assert (
            enter(gw, DEMO, by="customer_id", value=f"C-9{i:05d}", email="x@y.example").status_code
            == 404
        )
    resp = enter(gw, DEMO, by="customer_id", value=ACME, email=demo.ACME_CONTACT)
    assert resp.status_code == 429
    assert int(resp.headers["Retry-After"]) > 0
    # Other resellers are not held up.
    assert (
        enter(gw, OTHER, by="customer_id", value=ACME, email=demo.ACME_CONTACT).status_code == 200
    )


def test_failed_entries_are_limited_per_reseller_and_customer_id(tmp_path, clock, upstream):
    gw = make_gateway(tmp_path, clock, all_services(upstream.url), entry_failures_per_target=3)
    for _ in range(3):
        assert (
            enter(gw, DEMO, by="customer_id", value=ACME, email="guess@x.example").status_code
            == 404
        )
    resp = enter(gw, DEMO, by="customer_id", value=ACME, email=demo.ACME_CONTACT)
    assert resp.status_code == 429
    assert "Retry-After" in resp.headers
    # One reseller's failures never keep another out of the same customer.
    assert (
        enter(gw, OTHER, by="customer_id", value=ACME, email=demo.ACME_CONTACT).status_code == 200
    )
    clock.advance(minutes=16)
    assert enter(gw, DEMO, by="customer_id", value=ACME, email=demo.ACME_CONTACT).status_code == 200


def test_a_managed_account_needs_no_grant(gw):
    assert licenses(gw, DEMO, GLOBEX).status_code == 200
    assert licenses(gw, OTHER, GLOBEX).status_code == 404


def test_the_customer_list_has_managed_and_recently_entered_accounts(gw, clock):
    enter(gw, DEMO, by="customer_id", value=ACME, email=demo.ACME_CONTACT)
    items = gw.call("GET", "/customers", DEMO).get_json()["items"]
    by_id = {i["customer_id"]: i for i in items}
    assert by_id[GLOBEX]["managed"] is True
    assert by_id[ACME]["managed"] is False
    assert by_id[ACME]["access_expires_at"].startswith("2026-03-02T17:00")
    clock.advance(hours=9)
    items = gw.call("GET", "/customers", DEMO).get_json()["items"]
    acme = next(i for i in items if i["customer_id"] == ACME)
    assert acme["access_expires_at"] is None and acme["last_entered_at"]
    assert [i["customer_id"] for i in gw.call("GET", "/customers", OTHER).get_json()["items"]] == []


def test_a_customer_admin_reaches_only_its_own_account_and_cannot_enter_others(gw):
    assert licenses(gw, ACME_ADMIN, ACME).status_code == 200
    assert licenses(gw, ACME_ADMIN, GLOBEX).status_code == 404
    resp = enter(gw, ACME_ADMIN, by="customer_id", value=GLOBEX, email=demo.GLOBEX_CONTACT)
    assert resp.status_code == 403
    assert gw.call("GET", "/customers", ACME_ADMIN).status_code == 403


def test_billing_users_do_not_enter_customers(gw):
    resp = enter(gw, BILLING_ONLY, by="customer_id", value=ACME, email=demo.ACME_CONTACT)
    assert resp.status_code == 403


def test_a_foreign_customer_is_indistinguishable_from_a_missing_one(gw):
    foreign = licenses(gw, OTHER, GLOBEX)
    missing = licenses(gw, OTHER, "C-404404")
    assert foreign.status_code == missing.status_code == 404
    assert foreign.get_json() == missing.get_json()


def test_the_customer_list_is_paged(gw):
    for customer_id, email in ((ACME, demo.ACME_CONTACT), ("C-100003", "it@initech.example")):
        enter(gw, DEMO, by="customer_id", value=customer_id, email=email)
    first = gw.call("GET", "/customers?limit=2", DEMO).get_json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = gw.call("GET", f"/customers?limit=2&cursor={first['next_cursor']}", DEMO).get_json()
    assert len(rest["items"]) == 1 and rest["next_cursor"] is None
    seen = [i["customer_id"] for i in first["items"] + rest["items"]]
    assert sorted(seen) == sorted([ACME, GLOBEX, "C-100003"])
    assert gw.call("GET", "/customers?cursor=nonsense", DEMO).status_code == 422


def test_one_customer_answers_its_name_only_to_those_who_may_act_on_it(gw):
    assert gw.call("GET", f"/customers/{ACME}", DEMO).status_code == 404
    enter(gw, DEMO, by="customer_id", value=ACME, email=demo.ACME_CONTACT)
    resp = gw.call("GET", f"/customers/{ACME}", DEMO)
    assert resp.status_code == 200
    assert resp.get_json() == {"customer_id": ACME, "name": demo.ACME_NAME, "managed": False}
    assert gw.call("GET", f"/customers/{GLOBEX}", DEMO).get_json()["managed"] is True
    assert gw.call("GET", f"/customers/{ACME}", OTHER).status_code == 404
    assert gw.call("GET", f"/customers/{ACME}", ACME_ADMIN).get_json()["name"] == demo.ACME_NAME
    assert gw.call("GET", "/customers/C-999999", DEMO).status_code == 404


def test_probing_customer_ids_is_limited_like_entry_and_answers_alike_for_real_and_missing(gw):
    """C-100003 exists but DEMO may not see it; C-9xxxxx do not exist: nobody can tell."""

    def probe(customer_id):
        started = time.perf_counter()
        resp = licenses(gw, DEMO, customer_id)
        return resp, time.perf_counter() - started

    answers, times = {"real": [], "missing": []}, {"real": [], "missing": []}
    for i in range(5):
        for kind, customer_id in (("real", "C-100003"), ("missing", f"C-9{i:05d}")):
            resp, took = probe(customer_id)
            answers[kind].append((resp.status_code, resp.get_json()))
            times[kind].append(took)
    assert answers["real"] == answers["missing"]
    assert {status for status, _ in answers["real"]} == {404}
    # Both ask license-assign once: the same work, so about the same time.
    real, missing = statistics.median(times["real"]), statistics.median(times["missing"])
    assert abs(real - missing) < 0.1, (real, missing)
    # Ten failures in the window, as for entering customers: now both are held off alike.
    limited = [licenses(gw, DEMO, customer_id) for customer_id in ("C-100003", "C-999999")]
    assert [r.status_code for r in limited] == [429, 429]
    assert limited[0].get_json() == limited[1].get_json()
    assert "Retry-After" in limited[0].headers
    # Customers it may act on still answer, and failed entries share the same count.
    assert licenses(gw, DEMO, GLOBEX).status_code == 200
    assert enter(gw, DEMO, by="customer_id", value=ACME, email=demo.ACME_CONTACT).status_code == 429
    # Another reseller is not held up.
    assert licenses(gw, OTHER, "C-100003").status_code == 404
