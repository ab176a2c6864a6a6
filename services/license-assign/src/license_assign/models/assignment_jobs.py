"""Big assignment uploads the worker assigns in batches, and the outcome of each row."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from license_assign.models.base import Base
from license_assign.models.licenses import Team
from portal_runtime.db import UTCDateTime, utcnow
from portal_runtime.errors import Conflict


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"  # given up after repeated failures; the rest reported not assigned


UNFINISHED = (JobStatus.QUEUED, JobStatus.RUNNING)


class AssignmentJob(Base):
    """A big assignment upload (CSV or JSON list) the worker assigns in batches.

    The rows wait in ``people`` (JSON: ``[[row, {first_name, last_name, email}], ...]``);
    ``processed`` says how many of them are done, and each batch commits its assignments and its
    rows' outcomes with the new ``processed`` in one transaction: a worker that dies mid-job
    leaves it where the last batch ended, and the next run goes on from there.
    """

    __tablename__ = "assignment_jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # Public id, ``AJ-<n>``; set right after the row has its key.
    job_id: Mapped[str | None] = mapped_column(String(40), unique=True, nullable=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    product: Mapped[str] = mapped_column(String(20))
    team_pk: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), nullable=True)
    status: Mapped[str] = mapped_column(String(10), default=JobStatus.QUEUED, index=True)
    people: Mapped[str] = mapped_column(Text)
    total_rows: Mapped[int] = mapped_column(Integer)
    # Rows the upload itself rejected (bad email, missing name): failed before the job began.
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    # Rows of ``people`` handled so far (rows the upload itself rejected are not counted here).
    processed: Mapped[int] = mapped_column(Integer, default=0)
    assigned_count: Mapped[int] = mapped_column(Integer, default=0)
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    team: Mapped[Team | None] = relationship()

    @property
    def finished(self) -> bool:
        return self.status in (JobStatus.DONE, JobStatus.FAILED)

    def record_batch(self, rows: int, assigned: int, failed: int, total: int, now) -> None:
        """A batch of ``rows`` done: running, or done once all ``total`` rows are."""
        if self.finished:
            raise Conflict(f"The assignment job is {self.status} already.")
        self.processed += rows
        self.assigned_count += assigned
        self.failed_count += failed
        self.status = JobStatus.RUNNING
        if self.processed >= total:
            self.status = JobStatus.DONE
            self.finished_at = now

    def give_up(self, rest: int, now: dt.datetime) -> None:
        """Stopped on repeated errors: the ``rest`` of the rows count as failed."""
        self.processed += rest
        self.failed_count += rest
        self.status = JobStatus.FAILED
        self.finished_at = now


class AssignmentJobRow(Base):
    """What happened to one row of a job: the assignment made (JSON), or why not."""

    __tablename__ = "assignment_job_rows"
    __table_args__ = (UniqueConstraint("job_pk", "row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_pk: Mapped[int] = mapped_column(ForeignKey("assignment_jobs.id"))
    row: Mapped[int] = mapped_column(Integer)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    # The assignment as the synchronous route reports it (JSON), or None when it failed.
    assigned: Mapped[str | None] = mapped_column(Text, nullable=True)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
