"""The perpetual fallback right (DOMAIN.md, "Licenses").

A license whose paid subscription covers at least 12 consecutive months carries a fallback right
to the version that was current at the start of that 12-month period, looked up in a per-product
version table. Co-terming under a year gives none; a downgrade gives none within its year.

Which 12-month period: the latest whole year of the current consecutive paid run that has already
begun (``paid_since + k years``, the largest ``k`` with that year fully paid and its start not in
the future). A one-year subscription falls back to the version at its start; each renewal that
completes another paid year moves the fallback to the version current at that year's start.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from license_assign.models import License, ProductVersion

# The release table the seed loads (and the one used when none is stored for a product).
RELEASES: tuple[tuple[str, dt.date], ...] = (
    ("2024.1", dt.date(2024, 4, 4)),
    ("2024.2", dt.date(2024, 8, 1)),
    ("2024.3", dt.date(2024, 11, 14)),
    ("2025.1", dt.date(2025, 4, 16)),
    ("2025.2", dt.date(2025, 8, 4)),
    ("2025.3", dt.date(2025, 11, 13)),
    ("2026.1", dt.date(2026, 4, 8)),
    ("2026.2", dt.date(2026, 8, 5)),
    ("2026.3", dt.date(2026, 11, 12)),
)


def add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def releases_of(session: Session, product: str) -> list[tuple[str, dt.date]]:
    """The product's stored releases, oldest first: read once per session (an order of
    many seats asks for each seat; the table is written only by the seed, before any license)."""
    known = session.info.setdefault("product_releases", {})
    if product not in known:
        known[product] = list(
            session.execute(
                select(ProductVersion.version, ProductVersion.released_on)
                .where(ProductVersion.product == product)
                .order_by(ProductVersion.released_on)
            ).tuples()
        )
    return known[product]


def version_at(session: Session, product: str, day: dt.date) -> str | None:
    """The product's version current on ``day``: the latest released on or before it (from
    the built-in ``RELEASES`` for a product with none stored)."""
    releases = releases_of(session, product) or RELEASES
    current = [version for version, released in releases if released <= day]
    return current[-1] if current else None


def fallback_period_start(
    paid_since: dt.date, valid_until: dt.date, today: dt.date
) -> dt.date | None:
    """Start of the latest fully paid 12-month period already begun, or None if none is."""
    if add_years(paid_since, 1) > valid_until:
        return None
    years = 0
    while add_years(paid_since, years + 2) <= valid_until and add_years(
        paid_since, years + 1
    ) <= max(today, paid_since):
        years += 1
    return add_years(paid_since, years)


def refresh_fallback(session: Session, lic: License, today: dt.date) -> None:
    """Recompute ``lic.fallback_version`` from its paid run, its product and any downgrade."""
    if lic.no_fallback_until is not None and lic.valid_until <= lic.no_fallback_until:
        lic.fallback_version = None
        return
    start = fallback_period_start(lic.paid_since, lic.valid_until, today)
    lic.fallback_version = None if start is None else version_at(session, lic.product, start)
