"""Time as a port, so tests (and the demo) can move it; the system clock by default."""

from __future__ import annotations

import datetime as dt
import os


class Clock:
    """The system clock, shifted by ``CLOCK_OFFSET_DAYS`` (demo and end-to-end tests only)."""

    def __init__(self, offset_days: float | None = None):
        if offset_days is None:
            offset_days = float(os.environ.get("CLOCK_OFFSET_DAYS", "0"))
        self.offset = dt.timedelta(days=offset_days)

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset

    def today(self) -> dt.date:
        return self.now().date()


class FixedClock(Clock):
    """A clock that stays where a test puts it."""

    def __init__(self, at: dt.datetime):
        super().__init__(0)
        self.at = at

    def now(self) -> dt.datetime:
        return self.at

    def advance(self, **delta) -> None:
        self.at = self.at + dt.timedelta(**delta)
