"""What the license-assign service stores: customer accounts and everything licensed to them,
one module per subject (``accounts``, ``licenses``, ``links``, ``assignment_jobs``)."""

from license_assign.models.accounts import (
    Customer,
    CustomerPerson,
    ManagementRequest,
    ManagingReseller,
    PasswordLink,
    RequestStatus,
)
from license_assign.models.assignment_jobs import AssignmentJob, AssignmentJobRow, JobStatus
from license_assign.models.base import MESSAGING, Base
from license_assign.models.licenses import (
    ALL_PRODUCTS,
    EarlyPaymentNotice,
    License,
    LicenseOrder,
    OrderRecord,
    ProductVersion,
    Revocation,
    SubscriptionPack,
    Team,
)
from license_assign.models.links import (
    HolderLink,
    InvitationClaim,
    InvitationLink,
    ReplacedInvitationToken,
)

__all__ = [
    "ALL_PRODUCTS",
    "MESSAGING",
    "AssignmentJob",
    "AssignmentJobRow",
    "Base",
    "Customer",
    "CustomerPerson",
    "EarlyPaymentNotice",
    "HolderLink",
    "InvitationClaim",
    "InvitationLink",
    "JobStatus",
    "License",
    "LicenseOrder",
    "ManagementRequest",
    "ManagingReseller",
    "OrderRecord",
    "PasswordLink",
    "ProductVersion",
    "ReplacedInvitationToken",
    "RequestStatus",
    "Revocation",
    "SubscriptionPack",
    "Team",
]
