"""Assignment jobs on the real PostgreSQL: two workers on one job, and an upload at once racing
them, never give one seat to two people nor one person two seats."""

from __future__ import annotations

import threading

import pytest
from license_assign_testkit import LicenseApi, order_placed, pg_service, place
from sqlalchemy import func, select

from license_assign import bulk_assignments
from license_assign.jobs import run_assignment_jobs
from license_assign.models import License
from portal_runtime.testkit import customer_admin

pytestmark = pytest.mark.integration

CUSTOMER = "C-200002"
ADMIN = customer_admin(CUSTOMER, user_id="CA-9")


@pytest.fixture
def pg_api(clock):
    with pg_service(clock, CUSTOMER, seats=300) as api:
        yield api


def csv_rows(start: int, count: int) -> bytes:
    lines = ["first_name,last_name,email"]
    lines += [f"P{n},Tester,p{n}@pg.example" for n in range(start, start + count)]
    return ("\n".join(lines) + "\n").encode()


def test_two_workers_and_an_upload_at_once_share_the_seats_without_doubles(pg_api, monkeypatch):
    monkeypatch.setattr(bulk_assignments, "BATCH_ROWS", 40)
    path = f"/customers/{CUSTOMER}/assignments"
    job = pg_api.post(
        path,
        ADMIN,
        data=csv_rows(1, 260),
        content_type="text/csv",
        query_string={"product": "PC"},
    )
    assert job.status_code == 202
    barrier = threading.Barrier(3)
    answers = {}
    # One app per thread, built here (building Flask apps in threads races in CPython 3.11).
    direct_client = LicenseApi(pg_api.service)

    def worker():
        barrier.wait(timeout=20)
        run_assignment_jobs(pg_api.service)

    def direct():
        barrier.wait(timeout=20)
        answers["direct"] = direct_client.post(
            path,
            ADMIN,
            data=csv_rows(1000, 100),
            content_type="text/csv",
            query_string={"product": "PC"},
        )

    threads = [threading.Thread(target=f) for f in (worker, worker, direct)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    done = pg_api.get(job.headers["Location"], ADMIN).get_json()
    assert done["status"] == "done"
    direct_result = answers["direct"].get_json()
    assigned = len(done["result"]["assigned"]) + len(direct_result["assigned"])
    assert assigned == 300  # every seat once, the rest told there was none left
    assert len(done["result"]["assigned"]) + len(done["result"]["failed"]) == 260
    rows = [a["row"] for a in done["result"]["assigned"]] + [
        f["row"] for f in done["result"]["failed"]
    ]
    assert sorted(rows) == list(range(1, 261))  # each row reported once
    with pg_api.service.sessions() as session:
        per_person = session.execute(
            select(License.assignee_email, func.count())
            .where(License.customer_id == CUSTOMER, License.assignee_email.is_not(None))
            .group_by(License.assignee_email)
        ).all()
    assert len(per_person) == 300 and {n for _, n in per_person} == {1}


def test_grouped_lists_page_in_sql_and_the_report_streams_on_postgres(pg_api):
    for n in range(6):
        place(
            pg_api.service,
            order_placed(
                f"O-2026-0008{n:02d}",
                customer=CUSTOMER,
                lines=[{"quantity": 2, "end_date": f"2027-0{1 + n}-15"}, {"product": "WS"}],
            ),
        )

    def pages(path: str, limit: int) -> list[dict]:
        items, cursor = [], None
        while True:
            query = {"limit": limit, **({"cursor": cursor} if cursor else {})}
            body = pg_api.get(path, ADMIN, query_string=query).get_json()
            items += body["items"]
            cursor = body["next_cursor"]
            if not cursor:
                return items

    base = f"/customers/{CUSTOMER}"
    for path in ("renewals", "subscription-packs", "users"):
        assert pages(f"{base}/{path}", 3) == pages(f"{base}/{path}", 100), path
    renewals = pages(f"{base}/renewals", 100)
    keys = [(g["valid_until"], g["subscription_pack"], g["product"]) for g in renewals]
    assert keys == sorted(keys) and sum(g["quantity"] for g in renewals) == 300 + 6 * 4
    report = pg_api.get(f"{base}/licensing-report", ADMIN)
    assert report.is_streamed
    lines = report.get_data(as_text=True).strip().split("\r\n")
    assert len(lines) == 1 + 300 + 6 * 4
