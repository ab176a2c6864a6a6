"""How `make test` shares its two processes (pytest-xdist, ``-n 2``).

Tests that share one whole system stay in one process: every test of ``tests/`` (the system on
the real servers), every test of ``portal/tests/`` (the embedded system with demo data). The rest
is spread over both, a module at a time (its module-scoped fixtures are built once). xdist's own
``--dist loadgroup`` would do this with markers, but it cannot rename test ids under pytest 9.
"""

from __future__ import annotations

import pytest

SHARED_SYSTEMS = {"tests/": "e2e", "portal/tests/": "portal"}


@pytest.hookimpl(optionalhook=True)  # without xdist (-p no:xdist) there is nothing to schedule
def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    class SharedSystems(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            for prefix, group in SHARED_SYSTEMS.items():
                if nodeid.startswith(prefix):
                    return group
            return super()._split_scope(nodeid)

    return SharedSystems(config, log)
