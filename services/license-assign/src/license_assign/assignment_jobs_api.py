"""The routes of assignment jobs: how far a big upload has got, and each row's outcome."""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy import select

from license_assign.api import acting_on
from license_assign.bulk_assignments import job_view
from license_assign.models import AssignmentJob
from portal_runtime.problems import not_found
from portal_runtime.web import current_service

bp = Blueprint("license_assign_jobs", __name__)


@bp.get("/customers/<customer_id>/assignment-jobs/<job_id>")
def get_assignment_job(customer_id: str, job_id: str):
    acting_on(customer_id)
    with current_service().sessions() as session:
        job = session.scalar(
            select(AssignmentJob).where(
                AssignmentJob.customer_id == customer_id,
                AssignmentJob.job_id == job_id.strip().upper(),
            )
        )
        if job is None:
            raise not_found("assignment job")
        return job_view(session, job)
