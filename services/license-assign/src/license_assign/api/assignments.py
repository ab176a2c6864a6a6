"""The assignments route: one named license to a person, or free licenses of a product to many
people (JSON, or an uploaded CSV); a big upload answers ``202`` with its assignment job."""

from __future__ import annotations

from flask import Blueprint, request

from license_assign.api.access import acting_on, handle, team_named_by
from license_assign.assignments import person_of
from license_assign.bulk_assignments import parse_csv
from license_assign.commands import AssignLicense, AssignLicenses
from portal_contracts.api.licenses import AssignmentRequest, CsvAssignmentArgs
from portal_runtime.errors import Invalid
from portal_runtime.web import json_body, schema

bp = Blueprint("assignments", __name__)

CSV_TYPES = ("text/csv", "application/csv")


@bp.post("/customers/<customer_id>/assignments")
def assign_licenses(customer_id: str):
    acting_on(customer_id)
    if (request.mimetype or "").lower() in CSV_TYPES:
        args = schema(CsvAssignmentArgs).load(request.args.to_dict())
        if not (args.get("product") or "").strip():
            raise Invalid("product", "Give the product in the query string: ?product=PC.")
        people, failed = parse_csv(request.get_data(as_text=False))
        command = AssignLicenses(
            customer_id, args["product"], args.get("team_id"), tuple(people), tuple(failed)
        )
    else:
        data = schema(AssignmentRequest).load(json_body())
        if "license_id" in data:
            return handle(
                AssignLicense(customer_id, data["license_id"], person_of(data["assignee"]))
            )
        people = [(row, person_of(p)) for row, p in enumerate(data["assignees"], start=1)]
        command = AssignLicenses(customer_id, data["product"], data.get("team_id"), tuple(people))
    with team_named_by("team_id"):
        body = handle(command)
    if "job_id" in body:
        location = f"/customers/{customer_id}/assignment-jobs/{body['job_id']}"
        return body, 202, {"Location": location}
    return body
