"""Renew or copy an order: the cart lines an order of the caller's becomes.

- **renew**: every license of the order (its own and its lines'), read from license-assign, in
  renewal lines grouped by product and end date (licenses of one line must share both), each at
  the term the order bought that product for (1 year if it did not say);
- **copy**: the order's new-subscription lines again, with their team and subscription pack.

An order with nothing to renew or copy is a 409.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from portal_runtime.errors import Conflict

if TYPE_CHECKING:  # the ports module brings the HTTP client with it
    from cart_quote.ports import Licenses


def renewal_lines(order: dict, licenses: Licenses) -> list[dict]:
    customer_id = order["customer"]["id"]
    ids = list(order.get("license_ids") or [])
    for line in order.get("lines") or []:
        ids.extend(line.get("license_ids") or [])
    ids = list(dict.fromkeys(ids))
    if not ids:
        raise Conflict("This order has no licenses to renew yet.")
    groups: dict[tuple, list[str]] = defaultdict(list)
    for lic in licenses.get(customer_id, ids):
        groups[(lic["product"], str(lic["valid_until"]))].append(lic["license_id"])
    if not groups:
        raise Conflict("None of this order's licenses can be renewed.")
    terms = {line["product"]: line.get("term_years") or 1 for line in order.get("lines") or []}
    return [
        {"kind": "renewal", "license_ids": lids, "term_years": terms.get(product, 1)}
        for (product, _), lids in sorted(groups.items())
    ]


def copied_lines(order: dict) -> list[dict]:
    lines = [
        {
            "kind": "new",
            "product": line["product"],
            "quantity": line["quantity"],
            "term_years": line.get("term_years") or 1,
            "team_id": line.get("team_id"),
            "team_name": None if line.get("team_id") else line.get("team_name"),
            "subscription_pack": line.get("subscription_pack"),
        }
        for line in order.get("lines") or []
        if line.get("kind") == "new"
    ]
    if not lines:
        raise Conflict("This order has no new-subscription lines to copy.")
    return lines
