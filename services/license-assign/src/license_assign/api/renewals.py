"""The renewals search: an account's licenses in groups that renew together."""

from __future__ import annotations

from flask import Blueprint, request

from license_assign.api.access import acting_on, keyset_args
from license_assign.queries import lists
from portal_contracts.api.licenses import RenewalSearchArgs
from portal_runtime.web import current_service, schema

bp = Blueprint("renewals", __name__)


@bp.get("/customers/<customer_id>/renewals")
def search_renewals(customer_id: str):
    identity = acting_on(customer_id)
    raw = request.args.to_dict()
    if request.args.getlist("license_id"):
        raw["license_id"] = request.args.getlist("license_id")
    args = schema(RenewalSearchArgs).load(raw)
    limit, cursor = keyset_args()
    service = current_service()
    with service.sessions() as session:
        return lists.renewable(
            session, identity, customer_id, args, service.clock.today(), limit, cursor
        )
