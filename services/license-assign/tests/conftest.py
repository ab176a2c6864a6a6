"""Fixtures of the license-assign service's tests (the kit is ``license_assign_testkit``)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from license_assign_testkit import api, clock, service

__all__ = ["api", "clock", "service"]
