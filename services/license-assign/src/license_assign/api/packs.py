"""The route of an account's subscription packs: subscriptions per (product, end date)."""

from __future__ import annotations

from flask import Blueprint

from license_assign.api.access import acting_on, keyset_args
from license_assign.queries import lists
from portal_runtime.web import current_service

bp = Blueprint("packs", __name__)


@bp.get("/customers/<customer_id>/subscription-packs")
def list_packs(customer_id: str):
    identity = acting_on(customer_id)
    limit, cursor = keyset_args()
    with current_service().sessions() as session:
        return lists.packs(session, identity, customer_id, limit, cursor)
