"""The route of assignment jobs: how far a big upload has got, and each row's outcome."""

from __future__ import annotations

from flask import Blueprint

from license_assign import queries
from license_assign.api.access import acting_on
from portal_runtime.web import current_service

bp = Blueprint("assignment_jobs", __name__)


@bp.get("/customers/<customer_id>/assignment-jobs/<job_id>")
def get_assignment_job(customer_id: str, job_id: str):
    acting_on(customer_id)
    with current_service().sessions() as session:
        return queries.assignment_job(session, customer_id, job_id)
