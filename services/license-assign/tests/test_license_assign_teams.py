"""Teams: create, rename, move licenses between them, and merge one into another."""

from __future__ import annotations

from license_assign_testkit import ACME, GLOBEX_RESELLER

from portal_contracts import demo
from portal_runtime.testkit import ACME_ADMIN


def teams(api) -> dict[str, dict]:
    return {t["team_id"]: t for t in api.get(f"{ACME}/teams").get_json()["items"]}


def default_team(api) -> dict:
    return next(t for t in teams(api).values() if t["is_default"])


def new_team(api, name: str) -> str:
    resp = api.post(f"{ACME}/teams", json={"name": name})
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()["team_id"]


def test_a_team_is_renamed_and_names_stay_unique_whatever_their_case(api):
    backend = new_team(api, "Backend")
    new_team(api, "Frontend")
    resp = api.patch(f"{ACME}/teams/{backend}", json={"name": "  Platform  "})
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["name"] == "Platform"
    assert teams(api)[backend]["name"] == "Platform"

    taken = api.patch(f"{ACME}/teams/{backend}", json={"name": "frontend"})
    assert taken.status_code == 409 and "frontend" in taken.get_json()["detail"]
    # Its own name in another case is fine.
    assert api.patch(f"{ACME}/teams/{backend}", json={"name": "PLATFORM"}).status_code == 200
    assert teams(api)[backend]["name"] == "PLATFORM"


def test_renaming_refuses_bad_names_and_changes_nothing(api):
    backend = new_team(api, "Backend")
    for body in ({"name": ""}, {"name": "   "}, {"name": "Back\nend"}, {"name": "x" * 101}, {}):
        resp = api.patch(f"{ACME}/teams/{backend}", json=body)
        assert resp.status_code == 422, body
        assert resp.content_type == "application/problem+json"
        assert "name" in resp.get_json()["errors"]
    extra = api.patch(f"{ACME}/teams/{backend}", json={"name": "B", "team_id": "T-9"})
    assert extra.status_code == 422
    assert teams(api)[backend]["name"] == "Backend"
    assert api.patch(f"{ACME}/teams/T-999999", json={"name": "B"}).status_code == 404


def test_merging_moves_every_license_and_link_and_the_team_goes_away(api):
    backend = new_team(api, "Backend")
    home = default_team(api)
    pcs = api.licenses(product="PC")
    moved = [lic["license_id"] for lic in pcs[:3]]
    transfer = api.post(
        f"{ACME}/teams/{home['team_id']}/transfer",
        json={"license_ids": moved, "to_team_id": backend},
    )
    assert transfer.status_code == 200
    link = api.post(f"{ACME}/invitation-links", json={"product": "PC", "team_id": backend})
    assert link.status_code == 201
    before = teams(api)

    resp = api.post(f"{ACME}/teams/{backend}/merge", json={"into_team_id": home["team_id"]})
    assert resp.status_code == 200, resp.get_json()
    body = resp.get_json()
    assert body["merged_team_id"] == backend
    assert (body["moved_licenses"], body["moved_invitation_links"]) == (3, 1)
    assert body["team"]["license_count"] == before[home["team_id"]]["license_count"] + 3

    after = teams(api)
    assert backend not in after
    assert {lic["team_id"] for lic in api.licenses() if lic["license_id"] in moved} == {
        home["team_id"]
    }
    assert api.get(f"{ACME}/invitation-links").get_json()["items"][0]["team_id"] == home["team_id"]
    # The name is free again.
    assert api.post(f"{ACME}/teams", json={"name": "Backend"}).status_code == 201


def test_merging_the_default_team_makes_the_other_one_the_default(api):
    home = default_team(api)
    backend = new_team(api, "Backend")
    resp = api.post(f"{ACME}/teams/{home['team_id']}/merge", json={"into_team_id": backend})
    assert resp.status_code == 200
    after = teams(api)
    assert list(after) == [backend] and after[backend]["is_default"] is True
    assert after[backend]["license_count"] == home["license_count"]


def test_merging_into_itself_or_a_missing_team_is_refused_in_words(api):
    backend = new_team(api, "Backend")
    count = len(api.licenses())
    itself = api.post(f"{ACME}/teams/{backend}/merge", json={"into_team_id": backend})
    assert itself.status_code == 409
    assert "itself" in itself.get_json()["detail"]
    missing = api.post(f"{ACME}/teams/{backend}/merge", json={"into_team_id": "T-999999"})
    assert missing.status_code == 422
    assert missing.get_json()["errors"]["into_team_id"] == ["No such team in this account."]
    assert api.post(f"{ACME}/teams/T-999999/merge", json={"into_team_id": backend}).status_code == (
        404
    )
    assert api.post(f"{ACME}/teams/{backend}/merge", json={}).status_code == 422
    assert backend in teams(api) and len(api.licenses()) == count


def test_another_accounts_team_is_neither_renamed_nor_merged_into(api):
    backend = new_team(api, "Backend")
    globex = f"/customers/{demo.GLOBEX_ID}"
    globex_team = api.get(f"{globex}/teams", GLOBEX_RESELLER).get_json()["items"][0]["team_id"]
    assert api.patch(f"{ACME}/teams/{globex_team}", json={"name": "Mine"}).status_code == 404
    into = api.post(f"{ACME}/teams/{backend}/merge", json={"into_team_id": globex_team})
    assert into.status_code == 422
    # The customer admin of Acme may not touch Globex's teams at all.
    resp = api.patch(f"{globex}/teams/{globex_team}", ACME_ADMIN, json={"name": "Mine"})
    assert resp.status_code == 404
    assert api.get(f"{globex}/teams", GLOBEX_RESELLER).get_json()["items"][0]["name"] != "Mine"


def test_a_customer_admin_renames_and_merges_its_own_teams(api):
    backend = new_team(api, "Backend")
    resp = api.patch(f"{ACME}/teams/{backend}", ACME_ADMIN, json={"name": "Platform"})
    assert resp.status_code == 200
    home = default_team(api)["team_id"]
    merged = api.post(f"{ACME}/teams/{backend}/merge", ACME_ADMIN, json={"into_team_id": home})
    assert merged.status_code == 200
