"""license-assign's HTTP API, one module per resource: each route turns the request into a
command (``service.handle``) or a query, and the answer into JSON. Who may call is in
``access``."""

from __future__ import annotations

from license_assign.api import (
    accounts,
    activation_codes,
    assignment_jobs,
    assignments,
    internal,
    invitations,
    licenses,
    my_licenses,
    packs,
    renewals,
    teams,
)

BLUEPRINTS = (
    licenses.bp,
    assignments.bp,
    assignment_jobs.bp,
    teams.bp,
    packs.bp,
    renewals.bp,
    invitations.bp,
    activation_codes.bp,
    my_licenses.bp,
    accounts.bp,
    internal.bp,
)
