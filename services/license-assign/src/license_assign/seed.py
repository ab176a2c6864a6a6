"""Demo data (API.md, "Demo data"): Acme Corp and Globex, their teams, packs and licenses, and the
per-product version table. Idempotent: a second run changes nothing and publishes nothing."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from license_assign import accounts
from license_assign.assignments import issue_code
from license_assign.fallback import RELEASES, refresh_fallback
from license_assign.models import (
    License,
    LicenseOrder,
    ManagingReseller,
    OrderRecord,
    ProductVersion,
    SubscriptionPack,
)
from portal_contracts import demo

# Seeded licenses, by fixed id so that documentation and tests can name them:
# (license id, product, days from today it started, days from today it ends, holder)
ACME_PACK_ORDER = "O-SEED-000001"
ACME_PACK_PO = "PO-ACME-2025-17"
ACME_LICENSES = (
    ("L-ACME0001", "PC", -300, 65, ("Ada", "Lovelace", "ada@acme.example")),
    ("L-ACME0002", "PC", -300, 65, None),
    ("L-ACME0003", "PC", -300, 65, None),
    ("L-ACME0004", "ALL", -200, 165, ("Grace", "Hopper", "grace@acme.example")),
    ("L-ACME0005", "ALL", -200, 165, None),
    ("L-ACME0006", "II", -400, -35, None),
)
GLOBEX_ORDER = "O-SEED-000002"
GLOBEX_LICENSES = (
    ("L-GLBX0001", "WS", -100, 265, ("Hal", "Abelson", "hal@globex.example")),
    ("L-GLBX0002", "WS", -100, 265, None),
)


def seed(service) -> None:
    clock, codes = service.clock, service.codes
    today = clock.today()
    with service.uow() as uow:
        session = uow.session
        for product in demo.PRODUCTS:
            known = set(
                session.scalars(
                    select(ProductVersion.version).where(ProductVersion.product == product)
                )
            )
            for version, released_on in RELEASES:
                if version not in known:
                    session.add(
                        ProductVersion(product=product, version=version, released_on=released_on)
                    )
        session.flush()

        acme = accounts.ensure_customer(session, demo.ACME_ID, demo.ACME_NAME)
        accounts.add_person(acme, demo.ACME_CONTACT, "contact")
        accounts.add_person(acme, demo.ACME_ADMIN, "admin")
        _demo_admin(acme, demo.ACME_ADMIN, "Acme", "Admin", clock.now())
        globex = accounts.ensure_customer(session, demo.GLOBEX_ID, demo.GLOBEX_NAME)
        accounts.add_person(globex, demo.GLOBEX_CONTACT, "contact")
        if not any(m.reseller_id == demo.DEMO_RESELLER_ID for m in globex.managing_resellers):
            globex.managing_resellers.append(
                ManagingReseller(
                    reseller_id=demo.DEMO_RESELLER_ID,
                    reseller_name=demo.DEMO_RESELLER_NAME,
                    since=clock.now(),
                )
            )
        session.flush()

        made = dict(clock=clock, codes=codes, today=today)
        _licenses(session, acme.id, ACME_PACK_ORDER, ACME_PACK_PO, ACME_LICENSES, **made)
        _licenses(session, globex.id, GLOBEX_ORDER, None, GLOBEX_LICENSES, **made)
        uow.commit()


def _demo_admin(customer, email: str, first: str, last: str, now) -> None:
    """The demo admin signs in with the demo password (the gateway's seed): already active,
    under the same user id as there."""
    for person in customer.admins:
        if person.email == email and person.user_id is None:
            person.user_id = demo.user_id_of(email)
            person.first_name, person.last_name = first, last
            person.invited_at = person.activated_at = now


def _licenses(session, customer_id, order_number, po_number, specs, *, clock, codes, today):
    team = accounts.default_team(session, customer_id)
    has_pack = session.scalar(
        select(SubscriptionPack.id).where(SubscriptionPack.customer_id == customer_id).limit(1)
    )
    if has_pack is not None:
        return
    pack = accounts.create_pack(session, customer_id)
    first_start = today + dt.timedelta(days=min(s[2] for s in specs))
    session.add(
        OrderRecord(
            order_number=order_number,
            customer_id=customer_id,
            po_number=po_number,
            # The demo story: Demo Reseller sold both accounts their first licenses.
            reseller_id=demo.DEMO_RESELLER_ID,
            placed_at=dt.datetime.combine(first_start, dt.time(9), tzinfo=dt.UTC),
        )
    )
    session.flush()
    for license_id, product, start, end, holder in specs:
        lic = License(
            license_id=license_id,
            customer_id=customer_id,
            team_pk=team.id,
            pack_pk=pack.id,
            product=product,
            valid_from=today + dt.timedelta(days=start),
            valid_until=today + dt.timedelta(days=end),
            paid_since=today + dt.timedelta(days=start),
            suspended=False,
        )
        lic.team, lic.pack = team, pack
        refresh_fallback(session, lic, today)
        if holder:
            lic.assignee_first_name, lic.assignee_last_name, lic.assignee_email = holder
            lic.assigned_at = clock.now()
            issue_code(lic, codes, clock)
        session.add(lic)
        session.flush()
        session.add(
            LicenseOrder(
                license_pk=lic.id,
                order_number=order_number,
                line_no=1,
                kind="new",
                po_number=po_number,
            )
        )
