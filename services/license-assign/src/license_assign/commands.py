"""What a caller asks license-assign to do: one frozen dataclass per request, handled in
``handlers``. People are ``{first_name, last_name, email}`` dicts, trimmed and lower-cased
(``assignments.person_of``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from portal_runtime.identity import Identity

# -- licenses and assignments ---------------------------------------------------------------------


@dataclass(frozen=True)
class RevokeLicense:
    customer_id: str
    license_id: str


@dataclass(frozen=True)
class AssignLicense:
    """One named license to one person."""

    customer_id: str
    license_id: str
    person: dict


@dataclass(frozen=True)
class AssignLicenses:
    """Free licenses of a product to many people (``(row, person)``); ``failed``: the rows the
    upload itself rejected. Over ``ASSIGN_AT_ONCE_ROWS`` rows it becomes an assignment job."""

    customer_id: str
    product: str
    team_id: str | None
    people: tuple[tuple[int, dict], ...]
    failed: tuple[dict, ...] = ()


# -- teams ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateTeam:
    customer_id: str
    name: str


@dataclass(frozen=True)
class RenameTeam:
    customer_id: str
    team_id: str
    name: str


@dataclass(frozen=True)
class MergeTeam:
    customer_id: str
    team_id: str
    into_team_id: str


@dataclass(frozen=True)
class TransferLicenses:
    customer_id: str
    team_id: str
    to_team_id: str
    license_ids: tuple[str, ...]


# -- invitation links -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CreateInvitationLink:
    customer_id: str
    product: str
    team_id: str
    allowed_domains: tuple[str, ...] = ()
    expires_at: dt.datetime | None = None
    max_claims: int | None = None


@dataclass(frozen=True)
class RegenerateInvitationLink:
    customer_id: str
    link_id: str


@dataclass(frozen=True)
class DisableInvitationLink:
    customer_id: str
    link_id: str


@dataclass(frozen=True)
class ClaimInvitation:
    """Anyone with the link's URL asks for a free license, once per person per link."""

    token: str
    person: dict


# -- My licenses links ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestHolderLink:
    email: str


@dataclass(frozen=True)
class RedeemHolderLink:
    token: str


# -- accounts, their admins and the resellers that manage them -----------------------------------


@dataclass(frozen=True)
class CreateCustomer:
    """A reseller's user creates an account; ``contact`` becomes its first admin."""

    name: str
    country: str
    vat_id: str | None
    contact: dict
    by: Identity


@dataclass(frozen=True)
class RedeemPasswordLink:
    token: str


@dataclass(frozen=True)
class InviteAdmin:
    customer_id: str
    person: dict
    by: Identity


@dataclass(frozen=True)
class ResendAdminLink:
    customer_id: str
    user_id: str
    by: Identity


@dataclass(frozen=True)
class RemoveAdmin:
    customer_id: str
    user_id: str


@dataclass(frozen=True)
class AddManagingReseller:
    customer_id: str
    reseller_id: str
    reseller_name: str


@dataclass(frozen=True)
class RemoveManagingReseller:
    customer_id: str
    reseller_id: str


@dataclass(frozen=True)
class RequestManagement:
    """A reseller's user asks the account's admins to let its company manage the account."""

    customer_id: str
    by: Identity


@dataclass(frozen=True)
class DecideManagementRequest:
    token: str
    approve: bool
