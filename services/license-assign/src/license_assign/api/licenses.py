"""Routes of an account's licenses: the list, one license, its activation code, revoking it
(and the monthly cap), the people holding licenses, and the licensing report."""

from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, request, stream_with_context

from license_assign import queries, views
from license_assign.api.access import acting_on, handle, keyset_args, page_args
from license_assign.commands import RevokeLicense
from license_assign.queries import lists
from portal_contracts.api.licenses import LicenseListArgs
from portal_runtime.web import current_service, schema

bp = Blueprint("licenses", __name__)


@bp.get("/customers/<customer_id>/licenses")
def list_licenses(customer_id: str):
    acting_on(customer_id)
    args = schema(LicenseListArgs).load(request.args.to_dict())
    service = current_service()
    with service.sessions() as session:
        return queries.licenses(session, customer_id, args, service.clock.today(), *page_args())


@bp.get("/customers/<customer_id>/licenses/<license_id>")
def get_license(customer_id: str, license_id: str):
    acting_on(customer_id)
    service = current_service()
    with service.sessions() as session:
        return queries.one_license(session, customer_id, license_id, service.clock.today())


@bp.get("/customers/<customer_id>/licenses/<license_id>/activation-code")
def get_activation_code(customer_id: str, license_id: str):
    acting_on(customer_id)
    with current_service().sessions() as session:
        return queries.activation_code(session, customer_id, license_id)


@bp.post("/customers/<customer_id>/licenses/<license_id>/revoke")
def revoke_license(customer_id: str, license_id: str):
    acting_on(customer_id)
    return handle(RevokeLicense(customer_id, license_id))


@bp.get("/customers/<customer_id>/revocation-limit")
def revocation_limit(customer_id: str):
    """How many revocations the account may make per month (None: no cap) and has made."""
    acting_on(customer_id)
    service = current_service()
    cap = service.config.monthly_revocation_cap
    with service.sessions() as session:
        return queries.revocation_limit(session, customer_id, cap, service.clock.now())


@bp.get("/customers/<customer_id>/users")
def list_users(customer_id: str):
    acting_on(customer_id)
    limit, cursor = keyset_args()
    service = current_service()
    with service.sessions() as session:
        return lists.users(
            session, customer_id, request.args.get("email"), service.clock.today(), limit, cursor
        )


@bp.get("/customers/<customer_id>/licensing-report")
def licensing_report(customer_id: str):
    """The account's licenses as CSV, streamed: the first bytes leave at once."""
    acting_on(customer_id)
    service = current_service()
    today = service.clock.today()

    def generate():
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(views.REPORT_COLUMNS)
        yield out.getvalue()
        with service.sessions() as session:
            for batch in lists.report_batches(session, customer_id):
                out.seek(0)
                out.truncate()
                writer.writerows(views.report_line(row, today) for row in batch)
                yield out.getvalue()

    return Response(
        stream_with_context(generate()),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="licensing-report-{customer_id}.csv"'
        },
    )
