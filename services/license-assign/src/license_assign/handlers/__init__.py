"""license-assign's command and event handlers, one module per subject: ``orders`` (the events
orders and billing publish), ``licenses``, ``teams``, ``invitations``, ``holders``, ``accounts``.

Each is a function ``(message, uow, **deps)`` (deps by name: ``codes``, ``clock``, ``config``);
none commits, none knows HTTP.
"""

from __future__ import annotations

from license_assign import commands as c
from license_assign.handlers import accounts, holders, invitations, licenses, orders, teams

COMMAND_HANDLERS = {
    c.RevokeLicense: licenses.revoke_license,
    c.AssignLicense: licenses.assign_license,
    c.AssignLicenses: licenses.assign_licenses,
    c.CreateTeam: teams.create_team,
    c.RenameTeam: teams.rename_team,
    c.MergeTeam: teams.merge_team,
    c.TransferLicenses: teams.transfer_licenses,
    c.CreateInvitationLink: invitations.create_invitation_link,
    c.RegenerateInvitationLink: invitations.regenerate_invitation_link,
    c.DisableInvitationLink: invitations.disable_invitation_link,
    c.ClaimInvitation: invitations.claim_invitation,
    c.RequestHolderLink: holders.request_holder_link,
    c.RedeemHolderLink: holders.redeem_holder_link,
    c.CreateCustomer: accounts.create_customer,
    c.RedeemPasswordLink: accounts.redeem_password_link,
    c.InviteAdmin: accounts.invite_admin,
    c.ResendAdminLink: accounts.resend_admin_link,
    c.RemoveAdmin: accounts.remove_admin,
    c.AddManagingReseller: accounts.add_managing_reseller,
    c.RemoveManagingReseller: accounts.remove_managing_reseller,
    c.RequestManagement: accounts.request_management,
    c.DecideManagementRequest: accounts.decide_management_request,
}

EVENT_HANDLERS = {
    "orders.order.placed": [orders.handle_order_placed],
    "orders.order.cancelled": [orders.handle_order_cancelled],
    "billing.payment.failed": [orders.handle_payment_failed],
    "billing.payment.captured": [orders.handle_payment_captured],
}
