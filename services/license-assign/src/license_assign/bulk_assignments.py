"""Assigning many people at once: a set of rows per statement, and big uploads as jobs.

:func:`assign_people` gives a batch of people their licenses with a few statements per batch
(who already holds the product, then as many free seats as are wanted, locked and skipped by
concurrent takers), so a row costs the same in an account of a hundred seats or of fifty
thousand. The rows keep the order and the outcomes of one-by-one assignment: a row fails when its
person already holds the product (also by an earlier row of the same upload) or no free seat is
left.

An upload of more than ``ASSIGN_AT_ONCE_ROWS`` rows becomes an :class:`AssignmentJob`: the
request answers ``202`` with the job at once and the worker assigns it in batches
(``jobs.run_assignment_jobs``), each batch's assignments committed with its rows' outcomes and
the job's progress. An uploaded CSV is read into people here too (:func:`parse_csv`).
"""

from __future__ import annotations

import csv
import io
import json

from marshmallow import ValidationError
from sqlalchemy import insert, select

from license_assign import views
from license_assign.assignments import complete_assignment, person_of, usable
from license_assign.config import LicenseAssignConfig
from license_assign.issuance import chunks
from license_assign.models import AssignmentJob, AssignmentJobRow, Customer, JobStatus, License
from license_assign.models.assignment_jobs import UNFINISHED
from license_assign.ports import CodeSigner
from portal_contracts.api.common import PersonSchema
from portal_contracts.api.licenses import MAX_ASSIGNEES
from portal_runtime.clock import Clock
from portal_runtime.errors import Invalid
from portal_runtime.uow import UnitOfWork

# Rows assigned per transaction by the worker: progress shows batch by batch.
BATCH_ROWS = 500
# A job whose batch keeps failing is given up after this many tries, its rest reported failed.
MAX_ATTEMPTS = 3


# -- an uploaded CSV ----------------------------------------------------------------------------


def csv_rows(text: str):
    """``(row, cells)`` with rows counted from 1 after the header (the header is row 0).

    A row the csv module cannot read (a field over its size limit, a stray quote) is a 422
    naming that row rather than a 500.
    """
    reader = csv.reader(io.StringIO(text))
    row = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            where = "The header row" if row == 0 else f"Row {row}"
            raise Invalid("_body", f"{where} cannot be read as CSV: {exc}.")
        yield row, cells
        row += 1


def parse_csv(raw: bytes) -> tuple[list[tuple[int, dict]], list[dict]]:
    """Good rows as people and bad rows as ``{row, reason}``; rows count from 1 after the header."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Invalid("_body", "The CSV must be UTF-8 text.")
    reader = csv_rows(text)
    header = [h.strip().lower() for h in next(reader, (0, []))[1]]
    wanted = ("first_name", "last_name", "email")
    if any(column not in header for column in wanted):
        raise Invalid("_body", "The CSV needs a header row: first_name,last_name,email.")
    where = {column: header.index(column) for column in wanted}
    people, failed = [], []
    schema = PersonSchema()
    for row, cells in reader:
        if not any(cell.strip() for cell in cells):
            continue
        if row > MAX_ASSIGNEES:
            raise Invalid("_body", f"At most {MAX_ASSIGNEES} rows at once.")
        values = {c: (cells[i].strip() if i < len(cells) else "") for c, i in where.items()}
        try:
            people.append((row, person_of(schema.load(values))))
        except ValidationError as exc:
            reason = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.messages.items())
            failed.append({"row": row, "email": values["email"] or None, "reason": reason})
    return people, failed


# -- assigning a batch of people ------------------------------------------------------------------


def already_holds(product: str) -> str:
    return f"Already holds a {product} license in this account."


def no_free(product: str, team_pk: int | None) -> str:
    return f"No free {product} license left" + (" in this team." if team_pk else ".")


def assign_people(
    uow: UnitOfWork,
    customer: Customer,
    product: str,
    team_pk: int | None,
    people: list[tuple[int, dict]],
    *,
    codes: CodeSigner,
    clock: Clock,
    config: LicenseAssignConfig,
) -> tuple[list[dict], list[dict]]:
    """Assign ``people`` (``(row, person)``, in row order) free licenses of ``product``;
    the assignments made (in row order) and the rows that failed, ``{row, email, reason}``."""
    session = uow.session
    today, now = clock.today(), clock.now()
    emails = list(dict.fromkeys(person["email"] for _, person in people))
    holders: set[str] = set()
    for part in chunks(emails):
        query = select(License.assignee_email).where(
            License.customer_id == customer.id,
            License.product == product,
            License.assignee_email.in_(part),
        )
        holders.update(session.scalars(usable(query, today)))
    wanted = sum(1 for email in emails if email not in holders)
    free: list[License] = []
    if wanted:
        query = select(License).where(
            License.customer_id == customer.id,
            License.product == product,
            License.assignee_email.is_(None),
        )
        if team_pk is not None:
            query = query.where(License.team_pk == team_pk)
        query = (
            usable(query, today)
            .order_by(License.valid_until.desc(), License.id)
            .limit(wanted)
            # Concurrent takers skip the seats this batch holds and take others.
            .with_for_update(skip_locked=True, of=License)
        )
        free = list(session.scalars(query).unique())
    seats = iter(free)
    assigned, failed = [], []
    for row, person in people:
        email = person["email"]
        if email in holders:
            failed.append({"row": row, "email": email, "reason": already_holds(product)})
            continue
        lic = next(seats, None)
        if lic is None:
            failed.append({"row": row, "email": email, "reason": no_free(product, team_pk)})
            continue
        lic.assigned_at = now
        complete_assignment(
            uow, customer, lic, person, "assigned", codes=codes, clock=clock, config=config
        )
        holders.add(email)
        assigned.append(views.assigned_view(lic, row))
    return assigned, failed


# -- jobs ---------------------------------------------------------------------------------------

# The doorbell of the worker's assignment job: a queued job rings it when its commit lands.
WAKE = "assignments"


def create_job(
    session,
    customer_id: str,
    product: str,
    team_pk: int | None,
    people: list[tuple[int, dict]],
    failed: list[dict],
    now,
) -> AssignmentJob:
    """A queued job for ``people``; the rows the upload itself rejected are its first outcomes."""
    job = AssignmentJob(
        customer_id=customer_id,
        product=product,
        team_pk=team_pk,
        status=JobStatus.QUEUED,
        people=json.dumps(people),
        total_rows=len(people) + len(failed),
        rejected=len(failed),
        processed=0,
        assigned_count=0,
        failed_count=len(failed),
        attempts=0,
        created_at=now,
    )
    session.add(job)
    session.flush()
    job.job_id = f"AJ-{job.id}"
    record_outcomes(session, job, [], failed)
    return job


def record_outcomes(session, job: AssignmentJob, assigned: list[dict], failed: list[dict]):
    rows = [
        {
            "job_pk": job.id,
            "row": a["row"],
            "email": a["assignee"]["email"],
            "assigned": json.dumps(a),
        }
        for a in assigned
    ] + [
        {"job_pk": job.id, "row": f["row"], "email": f["email"], "reason": f["reason"]}
        for f in failed
    ]
    for part in chunks(rows):
        session.execute(insert(AssignmentJobRow), part)


_people_cache: dict[int, list] = {}


def job_people(job: AssignmentJob) -> list[tuple[int, dict]]:
    """The job's rows, parsed once per worker (the JSON never changes)."""
    if job.id not in _people_cache:
        _people_cache.clear()
        _people_cache[job.id] = [(row, person) for row, person in json.loads(job.people)]
    return _people_cache[job.id]


def next_job(session) -> AssignmentJob | None:
    """The oldest unfinished job no other worker is in a batch of, locked for this batch."""
    return session.scalar(
        select(AssignmentJob)
        .where(AssignmentJob.status.in_(UNFINISHED))
        .order_by(AssignmentJob.id)
        .limit(1)
        .with_for_update(skip_locked=True, of=AssignmentJob)
    )


def job_result(session, job: AssignmentJob) -> dict | None:
    """Once the job is finished, every row's outcome as the synchronous route reports it:
    ``{assigned: [...], failed: [{row, email, reason}]}``; None before."""
    if not job.finished:
        return None
    assigned, failed = [], []
    rows = session.execute(
        select(
            AssignmentJobRow.row,
            AssignmentJobRow.email,
            AssignmentJobRow.assigned,
            AssignmentJobRow.reason,
        )
        .where(AssignmentJobRow.job_pk == job.id)
        .order_by(AssignmentJobRow.row)
    )
    for row, email, made, reason in rows:
        if made is not None:
            assigned.append(json.loads(made))
        else:
            failed.append({"row": row, "email": email, "reason": reason})
    return {"assigned": assigned, "failed": failed}


def forget_people(job_pk: int) -> None:
    """Drop a finished job's parsed rows from this worker's cache."""
    _people_cache.pop(job_pk, None)
