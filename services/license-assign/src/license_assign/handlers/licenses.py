"""Assigning licenses (one, or many at once: big uploads become jobs) and revoking them."""

from __future__ import annotations

from license_assign import accounts, bulk_assignments, views
from license_assign.assignments import (
    complete_assignment,
    find_license,
    holds_product,
    require_known_product,
    revocations_this_month,
    revoke,
    take,
)
from license_assign.commands import AssignLicense, AssignLicenses, RevokeLicense
from license_assign.config import LicenseAssignConfig
from license_assign.ports import CodeSigner
from portal_contracts.api.licenses import ASSIGN_AT_ONCE_ROWS
from portal_runtime.clock import Clock
from portal_runtime.errors import Conflict
from portal_runtime.uow import UnitOfWork


def revoke_license(
    cmd: RevokeLicense, uow: UnitOfWork, clock: Clock, config: LicenseAssignConfig
) -> dict:
    # Locked: revocations at once count one after another against the monthly cap.
    customer = accounts.require_customer(uow.session, cmd.customer_id, lock=True)
    lic = find_license(uow.session, cmd.customer_id, cmd.license_id, lock=True)
    if lic.assignee_email is None:
        raise Conflict("The license is not assigned to anyone.")
    cap = config.monthly_revocation_cap
    if cap is not None and revocations_this_month(uow.session, cmd.customer_id, clock.now()) >= cap:
        raise Conflict(f"This account may revoke at most {cap} licenses per month.")
    revoke(uow, customer, lic, clock.now())
    return views.license_view(lic, clock.today())


def assign_license(
    cmd: AssignLicense,
    uow: UnitOfWork,
    codes: CodeSigner,
    clock: Clock,
    config: LicenseAssignConfig,
) -> dict:
    person, today = cmd.person, clock.today()
    # Locked: assignments at once in one account take turns on "one license per person".
    customer = accounts.require_customer(uow.session, cmd.customer_id, lock=True)
    lic = find_license(uow.session, cmd.customer_id, cmd.license_id, lock=True)
    if lic.status(today) != "available":
        raise Conflict(f"The license is {lic.status(today)}, not available.")
    if holds_product(uow.session, cmd.customer_id, lic.product, person["email"], today):
        raise Conflict(f"{person['email']} already holds a {lic.product} license.")
    if not take(uow.session, lic, person["email"], clock.now()):
        raise Conflict("The license was assigned to someone else meanwhile.")
    complete_assignment(
        uow, customer, lic, person, "assigned", codes=codes, clock=clock, config=config
    )
    return {"assigned": [views.assigned_view(lic, 1)], "failed": []}


def assign_licenses(
    cmd: AssignLicenses,
    uow: UnitOfWork,
    codes: CodeSigner,
    clock: Clock,
    config: LicenseAssignConfig,
) -> dict:
    """Up to ``ASSIGN_AT_ONCE_ROWS`` rows at once: ``{assigned, failed}``; more become a job
    (the worker assigns them): the job's view, with its ``job_id``."""
    customer = accounts.require_customer(uow.session, cmd.customer_id)
    product = require_known_product(uow.session, cmd.customer_id, cmd.product)
    team_pk = None
    if cmd.team_id:
        team_pk = accounts.require_team(uow.session, cmd.customer_id, cmd.team_id).id
    people, failed = list(cmd.people), list(cmd.failed)
    if len(people) + len(failed) > ASSIGN_AT_ONCE_ROWS:
        job = bulk_assignments.create_job(
            uow.session, cmd.customer_id, product, team_pk, people, failed, clock.now()
        )
        uow.wake(bulk_assignments.WAKE)  # the worker's job starts on it once this commits
        return views.assignment_job_view(job, None)
    assigned, refused = bulk_assignments.assign_people(
        uow, customer, product, team_pk, people, codes=codes, clock=clock, config=config
    )
    return {"assigned": assigned, "failed": sorted(failed + refused, key=lambda f: f["row"])}
