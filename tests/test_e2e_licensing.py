"""License management end to end, through the gateway and the mail sink: a customer admin
assigns a seat and the person gets a code that verifies online and offline; a reseller's new team
gets seats that people claim through an invitation link, and the admins are told."""

from __future__ import annotations

import re
import uuid

from license_assign.offline_verifier import verify
from portal_contracts import demo
from portal_system.client import PortalClient, wait_for
from portal_system.testing import login, mails_about, mails_to, text_of


def settled_licenses(client, number: str, seats: int) -> list[str]:
    def done():
        order = client.get(f"/orders/{number}").json()
        return order["license_ids"] if len(order["license_ids"]) == seats else None

    return wait_for(done, timeout=90, what=f"{seats} licenses for {number}")


def buy_seats_in_a_new_team(reseller, product: str, seats: int, tag: str) -> tuple[str, list]:
    team = reseller.post(f"/customers/{demo.ACME_ID}/teams", json={"name": f"E2E {tag}"})
    assert team.status_code == 201, team.text
    team_id = team.json()["team_id"]
    resp = reseller.place_order(
        {
            "customer_id": demo.ACME_ID,
            "lines": [
                {
                    "kind": "new",
                    "product": product,
                    "quantity": seats,
                    "term_years": 1,
                    "team_id": team_id,
                }
            ],
            "payment_method_id": demo.DEMO_CARD_METHOD_ID,
            "end_user": {"first_name": "Ivy", "last_name": tag, "email": f"ivy.{tag}@acme.example"},
            "send_activation_email": False,
        }
    )
    assert resp.status_code == 201, resp.text
    return team_id, settled_licenses(reseller, resp.json()["number"], seats)


def test_a_customer_admin_assigns_a_seat_and_the_code_verifies_online_and_offline(system):
    reseller = login(system, demo.DEMO_RESELLER_USER)
    reseller.enter_customer(demo.ACME_ID, demo.ACME_CONTACT)
    tag = uuid.uuid4().hex[:8]
    team_id, license_ids = buy_seats_in_a_new_team(reseller, "WS", 1, tag)

    admin = login(system, demo.ACME_ADMIN)
    person = {"first_name": "Lin", "last_name": tag, "email": f"lin.{tag}@acme.example"}
    resp = admin.post(
        f"/customers/{demo.ACME_ID}/assignments",
        json={"product": "WS", "team_id": team_id, "assignees": [person]},
    )
    assert resp.status_code == 200, resp.text
    assert [a["license_id"] for a in resp.json()["assigned"]] == license_ids
    assert admin.get(f"/customers/{demo.GLOBEX_ID}/licenses").status_code == 404

    code = admin.get(f"/customers/{demo.ACME_ID}/licenses/{license_ids[0]}/activation-code").json()[
        "activation_code"
    ]
    mail = wait_for(lambda: mails_about(system, person["email"], license_ids[0]), what="mail")
    assert code in re.sub(r"\s+", "", text_of(mail[-1]))

    public = PortalClient(system.gateway_url)
    online = public.post("/activation-codes/verify", json={"code": code})
    assert online.status_code == 200, online.text
    assert online.json()["valid"] is True
    assert online.json()["license_id"] == license_ids[0]
    key = public.get("/activation-codes/public-key").json()["public_key"]
    assert verify(code, key)["licensee"]["email"] == person["email"]
    tampered = code[:-4] + ("AAAA" if not code.endswith("AAAA") else "BBBB")
    assert public.post("/activation-codes/verify", json={"code": tampered}).json()["valid"] is False

    revoke = admin.post(f"/customers/{demo.ACME_ID}/licenses/{license_ids[0]}/revoke")
    assert revoke.status_code == 200, revoke.text
    assert revoke.json()["status"] == "available"
    wait_for(lambda: len(mails_to(system, person["email"])) >= 2, what="revocation mail")


def test_people_claim_seats_through_an_invitation_link_and_the_admins_are_told(system):
    reseller = login(system, demo.DEMO_RESELLER_USER)
    reseller.enter_customer(demo.ACME_ID, demo.ACME_CONTACT)
    tag = uuid.uuid4().hex[:8]
    team_id, license_ids = buy_seats_in_a_new_team(reseller, "RM", 2, tag)

    link = reseller.post(
        f"/customers/{demo.ACME_ID}/invitation-links",
        json={"product": "RM", "team_id": team_id, "allowed_domains": ["acme.example"]},
    )
    assert link.status_code == 201, link.text
    token = link.json()["token"]
    public = PortalClient(system.gateway_url)

    def claim(n, with_token=token):
        who = {"first_name": f"P{n}", "last_name": tag, "email": f"p{n}.{tag}@acme.example"}
        return public.post(f"/invitations/{with_token}/claim", json=who)

    first, second, third = claim(1), claim(2), claim(3)
    assert (first.status_code, second.status_code, third.status_code) == (201, 201, 409)
    assert sorted([first.json()["license_id"], second.json()["license_id"]]) == sorted(license_ids)
    assert claim(1).status_code == 409
    wait_for(lambda: mails_about(system, demo.ACME_ADMIN, f"p1.{tag}"), what="claim notice")

    regenerated = reseller.post(
        f"/customers/{demo.ACME_ID}/invitation-links/{link.json()['id']}/regenerate"
    )
    assert regenerated.status_code == 200, regenerated.text
    new_token = regenerated.json()["token"]
    old = claim(4)  # the old URL stopped working, and says it was replaced
    assert old.status_code == 410 and "replaced by a new one" in old.json()["detail"]
    assert claim(4, new_token).status_code == 409  # the new one works; no seat is left


ADDRESS = {
    "name": "Demo Reseller Inc.",
    "line1": "1 Main St",
    "city": "Springfield",
    "country": "US",
}


def test_renewing_an_assigned_seat_keeps_its_id_and_mails_the_holder_a_new_code(system):
    reseller = login(system, demo.DEMO_RESELLER_USER)
    reseller.enter_customer(demo.ACME_ID, demo.ACME_CONTACT)
    tag = uuid.uuid4().hex[:8]
    _, [license_id] = buy_seats_in_a_new_team(reseller, "II", 1, tag)
    holder = {"first_name": "Rey", "last_name": tag, "email": f"rey.{tag}@acme.example"}
    resp = reseller.post(
        f"/customers/{demo.ACME_ID}/assignments",
        json={"license_id": license_id, "assignee": holder},
    )
    assert resp.status_code == 200, resp.text
    licenses = f"/customers/{demo.ACME_ID}/licenses"
    first_code = reseller.get(f"{licenses}/{license_id}/activation-code").json()
    wait_for(lambda: mails_about(system, holder["email"], license_id), what="assignment mail")

    # An active single product may be renewed early or upgraded for the rest of its term.
    found = reseller.get(
        f"/customers/{demo.ACME_ID}/renewals", params={"license_id": license_id}
    ).json()["items"]
    assert [(r["license_ids"], r["allowed_actions"]) for r in found] == [
        ([license_id], ["renew", "upgrade"])
    ]

    item = reseller.post(
        f"/customers/{demo.ACME_ID}/cart/items",
        json={"kind": "renewal", "license_ids": [license_id], "term_years": 1},
    )
    assert item.status_code in (200, 201), item.text
    order = reseller.post(
        f"/customers/{demo.ACME_ID}/cart/checkout",
        json={
            "payment_method_id": demo.DEMO_CARD_METHOD_ID,
            "billing_address": ADDRESS,
            "end_user": holder,
            "send_activation_email": False,
        },
        headers={"Idempotency-Key": f"renew-{tag}"},
    )
    assert order.status_code == 201, order.text

    def renewed():
        code = reseller.get(f"{licenses}/{license_id}/activation-code").json()
        return code if code["valid_until"] > first_code["valid_until"] else None

    second_code = wait_for(renewed, timeout=90, what="the renewed license")
    assert second_code["activation_code"] != first_code["activation_code"]
    public = PortalClient(system.gateway_url)
    assert public.post(
        "/activation-codes/verify", json={"code": second_code["activation_code"]}
    ).json()["valid"]
    assert not public.post(
        "/activation-codes/verify", json={"code": first_code["activation_code"]}
    ).json()["valid"]
    wait_for(
        lambda: [
            m
            for m in mails_about(system, holder["email"], license_id)
            if second_code["activation_code"] in re.sub(r"\s+", "", text_of(m))
        ],
        what="the new code by mail",
    )


def test_a_big_csv_upload_is_a_job_whose_result_lists_every_row_and_each_person_is_mailed_once(
    system,
):
    reseller = login(system, demo.DEMO_RESELLER_USER)
    reseller.enter_customer(demo.ACME_ID, demo.ACME_CONTACT)
    tag = uuid.uuid4().hex[:8]
    team_id, license_ids = buy_seats_in_a_new_team(reseller, "WS", 205, tag)
    rows = [f"P{n},{tag},p{n}.{tag}@acme.example" for n in range(1, 211)]
    resp = reseller.post(
        f"/customers/{demo.ACME_ID}/assignments",
        params={"product": "WS", "team_id": team_id},
        data=("first_name,last_name,email\n" + "\n".join(rows) + "\n").encode(),
        headers={"Content-Type": "text/csv"},
    )
    assert resp.status_code == 202, resp.text
    location = resp.headers["Location"]
    assert location.startswith(f"/api/v1/customers/{demo.ACME_ID}/assignment-jobs/")

    def finished():
        job = reseller.get(location.removeprefix("/api/v1")).json()
        return job if job["status"] == "done" else None

    job = wait_for(finished, timeout=90, what="the assignment job")
    assert job["rows"] == 210 and job["assigned"] == 205
    assert sorted(a["license_id"] for a in job["result"]["assigned"]) == sorted(license_ids)
    assert [f["row"] for f in job["result"]["failed"]] == list(range(206, 211))
    assert {f["reason"] for f in job["result"]["failed"]} == {
        "No free WS license left in this team."
    }
    for n in (1, 205):
        person = f"p{n}.{tag}@acme.example"
        wait_for(lambda p=person: mails_to(system, p), timeout=120, what=f"mail to {person}")
        assert len(mails_to(system, person)) == 1
