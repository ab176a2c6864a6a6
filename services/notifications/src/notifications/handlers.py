"""Which event makes which email, for whom; and the mail log's one command.

A handler never talks to SMTP: it queues the email (``notifications.outgoing.queue_mail``) in
the consumer's transaction, and the sender job sends it later. Handlers name ``settings`` (who
sends, where links point: ``config.MailSettings``) as a dependency.
"""

from __future__ import annotations

from notifications.commands import RetryMail
from notifications.config import MailSettings
from notifications.models import FAILED, PENDING, KnownLicense, OutgoingMail, ProductName
from notifications.outgoing import (
    ProductNames,
    account_link,
    full_name,
    licenses_of,
    my_licenses_url,
    order_link,
    queue_mail,
    unique_emails,
)
from portal_runtime import logs
from portal_runtime.consumer import Event
from portal_runtime.db import PerDialect
from portal_runtime.errors import Conflict, NotFound
from portal_runtime.uow import UnitOfWork

# -- orders ---------------------------------------------------------------------------------------


def email_order_placed(
    event: Event, uow: UnitOfWork, settings: MailSettings, product_names: ProductNames
) -> None:
    """The buyer's confirmation; the end user's activation e-mail when the buyer asked for it."""
    p = event.payload
    context = dict(
        p,
        products=product_names.of(uow, (line["product"] for line in p["lines"])),
        licenses=[],
        portal_url=order_link(settings, p),
        account_url=account_link(settings, p["customer"]["id"]),
    )
    queue_mail(
        uow, event, settings, "order_confirmation", p["buyer"]["email"], context,
        name=p["buyer"]["name"],
    )  # fmt: skip
    if p["send_activation_email"]:
        queue_mail(
            uow, event, settings, "activation", p["end_user"]["email"], context,
            name=full_name(p["end_user"]),
        )  # fmt: skip


def email_activation_requested(
    event: Event, uow: UnitOfWork, settings: MailSettings, product_names: ProductNames
) -> None:
    """The activation e-mail again, when the reseller sends it from the order's page."""
    p = event.payload
    context = dict(
        p,
        lines=None,
        products={},
        licenses=licenses_of(uow, product_names, p["license_ids"]),
        account_url=account_link(settings, p["customer"]["id"]),
    )
    queue_mail(
        uow, event, settings, "activation", p["end_user"]["email"], context,
        name=full_name(p["end_user"]),
    )  # fmt: skip


def email_licenses_resent(
    event: Event, uow: UnitOfWork, settings: MailSettings, product_names: ProductNames
) -> None:
    p = event.payload
    context = dict(
        p,
        licenses=licenses_of(uow, product_names, p["license_ids"]),
        account_url=account_link(settings, p["customer"]["id"]),
    )
    queue_mail(
        uow, event, settings, "license_details", p["end_user"]["email"], context,
        name=full_name(p["end_user"]),
    )  # fmt: skip


# -- quotes ---------------------------------------------------------------------------------------


def email_quote(
    event: Event, uow: UnitOfWork, settings: MailSettings, product_names: ProductNames
) -> None:
    """The quote to its buyer, with the PDF attached when it is sent."""
    p = event.payload
    context = dict(
        p,
        products=product_names.of(uow, (line["product"] for line in p["lines"])),
        quote_url=settings.link(f"/portal/quotes/{p['quote_number']}"),
    )
    queue_mail(
        uow, event, settings, "quote", p["buyer"]["email"], context,
        name=p["buyer"]["name"],
        attachment={"kind": "quote_pdf", "quote_number": p["quote_number"]},
    )  # fmt: skip


# -- billing --------------------------------------------------------------------------------------


def _to_buyer(template: str):
    def handler(event: Event, uow: UnitOfWork, settings: MailSettings) -> None:
        p = event.payload
        context = dict(
            p,
            invoice_url=settings.link(f"/portal/invoices/{p['invoice_number']}"),
            order_url=settings.link(f"/portal/orders/{p['order_number']}"),
        )
        queue_mail(
            uow, event, settings, template, p["buyer"]["email"], context, name=p["buyer"]["name"]
        )

    handler.__name__ = f"email_{template}"
    handler.__doc__ = f"The buyer's {template.replace('_', ' ')} email."
    return handler


email_invoice_issued = _to_buyer("invoice_issued")
email_invoice_overdue = _to_buyer("invoice_overdue")
email_payment_failed = _to_buyer("payment_failed")
email_credit_note = _to_buyer("credit_note")


# -- licensing ------------------------------------------------------------------------------------


def email_license_assigned(
    event: Event, uow: UnitOfWork, settings: MailSettings, product_names: ProductNames
) -> None:
    """The person's license, with its offline activation code and a single-use link to their
    own My licenses page (where the code can be downloaded again)."""
    p = event.payload
    context = dict(
        p,
        product_name=product_names.of(uow, [p["product"]])[p["product"]],
        my_licenses_url=my_licenses_url(settings, p.get("my_licenses_token")),
        ask_url=settings.link("/portal/my-licenses/"),
    )
    queue_mail(
        uow, event, settings, "license_assigned", p["assignee"]["email"], context,
        name=full_name(p["assignee"]),
    )  # fmt: skip


def email_license_revoked(
    event: Event, uow: UnitOfWork, settings: MailSettings, product_names: ProductNames
) -> None:
    p = event.payload
    context = dict(p, product_name=product_names.of(uow, [p["product"]])[p["product"]])
    queue_mail(
        uow, event, settings, "license_revoked", p["former_assignee"]["email"], context,
        name=full_name(p["former_assignee"]),
    )  # fmt: skip


def email_invitation_claimed(
    event: Event, uow: UnitOfWork, settings: MailSettings, product_names: ProductNames
) -> None:
    """Every admin of the account hears of every claim."""
    p = event.payload
    context = dict(
        p,
        product_name=product_names.of(uow, [p["product"]])[p["product"]],
        account_url=account_link(settings, p["customer_id"]),
    )
    for admin in unique_emails(p["admin_emails"]):
        queue_mail(uow, event, settings, "invitation_claimed", admin, context)


# -- account people ------------------------------------------------------------------------------


def email_admin_invited(event: Event, uow: UnitOfWork, settings: MailSettings) -> None:
    """A new admin's (or a re-sent) single-use link to set a password."""
    p = event.payload
    context = dict(
        p,
        password_url=settings.link(f"/portal/password/{p['token']}"),
        sign_in_url=settings.link("/portal/"),
    )
    queue_mail(
        uow, event, settings, "admin_invitation", p["admin"]["email"], context,
        name=full_name(p["admin"]),
    )  # fmt: skip


def email_holder_link(event: Event, uow: UnitOfWork, settings: MailSettings) -> None:
    """A license holder asked for a link to their own licenses: a single-use, expiring one."""
    p = event.payload
    context = dict(
        p,
        my_licenses_url=my_licenses_url(settings, p["token"]),
        ask_url=settings.link("/portal/my-licenses/"),
    )
    queue_mail(
        uow, event, settings, "my_licenses_link", p["holder"]["email"], context,
        name=full_name(p["holder"]),
    )  # fmt: skip


def email_management_requested(event: Event, uow: UnitOfWork, settings: MailSettings) -> None:
    """Every admin of the account may approve or decline a reseller's request to manage it."""
    p = event.payload
    context = dict(p, decision_url=settings.link(f"/portal/management-requests/{p['token']}"))
    for admin in unique_emails(p["admin_emails"]):
        queue_mail(uow, event, settings, "management_request", admin, context)


# -- portal sign-ins (the gateway) ----------------------------------------------------------------


def email_sign_in_throttled(event: Event, uow: UnitOfWork, settings: MailSettings) -> None:
    """The account's owner learns that failed passwords slow its sign-ins down somewhere."""
    p = event.payload
    queue_mail(uow, event, settings, "sign_in_throttled", p["email"], p, name=p.get("name"))


def email_user_invited(event: Event, uow: UnitOfWork, settings: MailSettings) -> None:
    """A new reseller user's temporary password (the inviter's answer does not show it)."""
    p = event.payload
    context = dict(p, sign_in_url=settings.link("/portal/sign-in"))
    queue_mail(uow, event, settings, "user_invitation", p["email"], context, name=p.get("name"))


def email_invitation_refused(event: Event, uow: UnitOfWork, settings: MailSettings) -> None:
    """An address that signs in elsewhere was invited: its owner is told nothing changed."""
    p = event.payload
    queue_mail(uow, event, settings, "invitation_refused", p["email"], p)


# -- catalog --------------------------------------------------------------------------------------


def record_product_names(event: Event, uow: UnitOfWork, product_names: ProductNames) -> None:
    """Keep the products' display names; replaying a price list writes the same names. Emails
    this process queues from now on use them (``ProductNames.changing``)."""
    product_names.changing(uow)
    for product in event.payload["products"]:
        row = uow.session.get(ProductName, product["code"])
        if row is None:
            uow.session.add(ProductName(code=product["code"], name=product["name"]))
        else:
            row.name = product["name"]


# -- licensing facts ------------------------------------------------------------------------------


# What a license report says of each license, as ``known_licenses`` keeps it.
KNOWN = ("customer_id", "order_number", "product", "valid_from", "valid_until")
KNOWN_OPTIONAL = ("fallback_version", "subscription_pack")


def _remember_on(insert):
    """One upsert per license, built once per dialect: a new license is added, a known one
    takes the report's values (a renewal's new end date)."""
    table = KnownLicense.__table__
    statement = insert(table)
    return statement.on_conflict_do_update(
        index_elements=[table.c.license_id],
        set_={name: statement.excluded[name] for name in (*KNOWN, *KNOWN_OPTIONAL)},
    )


_REMEMBER = PerDialect(_remember_on)


def record_licenses(event: Event, uow: UnitOfWork) -> None:
    """Keep what each issued or renewed license is; a replay writes the same values. One
    statement for the report (it was a look-up of the known ones, then the ORM's flush)."""
    p = event.payload
    rows = {
        lic["license_id"]: {
            "license_id": lic["license_id"],
            "customer_id": p["customer_id"],
            "order_number": p["order_number"],
            "product": lic["product"],
            "valid_from": lic["valid_from"],
            "valid_until": lic["valid_until"],
            **{name: lic.get(name) for name in KNOWN_OPTIONAL},
        }
        for lic in p["licenses"]
    }
    if not rows:
        return
    session = uow.session
    session.execute(_REMEMBER(session.get_bind()), [*rows.values()])
    # A license this session read before (a resend earlier in the batch) is read afresh.
    for obj in list(session.identity_map.values()):
        if isinstance(obj, KnownLicense) and obj.license_id in rows:
            session.expire(obj)


# -- the mail log ---------------------------------------------------------------------------------


def retry_mail(cmd: RetryMail, uow: UnitOfWork) -> OutgoingMail:
    """A failed mail gets a fresh set of attempts (the sender picks it up at its next sweep)."""
    row = uow.session.get(OutgoingMail, cmd.mail_id)
    if row is None:
        raise NotFound("mail")
    if row.status != FAILED:
        raise Conflict(f"Only a failed mail can be retried; this one is {row.status}.")
    row.status = PENDING
    row.attempts = 0
    row.next_attempt_at = None
    row.failed_at = None
    logs.get("mail").info("mail.retry_requested", message_id=row.message_id)
    return row


COMMAND_HANDLERS = {RetryMail: retry_mail}

EVENT_HANDLERS = {
    "catalog.price_list.published": [record_product_names],
    "licensing.licenses.issued": [record_licenses],
    "orders.order.placed": [email_order_placed],
    "orders.activation_email.requested": [email_activation_requested],
    "orders.licenses.resend_requested": [email_licenses_resent],
    "quotes.quote.issued": [email_quote],
    "billing.invoice.issued": [email_invoice_issued],
    "billing.invoice.overdue": [email_invoice_overdue],
    "billing.payment.failed": [email_payment_failed],
    "billing.credit_note.issued": [email_credit_note],
    "licensing.license.assigned": [email_license_assigned],
    "licensing.license.revoked": [email_license_revoked],
    "licensing.invitation.claimed": [email_invitation_claimed],
    "licensing.admin.invited": [email_admin_invited],
    "licensing.management.requested": [email_management_requested],
    "licensing.holder_link.issued": [email_holder_link],
    "gateway.sign_in.throttled": [email_sign_in_throttled],
    "gateway.user.invited": [email_user_invited],
    "gateway.invitation.refused": [email_invitation_refused],
}
