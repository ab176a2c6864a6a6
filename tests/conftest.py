"""End-to-end harness: the whole portal started as processes, the way ``make run`` starts it.

``system`` runs on the real PostgreSQL (a fresh database per service) and RabbitMQ (a name prefix
for this run), with the local mail sink; ``embedded_system()`` runs on the embedded default
(SQLite, the filesystem bus). Tests drive them only through the gateway and the mail sink.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from portal_contracts import demo
from portal_system.client import PortalClient
from portal_system.launcher import (
    System,
    clean_environment,
    free_port_offset,
    on_real_infrastructure,
    running,
)
from portal_system.testing import login

# Test systems look for free ports from these offsets up, above the ones `make run` uses.
REAL_PORT_OFFSET = 2000
EMBEDDED_PORT_OFFSET = 3000


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).parent == here:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def system(tmp_path_factory):
    # Short retry delays keep the failure tests quick; the behaviour is the same. The fuzzing
    # run fails hundreds of customer entries on purpose: the per-reseller cap (tested in
    # gateway/tests) would otherwise block that reseller's later tests on this shared system.
    with (
        on_real_infrastructure(
            tmp_path_factory.mktemp("portal-real"),
            REAL_PORT_OFFSET,
            {
                "RETRY_FIRST_DELAY": "0.2",
                "RETRY_MAX_DELAY": "5",
                "GATEWAY_ENTRY_FAILURES_PER_RESELLER": "100000",
                "GATEWAY_ENTRY_ATTEMPTS_PER_RESELLER": "100000",
            },
        ) as system,
        running(system),
    ):
        yield system


@pytest.fixture
def embedded_system(tmp_path_factory):
    """A fresh system on the embedded default (SQLite, filesystem bus, local mail sink)."""
    system = System(
        clean_environment(),
        tmp_path_factory.mktemp("portal-embedded"),
        free_port_offset(EMBEDDED_PORT_OFFSET),
    )
    with running(system):
        yield system


@pytest.fixture
def reseller(system) -> PortalClient:
    return login(system, demo.DEMO_RESELLER_USER)
