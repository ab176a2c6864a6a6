"""Teams of an account: their names (unique per account, whatever the case) and how many
licenses they hold."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from license_assign.models import License, Team
from portal_runtime.errors import Conflict, Invalid


def team_name(raw: str) -> str:
    name = raw.strip()
    if not name:
        raise Invalid("name", "A team needs a name.")
    return name


def refuse_taken_name(session: Session, customer_id: str, name: str, other_than: int | None = None):
    """Team names are unique per account, whatever their case (409)."""
    query = select(Team.id).where(
        Team.customer_id == customer_id, func.lower(Team.name) == name.lower()
    )
    if other_than is not None:
        query = query.where(Team.id != other_than)
    if session.scalar(query):
        raise Conflict(f"This account already has a team named {name!r}.")


def license_count(session: Session, team: Team) -> int:
    return session.scalar(
        select(func.count(License.id)).where(
            License.team_pk == team.id, License.removed_at.is_(None)
        )
    )


def license_counts(session: Session, customer_id: str) -> dict[int, int]:
    """Live licenses per team key of the account."""
    return dict(
        session.execute(
            select(License.team_pk, func.count(License.id))
            .where(License.customer_id == customer_id, License.removed_at.is_(None))
            .group_by(License.team_pk)
        ).all()
    )
