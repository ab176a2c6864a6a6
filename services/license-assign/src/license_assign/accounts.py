"""Customer accounts, teams and subscription packs: finding and creating them, and the domain
errors of links and teams (`Gone`: a link that worked once; `UnknownTeam`: no such team here)."""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import Text, bindparam, cast, literal, select
from sqlalchemy.orm import Session, make_transient_to_detached

from license_assign.models import Customer, CustomerPerson, SubscriptionPack, Team
from portal_runtime.db import numbered_insert, utcnow
from portal_runtime.errors import DomainError, NotFound

DEFAULT_TEAM = "Default team"


class UnknownTeam(DomainError):
    """A team id that is not one of the account's; the caller says which field named it."""

    status = 422

    def __init__(self, team_id: str):
        super().__init__("No such team in this account.")
        self.team_id = team_id


class Gone(DomainError):
    """A link that worked once and no longer does: used, replaced or expired."""

    status = 410


# Crockford's base32 without look-alikes: license ids people read out on the phone.
_ID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def token_hash(token: str) -> str:
    """What is stored of an e-mailed link's token (invitation, password, My licenses links)."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_license_id() -> str:
    return "L-" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(8))


def require_customer(session: Session, customer_id: str, lock: bool = False) -> Customer:
    """The account, or a 404. ``lock``: its row stays locked until commit (``FOR UPDATE``).

    Rules counted over the whole account (one license of a product per person, the monthly
    revocation cap) check and write under that lock, so concurrent requests take turns.
    """
    if lock:
        customer = session.scalar(
            select(Customer)
            .where(Customer.id == customer_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    else:
        customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound("customer")
    return customer


def add_person(customer: Customer, email: str, role: str) -> None:
    email = email.strip().lower()
    if not any(p.email == email and p.role == role for p in customer.people):
        customer.people.append(CustomerPerson(email=email, role=role))


def ensure_customer(
    session: Session, customer_id: str, name: str, email: str | None = None
) -> Customer:
    """The account, created from what an order tells us when we have not seen it yet."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        customer = Customer(id=customer_id, name=name)
        session.add(customer)
        if email:
            add_person(customer, email, "contact")
        session.flush()
    return customer


def create_team(session: Session, customer_id: str, name: str, *, default: bool = False) -> Team:
    team = Team(customer_id=customer_id, name=name, is_default=default)
    session.add(team)
    session.flush()
    team.team_id = f"T-{team.id}"
    return team


# Built once: every order line without a team looks for it.
_DEFAULT_TEAM = select(Team).where(
    Team.customer_id == bindparam("customer_id"), Team.is_default.is_(True)
)


def default_team(session: Session, customer_id: str) -> Team:
    team = session.scalar(_DEFAULT_TEAM, {"customer_id": customer_id})
    return team or create_team(session, customer_id, DEFAULT_TEAM, default=True)


def find_team(session: Session, customer_id: str, team_id: str) -> Team | None:
    return session.scalar(
        select(Team).where(Team.customer_id == customer_id, Team.team_id == team_id)
    )


def team_named(session: Session, customer_id: str, name: str) -> Team:
    """The customer's team of that name, created if new (an order line's ``team_name``)."""
    team = session.scalar(select(Team).where(Team.customer_id == customer_id, Team.name == name))
    return team or create_team(session, customer_id, name)


def require_team(session: Session, customer_id: str, team_id: str) -> Team:
    """The account's team, or :class:`UnknownTeam` (the API names the field that gave it)."""
    team = find_team(session, customer_id, team_id)
    if team is None:
        raise UnknownTeam(team_id)
    return team


# PostgreSQL: a pack's number, ``SP-`` and 100000 + its row id, written by its INSERT.
INSERT_NUMBERED_PACK = numbered_insert(
    SubscriptionPack.__table__, lambda row_id: literal("SP-") + cast(row_id + 100000, Text)
)


def create_pack(session: Session, customer_id: str) -> SubscriptionPack:
    """A new pack of the account, numbered from its row id."""
    if session.get_bind().dialect.name != "postgresql":
        pack = SubscriptionPack(customer_id=customer_id)
        session.add(pack)
        session.flush()
        pack.number = f"SP-{100000 + pack.id}"  # an UPDATE at the next flush
        return pack
    session.flush()  # the account, if it is new too
    row = {"customer_id": customer_id, "created_at": utcnow()}
    pack_id, number = session.execute(INSERT_NUMBERED_PACK, row).one()
    pack = SubscriptionPack(id=pack_id, number=number, **row)
    # Stored already: the session takes it as it would a row it had loaded.
    make_transient_to_detached(pack)
    session.add(pack)
    return pack


def find_pack(session: Session, number: str) -> SubscriptionPack | None:
    return session.scalar(
        select(SubscriptionPack).where(SubscriptionPack.number == number.strip().upper())
    )


def pack_of(session: Session, customer_id: str, number: str) -> SubscriptionPack | None:
    """The pack of that number if it is this account's: another account's pack is none."""
    pack = find_pack(session, number)
    return pack if pack is not None and pack.customer_id == customer_id else None
