"""Fixtures of the gateway's tests (the kit is ``gateway_testkit``, importable by tests)."""

import importlib
import sys
from pathlib import Path

# pytest's importlib mode names this module ``gateway.tests.conftest`` and so registers the
# ``gateway/`` folder as a namespace package called ``gateway``, hiding the real package (whose
# folder is ``gateway/src/gateway``). Put the real one back before anything imports from it.
_shadow = sys.modules.get("gateway")
if _shadow is not None and getattr(_shadow, "__file__", None) is None:
    del sys.modules["gateway"]
    _real = importlib.import_module("gateway")
    for _name in ("tests",):
        if hasattr(_shadow, _name):
            setattr(_real, _name, getattr(_shadow, _name))

sys.path.insert(0, str(Path(__file__).parent))

from gateway_testkit import clock, gw, shared_gw, upstream  # noqa: E402

__all__ = ["clock", "gw", "shared_gw", "upstream"]
