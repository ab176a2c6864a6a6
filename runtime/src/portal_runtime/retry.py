"""When a failed delivery is tried again: exponential backoff with jitter, for a bounded time.

A handler that fails for a reason that can pass (a database restart, a broker hiccup, another
service answering 5xx or timing out, any unexpected exception) is tried again after
``first_delay`` seconds, then twice as long each time up to ``max_delay`` between tries, each delay
spread by ±20 % so that the messages of one outage do not all come back at the same moment; after
``give_up_after`` seconds since the first failure the message is dead-lettered. A failure that can
never pass (:func:`is_permanent`) is dead-lettered at once.

The waiting itself is the broker's (``topology.Topology.delay``), never a sleeping consumer.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from marshmallow import ValidationError
from sqlalchemy.exc import DataError


class Poison(Exception):
    """A message that can never be handled; it goes to the dead-letter queue at once.

    Raised by the consumer for what cannot be decoded, and by a handler for a domain rule that
    will never pass for this message (retrying it for a day would change nothing).
    """


def is_permanent(error: BaseException) -> bool:
    """Failures that trying again cannot fix: the message itself is wrong for this code."""
    # ValidationError: an event the handler builds fails its contract; DataError: a value the
    # database will never store (too long, out of range).
    return isinstance(error, Poison | ValidationError | DataError)


@dataclass(frozen=True)
class RetrySchedule:
    first_delay: float = 1.0
    max_delay: float = 300.0
    give_up_after: float = 24 * 3600.0
    jitter: float = 0.2

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed ``attempt`` (1 for the first failure)."""
        base = min(self.max_delay, self.first_delay * 2 ** min(attempt - 1, 64))
        spread = (rng or random).uniform(1 - self.jitter, 1 + self.jitter)
        return min(self.max_delay, base * spread)

    def gives_up(self, failing_for: float, next_delay: float) -> bool:
        """Whether the next try would come later than ``give_up_after`` since the first failure."""
        return failing_for + next_delay > self.give_up_after
