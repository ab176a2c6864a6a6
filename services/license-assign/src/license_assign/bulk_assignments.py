"""Assigning many people at once: a set of rows per statement, and big uploads as jobs.

:func:`assign_people` gives a batch of people their licenses with a few statements per batch
(who already holds the product, then as many free seats as are wanted, locked and skipped by
concurrent takers), so a row costs the same in an account of a hundred seats or of fifty
thousand. The rows keep the order and the outcomes of one-by-one assignment: a row fails when its
person already holds the product (also by an earlier row of the same upload) or no free seat is
left.

An upload of more than ``assignment_sync_rows`` rows becomes an :class:`AssignmentJob`: the
request answers ``202`` with the job at once and the worker assigns it in batches, each batch's
assignments committed with its rows' outcomes and the job's progress.
"""

from __future__ import annotations

import json

from sqlalchemy import insert, select

from license_assign import views
from license_assign.assignments import Licensing, complete_assignment, usable
from license_assign.issuance import chunks
from license_assign.models import AssignmentJob, AssignmentJobRow, Customer, License
from portal_runtime import logs
from portal_runtime.uow import UnitOfWork

log = logs.get("license_assign.bulk_assignments")

# Rows assigned per transaction by the worker: progress shows batch by batch.
BATCH_ROWS = 500
# A job whose batch keeps failing is given up after this many tries, its rest reported failed.
MAX_ATTEMPTS = 3


def already_holds(product: str) -> str:
    return f"Already holds a {product} license in this account."


def no_free(product: str, team_pk: int | None) -> str:
    return f"No free {product} license left" + (" in this team." if team_pk else ".")


def assign_people(
    uow: UnitOfWork,
    ctx: Licensing,
    customer: Customer,
    product: str,
    team_pk: int | None,
    people: list[tuple[int, dict]],
) -> tuple[list[dict], list[dict]]:
    """Assign ``people`` (``(row, person)``, in row order) free licenses of ``product``;
    the assignments made (in row order) and the rows that failed, ``{row, email, reason}``."""
    session = uow.session
    today, now = ctx.today(), ctx.clock.now()
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
        complete_assignment(uow, ctx, customer, lic, person, "assigned")
        holders.add(email)
        assigned.append(views.assigned_view(lic, row))
    return assigned, failed


# -- jobs ---------------------------------------------------------------------------------------


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
        status="queued",
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
        .where(AssignmentJob.status.in_(("queued", "running")))
        .order_by(AssignmentJob.id)
        .limit(1)
        .with_for_update(skip_locked=True, of=AssignmentJob)
    )


def run_batch(service) -> bool:
    """Assign the next batch of the oldest unfinished job; False when there is none (or the
    batch failed: the next run tries it again, a few times at most)."""
    ctx: Licensing = service.licensing
    job_pk = None
    try:
        with service.uow() as uow:
            job = next_job(uow.session)
            if job is None:
                return False
            job_pk, job_id = job.id, job.job_id
            people = job_people(job)
            batch = people[job.processed : job.processed + BATCH_ROWS]
            customer = uow.session.get(Customer, job.customer_id)
            assigned, failed = assign_people(uow, ctx, customer, job.product, job.team_pk, batch)
            record_outcomes(uow.session, job, assigned, failed)
            job.processed += len(batch)
            job.assigned_count += len(assigned)
            job.failed_count += len(failed)
            job.status = "running"
            done = job.processed >= len(people)
            if done:
                job.status = "done"
                job.finished_at = ctx.clock.now()
            uow.commit()
    except Exception as exc:
        if job_pk is None:
            raise
        note_failure(service, job_pk, exc)
        return False
    if done:
        _people_cache.pop(job_pk, None)
        log.info("assignment_job.done", job_id=job_id, rows=len(people))
    return True


def note_failure(service, job_pk: int, exc: Exception) -> None:
    """Count a failed batch; after :data:`MAX_ATTEMPTS` the job's remaining rows are reported
    as not assigned (nothing of the failed batch was: it rolled back as a whole)."""
    error = f"{type(exc).__name__}: {exc}"
    log.error("assignment_job.batch_failed", job_pk=job_pk, error=error)
    with service.uow() as uow:
        job = uow.session.get(AssignmentJob, job_pk, with_for_update=True)
        job.attempts += 1
        job.error = error[:2000]
        if job.attempts >= MAX_ATTEMPTS:
            rest = job_people(job)[job.processed :]
            reason = "Not assigned: the job stopped on an internal error; upload these rows again."
            failed = [{"row": r, "email": p["email"], "reason": reason} for r, p in rest]
            record_outcomes(uow.session, job, [], failed)
            job.processed += len(rest)
            job.failed_count += len(failed)
            job.status = "failed"
            job.finished_at = service.licensing.clock.now()
            _people_cache.pop(job_pk, None)
        uow.commit()


def run_assignment_jobs(service) -> int:
    """The worker's job: batches until no job is waiting; how many batches ran."""
    batches = 0
    while run_batch(service):
        batches += 1
    return batches


def job_view(session, job: AssignmentJob) -> dict:
    """The job's progress and, once finished, every row's outcome as the synchronous route
    reports it: ``{assigned: [...], failed: [{row, email, reason}]}``."""
    result = None
    if job.status in ("done", "failed"):
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
        result = {"assigned": assigned, "failed": failed}
    body = views.ASSIGNMENT_JOB.dump(
        {
            "job_id": job.job_id,
            "status": job.status,
            "product": job.product,
            "team_id": job.team.team_id if job.team else None,
            "rows": job.total_rows,
            "processed": job.processed + job.rejected,
            "assigned": job.assigned_count,
            "failed": job.failed_count,
            "created_at": job.created_at,
            "finished_at": job.finished_at,
        }
    )
    body["result"] = result  # the rows' outcomes were stored already in their public shape
    return body
