"""Fixtures of the orders service's tests (the kit is ``orders_testkit``, importable by tests)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from orders_testkit import api, clock, fakes, orders

__all__ = ["api", "clock", "fakes", "orders"]
