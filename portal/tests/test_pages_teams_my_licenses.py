"""Teams, the licenses list's filters and Transfer, a regenerated invitation link, and My
licenses, with the Flask test client against the running system: every form's bad input is a
422 with the message next to the field, and nothing changes."""

from __future__ import annotations

import re
import uuid
from html import unescape

import pytest
from portal_testkit import team_with_seats

from license_assign.offline_verifier import verify
from portal_contracts import demo
from portal_system.client import PortalClient, wait_for
from portal_system.testing import login, mails_about, text_of

pytestmark = pytest.mark.e2e

ACME = f"/portal/customers/{demo.ACME_ID}"
API_ACME = f"/customers/{demo.ACME_ID}"


def html(resp) -> str:
    return resp.get_data(as_text=True)


def error_of(resp, field_id: str) -> str:
    match = re.search(rf'id="{field_id}-error">(.*?)</p>', html(resp), re.S)
    assert match, f"no error next to {field_id}"
    return unescape(re.sub(r"<[^>]+>", "", match.group(1)).replace("Error:", "").strip())


def test_teams_are_created_renamed_and_merged_and_bad_input_changes_nothing(pages, portal_system):
    tag = uuid.uuid4().hex[:6]
    source, seats = team_with_seats(portal_system, f"Source {tag}")
    pages.sign_in(demo.ACME_ADMIN)
    page = pages.get(f"{ACME}/teams")
    assert page.status_code == 200
    assert f"Source {tag}" in html(page) and "2 licenses" in html(page)

    empty = pages.post(f"{ACME}/teams", {"name": "  "})
    assert empty.status_code == 422
    assert error_of(empty, "new-team-name") == "Enter a name for the team."
    taken = pages.post(f"{ACME}/teams", {"name": f"source {tag}"})
    assert taken.status_code == 422
    assert "already has a team named" in error_of(taken, "new-team-name")
    broken = pages.post(f"{ACME}/teams", {"name": "Two\nlines"})
    assert broken.status_code == 422 and "control characters" in error_of(broken, "new-team-name")
    created = pages.post(f"{ACME}/teams", {"name": f"Target {tag}"})
    assert created.status_code == 302
    flashed = html(pages.get(created.headers["Location"]))
    assert f"Team Target {tag} (T-" in flashed
    target = re.search(rf"Team Target {tag} \((T-\d+)\) created", flashed).group(1)

    bad_rename = pages.post(f"{ACME}/teams/{source}/rename", {"name": ""})
    assert bad_rename.status_code == 422
    assert error_of(bad_rename, f"rename-{source}") == "Enter the team's new name."
    clash = pages.post(f"{ACME}/teams/{source}/rename", {"name": f"TARGET {tag}"})
    assert clash.status_code == 422 and "already has a team" in error_of(clash, f"rename-{source}")
    renamed = pages.post(f"{ACME}/teams/{source}/rename", {"name": f"Platform {tag}"})
    assert renamed.status_code == 302
    assert f"Team {source} is now called Platform {tag}." in html(pages.get(f"{ACME}/teams"))

    no_choice = pages.post(f"{ACME}/teams/{source}/merge", {"into_team_id": ""})
    assert no_choice.status_code == 422
    assert error_of(no_choice, f"merge-{source}") == "Choose the team to merge it into."
    itself = pages.post(f"{ACME}/teams/{source}/merge", {"into_team_id": source})
    assert itself.status_code == 422 and "itself" in error_of(itself, f"merge-{source}")
    missing = pages.post(f"{ACME}/teams/{source}/merge", {"into_team_id": "T-999999"})
    assert missing.status_code == 422
    assert error_of(missing, f"merge-{source}") == "No such team in this account."
    assert f"Platform {tag}" in html(pages.get(f"{ACME}/teams"))  # nothing changed

    merged = pages.post(f"{ACME}/teams/{source}/merge", {"into_team_id": target})
    assert merged.status_code == 302
    after = html(pages.get(f"{ACME}/teams"))
    assert f"Team {source} is merged into Target {tag}: 2 licenses moved" in after
    assert f"Platform {tag}" not in after.split("</div>", 1)[-1]
    listed = html(pages.get(f"{ACME}/licenses?team_id={target}"))
    assert all(seat in listed for seat in seats)


def test_the_licenses_list_filters_and_transfers_the_checked_licenses(pages, portal_system):
    tag = uuid.uuid4().hex[:6]
    source, seats = team_with_seats(portal_system, f"Filters {tag}")
    admin = login(portal_system, demo.ACME_ADMIN)
    target = admin.post(f"{API_ACME}/teams", json={"name": f"Moved {tag}"}).json()["team_id"]
    pages.sign_in(demo.ACME_ADMIN)

    page = pages.get(f"{ACME}/licenses?team_id={source}&product=WS&status=available")
    assert page.status_code == 200
    text = html(page)
    for heading in ("License ID", "Product", "Team", "Subscription pack", "Valid until",
                    "Fallback right", "Assigned to"):  # fmt: skip
        assert f">{heading}</th>" in text
    assert all(seat in text for seat in seats) and f"Filters {tag}" in text
    assert "Clear filters" in text
    assert seats[0] not in html(pages.get(f"{ACME}/licenses?team_id={source}&status=expired"))
    nobody = pages.get(f"{ACME}/licenses?assignee_email=nobody.{tag}@acme.example")
    assert "No licenses match these filters." in html(nobody)
    bad = pages.get(f"{ACME}/licenses?status=lost")
    assert bad.status_code == 422 and "Must be one of" in error_of(bad, "status")

    back = {"back_team_id": source}
    nothing = pages.post(f"{ACME}/licenses/transfer", {"to_team_id": target, **back})
    assert nothing.status_code == 422 and "Check the licenses to move first." in html(nothing)
    no_team = pages.post(
        f"{ACME}/licenses/transfer", {"license": f"{source}/{seats[0]}", "to_team_id": "", **back}
    )
    assert no_team.status_code == 422
    assert error_of(no_team, "to_team_id") == "Choose the team to move the licenses to."
    wrong = pages.post(
        f"{ACME}/licenses/transfer", {"license": f"{source}/{seats[0]}", "to_team_id": "T-999999"}
    )
    assert wrong.status_code == 422 and "No such team in this account." in html(wrong)
    assert seats[0] in html(pages.get(f"{ACME}/licenses?team_id={source}"))  # not moved

    moved = pages.post(
        f"{ACME}/licenses/transfer",
        {"license": [f"{source}/{seats[0]}"], "to_team_id": target, **back},
    )
    assert moved.status_code == 302
    assert moved.headers["Location"].endswith(f"/licenses?team_id={source}")
    shown = html(pages.get(moved.headers["Location"]))
    assert f"1 license moved to Moved {tag}." in shown
    assert seats[0] not in shown and seats[1] in shown
    assert seats[0] in html(pages.get(f"{ACME}/licenses?team_id={target}"))


def test_a_regenerated_links_old_url_says_it_was_replaced(pages, portal_system):
    admin = login(portal_system, demo.ACME_ADMIN)
    teams = admin.get(f"{API_ACME}/teams").json()["items"]
    team = next(t for t in teams if t["is_default"])["team_id"]
    link = admin.post(f"{API_ACME}/invitation-links", json={"product": "PC", "team_id": team})
    old = link.json()
    admin.post(f"{API_ACME}/invitation-links/{old['id']}/regenerate")
    gone = pages.get(f"/portal/invitations/{old['token']}")
    assert gone.status_code == 410
    assert "replaced by a new one" in html(gone)
    assert "disabled" not in html(gone) and "expired" not in html(gone)
    admin.delete(f"{API_ACME}/invitation-links/{old['id']}")


def my_licenses_link(system, email: str, needle: str = "/portal/my-licenses/") -> str:
    mails = wait_for(lambda: mails_about(system, email, needle), timeout=90, what="mail")
    found = re.findall(r"/portal/my-licenses/([\w-]{20,})", text_of(mails[-1]))
    assert found, text_of(mails[-1])
    return found[-1]


def test_my_licenses_by_an_emailed_link_shows_only_the_holders_licenses(
    pages, portal_system, portal_config
):
    from portal.app import create_app

    tag = uuid.uuid4().hex[:6]
    _team, seats = team_with_seats(portal_system, f"Mine {tag}")
    email = f"mia.{tag}@acme.example"
    admin = login(portal_system, demo.ACME_ADMIN)
    assigned = admin.post(
        f"{API_ACME}/assignments",
        json={"license_id": seats[0], "assignee": {"first_name": "Mia", "last_name": tag,
                                                   "email": email}},
    ).json()  # fmt: skip
    assert assigned["assigned"], assigned
    # The assignment e-mail carries the link (no "sign in" that nobody can).
    assignment_mail = wait_for(
        lambda: mails_about(portal_system, email, seats[0]), timeout=90, what="assignment mail"
    )[-1]
    assert "/portal/my-licenses/" in text_of(assignment_mail)
    assert "sign in" not in text_of(assignment_mail).lower()

    # The sign-in page asks; bad input is a 422 next to the field; the answer is always the same.
    sign_in = html(pages.get("/portal/sign-in"))
    assert "Get a link to my licenses" in sign_in
    bad = pages.post("/portal/my-licenses/link", {"email": "not an email"})
    assert bad.status_code == 422
    assert error_of(bad, "email") == "Enter an email address like name@example.com."
    unknown = pages.post("/portal/my-licenses/link", {"email": f"nobody.{tag}@acme.example"})
    known = pages.post("/portal/my-licenses/link", {"email": email.upper()})
    assert unknown.status_code == known.status_code == 302
    notice = "If this email address holds a license, a link to its licenses is on its way"
    assert notice in html(pages.get("/portal/my-licenses/"))
    token = my_licenses_link(portal_system, email, "link to your licenses")
    assert not mails_about(portal_system, f"nobody.{tag}@acme.example", "licenses")

    # Opening the link: a button first (a mail scanner's GET spends nothing), then the page.
    holder = type(pages)(create_app(portal_config))
    opening = holder.get(f"/portal/my-licenses/{token}")
    assert opening.status_code == 200 and "Show my licenses" in html(opening)
    opened = holder.post(f"/portal/my-licenses/{token}")
    assert opened.status_code == 302
    mine = holder.get("/portal/my-licenses/")
    text = html(mine)
    assert email in text and seats[0] in text and "Acme Corp" in text
    assert "How to activate" in text and "Download activation code" in text
    assert seats[1] not in text  # the free seat of the same team is not theirs

    download = holder.get(f"/portal/my-licenses/{seats[0]}/activation-code.txt")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment;")
    body = html(download)
    assert "Perpetual fallback license" in body
    key = PortalClient(portal_system.gateway_url).get("/activation-codes/public-key").json()
    assert verify(body.strip().splitlines()[-1], key["public_key"])["licensee"]["email"] == email

    # Nothing else: another license's code, the account's pages, the reseller's pages.
    assert holder.get(f"/portal/my-licenses/{seats[1]}/activation-code.txt").status_code == 404
    for path in (f"{ACME}/licenses", f"{ACME}/teams", f"{ACME}/users", "/portal/orders/"):
        resp = holder.get(path)
        assert resp.status_code == 302 and "/portal/sign-in" in resp.headers["Location"], path

    # The link works once; a made-up one is no one's; both say what to do, with the form.
    again = type(pages)(create_app(portal_config))
    used = again.post(f"/portal/my-licenses/{token}")
    assert used.status_code == 410 and "used already" in html(used)
    assert "Get a link to my licenses" in html(used)
    made_up = again.post(f"/portal/my-licenses/{'x' * 43}")
    assert made_up.status_code == 404 and "Get a link to my licenses" in html(made_up)

    closed = holder.post("/portal/my-licenses/close")
    assert closed.status_code == 302
    assert "Get a link to my licenses" in html(holder.get("/portal/my-licenses/"))
