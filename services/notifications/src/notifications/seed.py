"""Demo data of the notifications service: none.

The mail log fills from events; seeding other services publishes nothing that is meant to reach
an inbox twice, and this service has no reference data of its own. Kept so that every service
answers ``python -m <pkg> seed`` the same way.
"""

from __future__ import annotations


def seed(service) -> None:
    return None
