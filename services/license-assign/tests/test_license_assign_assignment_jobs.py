"""Big assignment uploads: accepted as a job (202), assigned by the worker in batches, each row's
outcome reported as the synchronous route reports it."""

from __future__ import annotations

import pytest
from license_assign_testkit import (
    ACME,
    GLOBEX_RESELLER,
    LicenseApi,
    new_service,
    order_placed,
    person,
    place,
)

from license_assign import bulk_assignments
from license_assign.handlers import licenses as license_handlers
from license_assign.jobs import run_assignment_jobs, run_batch
from portal_contracts import demo
from portal_contracts.api.licenses import ASSIGN_AT_ONCE_ROWS, MAX_ASSIGNEES
from portal_runtime import wakeup
from portal_runtime.testing import recorded


def csv_of(rows: list[tuple[str, str, str]]) -> bytes:
    lines = ["first_name,last_name,email"] + [",".join(r) for r in rows]
    return ("\n".join(lines) + "\n").encode()


def upload(api, body: bytes, **query):
    return api.post(
        f"{ACME}/assignments",
        data=body,
        content_type="text/csv",
        query_string={"product": "PC", **query},
    )


def people_rows(start: int, count: int) -> list[tuple[str, str, str]]:
    return [(f"User{n}", "Tester", f"user{n}@acme.example") for n in range(start, start + count)]


def free_pc(api) -> int:
    return sum(1 for _ in paged(api, f"{ACME}/licenses", {"product": "PC", "status": "available"}))


def paged(api, path: str, query: dict):
    cursor = None
    while True:
        args = dict(query, limit=100, **({"cursor": cursor} if cursor else {}))
        body = api.get(path, query_string=args).get_json()
        yield from body["items"]
        cursor = body["next_cursor"]
        if not cursor:
            return


def job_of(api, location: str) -> dict:
    resp = api.get(location.removeprefix("/api/v1"))
    assert resp.status_code == 200, resp.get_json()
    return resp.get_json()


def test_an_upload_over_the_at_once_limit_is_a_job_that_reports_every_row_when_done(api):
    place(api.service, order_placed("O-2026-000300", lines=[{"quantity": 250}]))
    free = free_pc(api)
    holder = next(iter(paged(api, f"{ACME}/licenses", {"product": "PC", "status": "assigned"})))
    rows = people_rows(1, free + 6)
    rows[2] = ("Cid", "Cole", "not-an-email")  # row 3: rejected by the upload itself
    rows[9] = ("Again", "Tester", "USER1@acme.example")  # row 10: row 1's person again
    rows[11] = ("Held", "Before", holder["assignee"]["email"])  # row 12: already holds PC
    assert len(rows) > ASSIGN_AT_ONCE_ROWS

    resp = upload(api, csv_of(rows))
    assert resp.status_code == 202, resp.get_json()
    job = resp.get_json()
    assert job["status"] == "queued" and job["rows"] == len(rows) and job["result"] is None
    assert resp.headers["Location"] == f"/customers/{demo.ACME_ID}/assignment-jobs/{job['job_id']}"
    assert free_pc(api) == free  # nothing assigned before the worker runs

    run_assignment_jobs(api.service)

    done = job_of(api, resp.headers["Location"])
    assert done["status"] == "done" and done["processed"] == len(rows)
    result = done["result"]
    failed = {f["row"]: f for f in result["failed"]}
    assert "email" in failed[3]["reason"]
    assert failed[10]["reason"] == "Already holds a PC license in this account."
    assert failed[12]["reason"] == "Already holds a PC license in this account."
    # Seats go to the rows in order while they last; the last rows find none.
    taken = [r for r in range(1, len(rows) + 1) if r not in (3, 10, 12)]
    assert [a["row"] for a in result["assigned"]] == taken[:free]
    assert sorted(failed) == sorted([3, 10, 12, *taken[free:]])
    assert {failed[r]["reason"] for r in taken[free:]} == {"No free PC license left."}
    assert done["assigned"] == free and done["failed"] == len(rows) - free
    assert free_pc(api) == 0
    # One activation e-mail event per assignment, none twice.
    sent = [
        p["assignee"]["email"]
        for p in recorded(api.service, "licensing.license.assigned")
        if p["reason"] == "assigned"
    ]
    assert sorted(sent) == sorted(a["assignee"]["email"] for a in result["assigned"])
    assert len(set(sent)) == len(sent)


def test_a_queued_job_wakes_the_worker_at_once_rather_than_at_its_next_sweep(api):
    place(api.service, order_placed("O-2026-000300", lines=[{"quantity": 250}]))
    with wakeup.Doorbell(api.service.engine, bulk_assignments.WAKE) as doorbell:
        doorbell.wait(0.05)  # whatever rang before the uploads
        small = upload(api, csv_of(people_rows(1, 2)))
        assert small.status_code == 200
        assert doorbell.wait(0.05) is False  # assigned at once: no job, nothing to wake
        assert upload(api, csv_of(people_rows(10, ASSIGN_AT_ONCE_ROWS + 1))).status_code == 202
        assert doorbell.wait(0.05) is True


def test_a_job_shows_its_progress_batch_by_batch(api, monkeypatch):
    monkeypatch.setattr(bulk_assignments, "BATCH_ROWS", 100)
    place(api.service, order_placed("O-2026-000300", lines=[{"quantity": 300}]))
    location = upload(api, csv_of(people_rows(1, 250))).headers["Location"]

    assert run_batch(api.service) is True
    first = job_of(api, location)
    assert (first["status"], first["processed"], first["assigned"]) == ("running", 100, 100)
    assert first["result"] is None
    run_batch(api.service)
    run_batch(api.service)
    assert job_of(api, location)["status"] == "done"
    assert run_batch(api.service) is False  # nothing left to do


def test_a_failed_batch_assigns_nothing_and_is_tried_again_then_given_up(api, monkeypatch):
    monkeypatch.setattr(bulk_assignments, "BATCH_ROWS", 100)
    place(api.service, order_placed("O-2026-000300", lines=[{"quantity": 300}]))
    location = upload(api, csv_of(people_rows(1, 250))).headers["Location"]
    run_batch(api.service)
    real = bulk_assignments.assign_people
    monkeypatch.setattr(
        bulk_assignments, "assign_people", lambda *a, **k: (_ for _ in ()).throw(OSError("disk"))
    )

    assert run_batch(api.service) is False
    again = job_of(api, location)
    assert (again["status"], again["processed"]) == ("running", 100)

    monkeypatch.setattr(bulk_assignments, "assign_people", real)
    run_assignment_jobs(api.service)
    assert job_of(api, location)["assigned"] == 250
    held = [
        lic["assignee"]["email"]
        for lic in paged(api, f"{ACME}/licenses", {"product": "PC", "status": "assigned"})
    ]
    assert len([e for e in held if e.startswith("user")]) == 250  # each person once

    monkeypatch.setattr(
        bulk_assignments, "assign_people", lambda *a, **k: (_ for _ in ()).throw(OSError("disk"))
    )
    stuck = upload(api, csv_of(people_rows(1000, 250))).headers["Location"]
    for _ in range(bulk_assignments.MAX_ATTEMPTS):
        run_batch(api.service)
    given_up = job_of(api, stuck)
    assert given_up["status"] == "failed" and given_up["assigned"] == 0
    assert len(given_up["result"]["failed"]) == 250
    assert "upload these rows again" in given_up["result"]["failed"][0]["reason"]


def test_a_job_is_seen_only_on_its_own_account(api):
    place(api.service, order_placed("O-2026-000300", lines=[{"quantity": 250}]))
    job = upload(api, csv_of(people_rows(1, 250))).get_json()
    other = api.get(f"/customers/{demo.GLOBEX_ID}/assignment-jobs/{job['job_id']}", GLOBEX_RESELLER)
    assert other.status_code == 404
    assert api.get(f"{ACME}/assignment-jobs/AJ-999999").status_code == 404


def test_an_upload_of_more_rows_than_the_maximum_is_refused_and_assigns_nothing(api):
    free = free_pc(api)
    resp = upload(api, csv_of(people_rows(1, MAX_ASSIGNEES + 1)))
    assert resp.status_code == 422
    assert str(MAX_ASSIGNEES) in str(resp.get_json()["errors"])
    assert free_pc(api) == free


def test_a_json_list_over_the_limit_is_a_job_too(api):
    place(api.service, order_placed("O-2026-000300", lines=[{"quantity": 250}]))
    people = [person(n) for n in range(ASSIGN_AT_ONCE_ROWS + 1)]
    resp = api.post(f"{ACME}/assignments", json={"product": "PC", "assignees": people})
    assert resp.status_code == 202
    run_assignment_jobs(api.service)
    done = job_of(api, resp.headers["Location"])
    assert [a["row"] for a in done["result"]["assigned"]] == list(range(1, len(people) + 1))


def other_service(tmp_path, clock):
    return LicenseApi(new_service(f"sqlite:///{tmp_path / 'other.db'}", clock))


@pytest.mark.parametrize("team", [False, True])
def test_a_job_reports_the_same_rows_as_the_same_upload_assigned_at_once(
    api, tmp_path, clock, monkeypatch, team
):
    rows = people_rows(1, 12)
    rows[4] = ("Bad", "", "bad@acme.example")
    rows[6] = ("Dup", "Tester", "user2@acme.example")
    at_once, as_job = api, other_service(tmp_path, clock)
    for side in (at_once, as_job):
        place(side.service, order_placed("O-2026-000300", lines=[{"quantity": 4}]))
    query = {}
    if team:
        teams = at_once.get(f"{ACME}/teams").get_json()["items"]
        query["team_id"] = next(t for t in teams if t["is_default"])["team_id"]

    direct = upload(at_once, csv_of(rows), **query)
    assert direct.status_code == 200
    monkeypatch.setattr(license_handlers, "ASSIGN_AT_ONCE_ROWS", 3)
    queued = upload(as_job, csv_of(rows), **query)
    assert queued.status_code == 202
    run_assignment_jobs(as_job.service)
    later = job_of(as_job, queued.headers["Location"])["result"]

    def shape(result):
        return (
            [(a["row"], a["assignee"], a["product"], a["valid_until"]) for a in result["assigned"]],
            result["failed"],
        )

    assert shape(later) == shape(direct.get_json())
