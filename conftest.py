"""How `make test` shares its two processes (pytest-xdist, ``-n 2``).

Tests that share one whole system stay in one process: the tests of ``tests/`` (the system on
the real servers), every test of ``portal/tests/`` (the embedded system with demo data). The rest
is spread over both, a module at a time (its module-scoped fixtures are built once), with the
end-to-end modules that start systems of their own (the fault run, the traced system). xdist's own
``--dist loadgroup`` would do this with markers, but it cannot rename test ids under pytest 9.
"""

from __future__ import annotations

import pytest

SHARED_SYSTEMS = {"tests/": "e2e", "portal/tests/": "portal"}
OWN_SYSTEMS = ("tests/test_e2e_chaos.py", "tests/test_e2e_observability.py")


@pytest.hookimpl(optionalhook=True)  # without xdist (-p no:xdist) there is nothing to schedule
def pytest_xdist_make_scheduler(config, log):
    from xdist.scheduler import LoadScopeScheduling

    class SharedSystems(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if nodeid.startswith(OWN_SYSTEMS):
                return super()._split_scope(nodeid)
            for prefix, group in SHARED_SYSTEMS.items():
                if nodeid.startswith(prefix):
                    return group
            return super()._split_scope(nodeid)

    return SharedSystems(config, log)
