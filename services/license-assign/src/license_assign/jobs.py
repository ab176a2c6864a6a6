"""The license-assign worker's scheduled jobs: payment grace and due downgrades, and the
batches of big assignment uploads."""

from __future__ import annotations

from sqlalchemy import select

from license_assign import bulk_assignments
from license_assign.assignments import issue_code, publish_assigned
from license_assign.config import LicenseAssignConfig
from license_assign.fallback import refresh_fallback
from license_assign.models import AssignmentJob, Customer, License
from license_assign.renewals import settle_downgrade
from portal_runtime import logs
from portal_runtime.service import Job

log = logs.get("license_assign.handlers")
jobs_log = logs.get("license_assign.bulk_assignments")


def enforce_grace_and_downgrades(service) -> int:
    """Suspend licenses whose payment grace has passed; apply downgrades that are due."""
    clock, codes, config = service.clock, service.codes, service.config
    today = clock.today()
    changed = 0
    with service.uow() as uow:
        overdue = uow.session.scalars(
            select(License)
            .where(
                License.grace_until.is_not(None),
                License.grace_until < today,
                License.suspended.is_(False),
                License.removed_at.is_(None),
            )
            # Several workers may run this job: each row is handled by one of them.
            .with_for_update(skip_locked=True, of=License)
        ).all()
        for lic in overdue:
            lic.suspended = True
            changed += 1
        due = uow.session.scalars(
            select(License)
            .where(
                License.downgrade_on.is_not(None),
                License.downgrade_on <= today,
                License.removed_at.is_(None),
            )
            .with_for_update(skip_locked=True, of=License)
        ).all()
        for lic in due:
            settle_downgrade(lic, today)
            refresh_fallback(uow.session, lic, today)
            if lic.assignee_email:
                issue_code(lic, codes, clock)
                customer = uow.session.get(Customer, lic.customer_id)
                publish_assigned(uow, customer, lic, "renewed", clock=clock, config=config)
            changed += 1
        uow.commit()
    if changed:
        log.info("licenses.housekeeping", suspended=len(overdue), downgraded=len(due))
    return changed


# -- assignment jobs ------------------------------------------------------------------------------


def run_batch(service) -> bool:
    """Assign the next batch of the oldest unfinished job; False when there is none (or the
    batch failed: the next run tries it again, a few times at most)."""
    clock = service.clock
    job_pk = None
    try:
        with service.uow() as uow:
            job = bulk_assignments.next_job(uow.session)
            if job is None:
                return False
            job_pk, job_id = job.id, job.job_id
            people = bulk_assignments.job_people(job)
            start = job.processed
            batch = people[start : start + bulk_assignments.BATCH_ROWS]
            customer = uow.session.get(Customer, job.customer_id)
            assigned, failed = bulk_assignments.assign_people(
                uow,
                customer,
                job.product,
                job.team_pk,
                batch,
                codes=service.codes,
                clock=clock,
                config=service.config,
            )
            bulk_assignments.record_outcomes(uow.session, job, assigned, failed)
            job.record_batch(len(batch), len(assigned), len(failed), len(people), clock.now())
            done = job.finished
            uow.commit()
    except Exception as exc:
        if job_pk is None:
            raise
        note_failure(service, job_pk, exc)
        return False
    if done:
        bulk_assignments.forget_people(job_pk)
        jobs_log.info("assignment_job.done", job_id=job_id, rows=len(people))
    return True


def note_failure(service, job_pk: int, exc: Exception) -> None:
    """Count a failed batch; after ``MAX_ATTEMPTS`` the job's remaining rows are reported
    as not assigned (nothing of the failed batch was: it rolled back as a whole)."""
    error = f"{type(exc).__name__}: {exc}"
    jobs_log.error("assignment_job.batch_failed", job_pk=job_pk, error=error)
    with service.uow() as uow:
        job = uow.session.get(AssignmentJob, job_pk, with_for_update=True)
        job.attempts += 1
        job.error = error[:2000]
        if job.attempts >= bulk_assignments.MAX_ATTEMPTS:
            rest = bulk_assignments.job_people(job)[job.processed :]
            reason = "Not assigned: the job stopped on an internal error; upload these rows again."
            failed = [{"row": r, "email": p["email"], "reason": reason} for r, p in rest]
            bulk_assignments.record_outcomes(uow.session, job, [], failed)
            job.give_up(len(rest), service.clock.now())
            bulk_assignments.forget_people(job_pk)
        uow.commit()


def run_assignment_jobs(service) -> int:
    """The worker's job: batches until no job is waiting; how many batches ran."""
    batches = 0
    while run_batch(service):
        batches += 1
    return batches


def jobs(config: LicenseAssignConfig) -> tuple[Job, ...]:
    return (
        Job(
            "license-grace-and-downgrades",
            config.grace_check_seconds,
            enforce_grace_and_downgrades,
        ),
        # Woken by each queued job; the interval is the sweep that retries a failed batch.
        Job(
            "license-assignment-jobs",
            config.assignment_job_seconds,
            run_assignment_jobs,
            wake=bulk_assignments.WAKE,
        ),
    )
