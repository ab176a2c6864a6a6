"""The licenses API as resellers and customer admins use it: assign, revoke, teams, packs,
report, activation codes and account scope."""

from __future__ import annotations

import csv
import io
import subprocess
import sys

from license_assign_testkit import ACME, GLOBEX_RESELLER, order_placed, person, place

from license_assign.offline_verifier import InvalidCode, verify
from portal_contracts import demo
from portal_runtime.testing import recorded
from portal_runtime.testkit import ACME_ADMIN, RESELLER, reseller


def add_pc_seats(api, quantity: int, number: str = "O-2026-000200") -> None:
    place(api.service, order_placed(number, lines=[{"quantity": quantity}]))


# -- direct and bulk assignment ------------------------------------------------------------------


def test_assigning_one_license_directly_emails_the_person_a_signed_code(api):
    free = api.licenses(product="PC", status="available")[0]
    resp = api.post(
        f"{ACME}/assignments", json={"license_id": free["license_id"], "assignee": person(1)}
    )
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["assigned"][0]["assignee"]["email"] == "user1@acme.example"
    assert api.license(free["license_id"])["status"] == "assigned"

    sent = recorded(api.service, "licensing.license.assigned")[-1]
    assert sent["assignee"]["email"] == "user1@acme.example"
    assert sent["reason"] == "assigned"
    payload = api.service.codes.verify(sent["activation_code"])
    assert payload["license_id"] == free["license_id"]
    assert payload["licensee"]["email"] == "user1@acme.example"

    again = api.post(
        f"{ACME}/assignments", json={"license_id": free["license_id"], "assignee": person(2)}
    )
    assert again.status_code == 409  # never assigned twice


def test_bulk_assignment_assigns_while_seats_last_and_reports_the_rest(api):
    free = len(api.licenses(product="PC", status="available"))
    people = [person(n) for n in range(free + 1)]
    resp = api.post(f"{ACME}/assignments", json={"product": "PC", "assignees": people})
    body = resp.get_json()
    assert resp.status_code == 200
    assert len(body["assigned"]) == free
    assert [f["row"] for f in body["failed"]] == [free + 1]
    assert "No free PC license" in body["failed"][0]["reason"]
    assert api.licenses(product="PC", status="available") == []


def test_csv_upload_assigns_good_rows_and_reports_bad_rows_by_number(api):
    add_pc_seats(api, 3)
    body = (
        "first_name,last_name,email\n"
        "Ann,Able,ann@acme.example\n"
        "Bob,,bob@acme.example\n"
        "Cid,Cole,not-an-email\n"
        "Dee,Dunn,DEE@acme.example\n"
    )
    resp = api.post(
        f"{ACME}/assignments",
        data=body.encode(),
        content_type="text/csv",
        query_string={"product": "PC"},
    )
    result = resp.get_json()
    assert resp.status_code == 200, result
    assert sorted(a["assignee"]["email"] for a in result["assigned"]) == [
        "ann@acme.example",
        "dee@acme.example",
    ]
    assert [(f["row"], f["email"]) for f in result["failed"]] == [
        (2, "bob@acme.example"),
        (3, "not-an-email"),
    ]
    assert "last_name" in result["failed"][0]["reason"]
    assert "email" in result["failed"][1]["reason"]


def test_a_csv_without_the_header_is_rejected(api):
    resp = api.post(
        f"{ACME}/assignments",
        data=b"Ann,Able,ann@acme.example\n",
        content_type="text/csv",
        query_string={"product": "PC"},
    )
    assert resp.status_code == 422


def test_a_csv_field_over_the_size_limit_is_a_422_naming_its_row(api):
    add_pc_seats(api, 2)
    huge = "x" * (csv.field_size_limit() + 1)
    body = f"first_name,last_name,email\nAnn,Able,ann@acme.example\nBob,{huge},bob@acme.example\n"
    resp = api.post(
        f"{ACME}/assignments",
        data=body.encode(),
        content_type="text/csv",
        query_string={"product": "PC"},
    )
    assert resp.status_code == 422, resp.get_data(as_text=True)[:300]
    assert resp.mimetype == "application/problem+json"
    assert "Row 2" in " ".join(resp.get_json()["errors"]["_body"])
    # Nothing of the upload was applied, not even its good first row.
    assert api.licenses(assignee_email="ann@acme.example") == []


def test_unknown_fields_in_an_assignment_are_rejected(api):
    resp = api.post(
        f"{ACME}/assignments",
        json={"product": "PC", "assignees": [person(1)], "status": "assigned"},
    )
    assert resp.status_code == 422
    assert "status" in resp.get_json()["errors"]


def test_a_csv_without_a_product_is_rejected_naming_product(api):
    resp = api.post(
        f"{ACME}/assignments",
        data=b"first_name,last_name,email\nAnn,Able,ann@acme.example\n",
        content_type="text/csv",
    )
    assert resp.status_code == 422
    assert "product" in resp.get_json()["errors"]
    assert api.licenses(assignee_email="ann@acme.example") == []


def test_assigning_a_product_the_account_holds_no_licenses_of_is_rejected(api):
    bulk = api.post(f"{ACME}/assignments", json={"product": "NOPE", "assignees": [person(1)]})
    assert bulk.status_code == 422
    assert "No such product in this account" in " ".join(bulk.get_json()["errors"]["product"])
    # RubyMine is a real product, but Acme holds no RM licenses.
    upload = api.post(
        f"{ACME}/assignments",
        data=b"first_name,last_name,email\nAnn,Able,ann@acme.example\n",
        content_type="text/csv",
        query_string={"product": "RM"},
    )
    assert upload.status_code == 422
    assert "product" in upload.get_json()["errors"]
    # A product it holds only expired licenses of is known: the row fails for want of a seat.
    expired = api.post(f"{ACME}/assignments", json={"product": "ii", "assignees": [person(2)]})
    assert expired.status_code == 200
    assert "No free II license" in expired.get_json()["failed"][0]["reason"]


# -- active users, revocation --------------------------------------------------------------------


def test_revoking_frees_the_license_at_once_and_it_can_be_reassigned(api):
    held = api.licenses(product="PC", status="assigned")[0]
    users = api.get(f"{ACME}/users").get_json()["items"]
    assert "ada@acme.example" in {u["email"] for u in users}

    resp = api.post(f"{ACME}/licenses/{held['license_id']}/revoke")
    assert resp.status_code == 200
    assert resp.get_json()["status"] == "available"
    revoked = recorded(api.service, "licensing.license.revoked")[-1]
    assert revoked["former_assignee"]["email"] == "ada@acme.example"
    assert revoked["reason"] == "revoked"
    users = api.get(f"{ACME}/users").get_json()["items"]
    assert "ada@acme.example" not in {u["email"] for u in users}
    assert api.get(f"{ACME}/licenses/{held['license_id']}/activation-code").status_code == 409

    again = api.post(
        f"{ACME}/assignments", json={"license_id": held["license_id"], "assignee": person(7)}
    )
    assert again.status_code == 200
    assert api.license(held["license_id"])["assignee"]["email"] == "user7@acme.example"
    assert api.post(f"{ACME}/licenses/L-NOPE0000/revoke").status_code == 404


def test_the_monthly_revocation_cap_answers_409_past_the_cap(api):
    api.service.config.monthly_revocation_cap = 1
    held = api.licenses(status="assigned")
    assert api.post(f"{ACME}/licenses/{held[0]['license_id']}/revoke").status_code == 200
    resp = api.post(f"{ACME}/licenses/{held[1]['license_id']}/revoke")
    assert resp.status_code == 409
    assert api.license(held[1]["license_id"])["status"] == "assigned"


def test_the_revocation_limit_says_the_cap_and_how_much_of_it_this_month_used(api):
    limit = f"{ACME}/revocation-limit"
    assert api.get(limit).get_json() == {"monthly_limit": None, "revoked_this_month": 0}
    api.service.config.monthly_revocation_cap = 2
    held = api.licenses(status="assigned")
    assert api.post(f"{ACME}/licenses/{held[0]['license_id']}/revoke").status_code == 200
    assert api.get(limit).get_json() == {"monthly_limit": 2, "revoked_this_month": 1}
    assert api.get(f"/customers/{demo.GLOBEX_ID}/revocation-limit", ACME_ADMIN).status_code == 404


# -- teams and packs -----------------------------------------------------------------------------


def test_licenses_move_between_teams(api):
    created = api.post(f"{ACME}/teams", json={"name": "Backend"})
    assert created.status_code == 201
    backend = created.get_json()["team_id"]
    assert api.post(f"{ACME}/teams", json={"name": "backend"}).status_code == 409
    pcs = api.licenses(product="PC")
    source = pcs[0]["team_id"]
    moved = [pcs[0]["license_id"], pcs[1]["license_id"]]

    resp = api.post(
        f"{ACME}/teams/{source}/transfer", json={"license_ids": moved, "to_team_id": backend}
    )
    assert resp.status_code == 200, resp.get_json()
    assert {lic["license_id"] for lic in api.licenses(team_id=backend)} == set(moved)
    teams = {t["team_id"]: t for t in api.get(f"{ACME}/teams").get_json()["items"]}
    assert teams[backend]["license_count"] == 2

    wrong = api.post(
        f"{ACME}/teams/{source}/transfer", json={"license_ids": moved, "to_team_id": backend}
    )
    assert wrong.status_code == 422  # they are no longer in the source team


def test_subscription_packs_list_their_subscriptions_and_common_end_date(api):
    pack = api.licenses(product="PC")[0]["subscription_pack"]
    place(
        api.service,
        order_placed(
            lines=[{"product": "WS", "quantity": 2, "subscription_pack": pack}],
        ),
    )
    items = api.get(f"{ACME}/subscription-packs").get_json()["items"]
    mine = next(p for p in items if p["number"] == pack)
    products = sorted((s["product"], s["quantity"]) for s in mine["subscriptions"])
    assert products == [("ALL", 2), ("II", 1), ("PC", 3), ("WS", 2)]
    assert mine["common_end_date"] is None  # these were bought at different times
    assert mine["latest_end_date"] == "2027-11-22"


# -- licensing report and scope ------------------------------------------------------------------


def test_the_licensing_report_is_a_csv_of_every_license(api):
    resp = api.get(f"{ACME}/licensing-report")
    assert resp.status_code == 200
    assert resp.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    assert len(rows) == len(api.licenses())
    ada = next(r for r in rows if r["assignee_email"] == "ada@acme.example")
    assert ada["product"] == "PC" and ada["status"] == "assigned"
    assert ada["subscription_pack"].startswith("SP-") and ada["team"] == "Default team"
    assert {"valid_from", "valid_until", "fallback_version"} <= set(ada)


def test_a_managing_reseller_pulls_the_report_of_its_managed_account(api):
    resp = api.get(f"/customers/{demo.GLOBEX_ID}/licensing-report", GLOBEX_RESELLER)
    assert resp.status_code == 200
    assert "hal@globex.example" in resp.get_data(as_text=True)


def test_a_customer_admin_manages_its_own_account_and_never_sees_another(api):
    assert len(api.licenses(ACME_ADMIN)) >= 6
    free = api.licenses(ACME_ADMIN, product="PC", status="available")[0]
    resp = api.post(
        f"{ACME}/assignments",
        ACME_ADMIN,
        json={"license_id": free["license_id"], "assignee": person(3)},
    )
    assert resp.status_code == 200
    for path in ("licenses", "users", "teams", "licensing-report", "subscription-packs"):
        other = api.get(f"/customers/{demo.GLOBEX_ID}/{path}", ACME_ADMIN)
        assert other.status_code == 404, path
    missing = api.get("/customers/C-999999/licenses", ACME_ADMIN)
    assert missing.status_code == 404
    assert other.get_json() == missing.get_json()


def test_a_reseller_without_access_gets_404_and_a_request_without_identity_401(api):
    stranger = reseller("RS-1002", roles=("admin",), customer_scope=None)
    assert api.get(f"{ACME}/licenses", stranger).status_code == 404
    assert api.get(f"{ACME}/licenses", None).status_code == 401


# -- offline activation codes --------------------------------------------------------------------


def code_of(api, license_id: str) -> str:
    resp = api.get(f"{ACME}/licenses/{license_id}/activation-code")
    assert resp.status_code == 200
    return resp.get_json()["activation_code"]


def test_a_code_verifies_online_and_offline_with_only_the_public_key(api, tmp_path):
    held = api.licenses(product="PC", status="assigned")[0]
    code = code_of(api, held["license_id"])

    online = api.post("/activation-codes/verify", None, json={"code": code}).get_json()
    assert online["valid"] is True
    assert online["license_id"] == held["license_id"]
    assert online["licensee"] == {"name": "Ada Lovelace", "email": "ada@acme.example"}
    assert online["valid_until"] == held["valid_until"]
    assert online["fallback_version"] == held["fallback_version"]

    key = api.get("/activation-codes/public-key", None).get_json()
    assert key["algorithm"] == "Ed25519"
    assert verify(code, key["public_key"])["license_id"] == held["license_id"]
    key_file = tmp_path / "vendor.pem"
    key_file.write_text(key["public_key_pem"])
    command = [sys.executable, "-m", "license_assign.offline_verifier", "--public-key"]
    ok = subprocess.run([*command, str(key_file), code], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert held["license_id"] in ok.stdout


def test_a_tampered_code_is_rejected_online_and_offline(api, tmp_path):
    held = api.licenses(product="PC", status="assigned")[0]
    code = code_of(api, held["license_id"])
    body, signature = code.split(".")
    import base64
    import json

    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload["valid_until"] = "2099-12-31"
    forged_body = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    forged = f"{forged_body}.{signature}"

    online = api.post("/activation-codes/verify", None, json={"code": forged}).get_json()
    assert online["valid"] is False and online["reason"]
    key = api.get("/activation-codes/public-key", None).get_json()["public_key"]
    try:
        verify(forged, key)
        raise AssertionError("a forged code verified")
    except InvalidCode:
        pass
    key_file = tmp_path / "vendor.key"
    key_file.write_text(key)
    command = [sys.executable, "-m", "license_assign.offline_verifier", "--public-key"]
    bad = subprocess.run([*command, str(key_file), forged], capture_output=True, text=True)
    assert bad.returncode == 1


def test_a_renewal_gives_a_new_code_and_the_old_one_is_superseded_online(api):
    held = api.licenses(product="PC", status="assigned")[0]
    old = code_of(api, held["license_id"])
    renewal = {
        "kind": "renewal",
        "quantity": 1,
        "license_ids": [held["license_id"]],
        "start_date": held["valid_until"],
        "end_date": "2028-01-26",
    }
    place(api.service, order_placed(lines=[renewal]))
    new = code_of(api, held["license_id"])
    assert new != old
    key = api.service.codes.public_key_base64
    assert verify(new, key)["valid_until"] == "2028-01-26"
    answer = api.post("/activation-codes/verify", None, json={"code": old}).get_json()
    assert answer["valid"] is False and "newer" in answer["reason"]
    assert RESELLER.customer_scope == demo.ACME_ID


# -- lists page like every other list ------------------------------------------------------------


def walk(api, path: str, limit: int) -> list[list[dict]]:
    """Every page of a list, following ``next_cursor``."""
    pages, cursor = [], None
    while True:
        query = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        resp = api.get(path, query_string=query)
        assert resp.status_code == 200, resp.get_json()
        body = resp.get_json()
        assert len(body["items"]) <= limit
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


def test_people_teams_packs_and_links_come_in_pages_that_add_up_to_the_whole(api):
    add_pc_seats(api, 5)
    people = [person(n) for n in range(5)]
    assigned = api.post(f"{ACME}/assignments", json={"product": "PC", "assignees": people})
    assert len(assigned.get_json()["assigned"]) == 5
    for name in ("Backend", "Frontend", "Data"):
        assert api.post(f"{ACME}/teams", json={"name": name}).status_code == 201
    teams = api.get(f"{ACME}/teams").get_json()["items"]
    for _ in range(3):
        link = {"product": "PC", "team_id": teams[0]["team_id"]}
        assert api.post(f"{ACME}/invitation-links", json=link).status_code == 201

    for path, key in [
        ("users", "email"),
        ("teams", "team_id"),
        ("subscription-packs", "number"),
        ("invitation-links", "id"),
    ]:
        whole = api.get(f"{ACME}/{path}").get_json()
        assert whole["next_cursor"] is None
        pages = walk(api, f"{ACME}/{path}", limit=2)
        assert len(pages) == -(-len(whole["items"]) // 2), path
        assert [item[key] for page in pages for item in page] == [
            item[key] for item in whole["items"]
        ], path
    assert len(api.get(f"{ACME}/users").get_json()["items"]) >= 5


def test_a_cursor_that_the_list_did_not_give_out_is_refused(api):
    resp = api.get(f"{ACME}/teams", query_string={"cursor": "not-a-cursor!"})
    assert resp.status_code == 422
    assert "cursor" in resp.get_json()["errors"]
    assert api.get(f"{ACME}/users", query_string={"limit": 101}).status_code == 422
