"""Billing's command and event handlers: ``(message, uow, **deps)``, deps injected by name
(``payments``: the provider, ``seller``, ``config``, ``clock``).

- ``orders.order.placed`` -> exactly one invoice per order (``billing.invoicing``); a card or
  PayPal order is charged its gross total at once (``billing.attempts``; idempotency key: the
  order number), a PO order is due in ``po_due_days``.
- ``orders.order.cancelled`` -> a credit note: a paid invoice is refunded, an unpaid one applied.

Each transaction holds its number series lock only to allocate the number and insert the
document; its PDF is rendered on first download and stored once (``billing.documents``). Event
handlers are guarded so that a replay changes nothing even without the inbox.
"""

from __future__ import annotations

import secrets

from sqlalchemy import func, select

from billing import attempts, events, invoicing, settlement
from billing.commands import AddCard, CompletePayPal, PayInvoice, RemovePaymentMethod, StartPayPal
from billing.config import BillingConfig
from billing.models import (
    EarlyCancellation,
    Invoice,
    InvoiceStatus,
    MethodStatus,
    Payment,
    PaymentMethod,
)
from billing.numbering import lock_order, series_owner, take_next
from billing.ports import ChargeResult, PaymentProvider
from portal_runtime import logs
from portal_runtime.clock import Clock
from portal_runtime.consumer import Event
from portal_runtime.errors import Invalid, NotFound
from portal_runtime.seller import Seller
from portal_runtime.uow import UnitOfWork

log = logs.get("billing")


# -- orders.order.placed -> one invoice ------------------------------------------------------------


def issue_invoice(
    event: Event,
    uow: UnitOfWork,
    payments: PaymentProvider,
    seller: Seller,
    config: BillingConfig,
    clock: Clock,
) -> None:
    order = event.payload
    number = order["order_number"]
    kind = order["payment"]["kind"]

    # Charge before taking the number lock: the provider call may be slow, and the order number
    # as idempotency key makes a second call (redelivery, competing worker) return the first.
    # The attempt is committed before the provider is called (see ``billing.attempts``).
    charge: ChargeResult | None = None
    attempt: Payment | None = None
    method = None
    if kind in ("card", "paypal"):
        if invoicing.is_invoiced(uow, number):
            return  # a redelivery: neither the provider nor the attempts hear of it again
        tenant = invoicing.tenant_of(order["buyer"])
        _, _, amount = invoicing.amounts_of(order)
        method = invoicing.active_method(uow, tenant, order["payment"].get("method_id"))
        attempt, charge = attempts.charge(
            uow,
            payments,
            key=number,
            method=method,
            method_kind=kind,
            amount=amount,
            currency=order["currency"],
            now=clock.now(),
            order_number=number,
        )

    # Under the order's lock until the commit: a competing worker issuing it, or its cancellation
    # arriving now, waits here and then sees this invoice (or this sees their rows). The only
    # look for the invoice of a PO order: nothing before the lock needs it. Nothing is flushed
    # on the way (the attempt's outcome waits for its invoice: one UPDATE, not two).
    with uow.session.no_autoflush:
        lock_order(uow.session, number)
        issued, cancelled_early = invoicing.order_state(uow, number)
        if issued:
            return  # a competing worker issued it while we waited for the lock
        now = clock.now()
        invoice_number = take_next(uow.session, "INV", series_owner(seller.code, now.date()))
    invoice = invoicing.new_invoice(order, invoice_number, seller, now)
    invoicing.state_payment(invoice, charge, invoicing.method_label(method, kind), now, config)
    uow.session.add(invoice)
    if attempt is not None:
        # The charge's outcome and the invoice it paid, in one UPDATE after the invoice's INSERT
        # (the whole invoice is one flush, when the message's step ends).
        attempt.invoice = invoice
    # A charge approved here is stated by the invoice's status (paid); payment.captured is for
    # money that comes in later, so every consumer is not sent the same news twice.
    uow.record("billing.invoice.issued", events.invoice_issued(invoice))
    if charge is not None and not charge.approved:
        uow.record("billing.payment.failed", events.payment_failed(invoice, now))
    log.info(
        "invoice.issued",
        invoice_number=invoice.number,
        order_number=number,
        status=invoice.status,
        payment_type=invoice.payment_type,
    )
    if cancelled_early:
        # The order was cancelled before its invoice existed: credit it now.
        uow.session.flush()
        early = uow.session.get(EarlyCancellation, number)
        invoicing.credit_invoice(uow, payments, seller, clock, invoice, early.reason)
        uow.session.delete(early)


# -- orders.order.cancelled -> a credit note ---------------------------------------------------


def issue_credit_note(
    event: Event, uow: UnitOfWork, payments: PaymentProvider, seller: Seller, clock: Clock
) -> None:
    cancelled = event.payload
    number = cancelled["order_number"]
    invoice = invoicing.invoice_for(uow, number)
    if invoice is None:
        # Issuing the invoice holds the order's lock from its own look for the invoice to its
        # commit, past its check for an early cancellation: under that lock, either the invoice
        # is there now or its issuing will find the early cancellation this records.
        lock_order(uow.session, number)
        invoice = invoicing.invoice_for(uow, number)
    if invoice is None:
        # The cancellation overtook the invoice: keep it; issuing the invoice applies it.
        if uow.session.get(EarlyCancellation, number) is None:
            uow.session.add(
                EarlyCancellation(
                    order_number=number,
                    reason=cancelled.get("reason"),
                    cancelled_at=cancelled.get("cancelled_at"),
                    received_at=clock.now(),
                )
            )
        log.info("credit_note.invoice_not_issued_yet", order_number=number)
        return
    invoicing.credit_invoice(uow, payments, seller, clock, invoice, cancelled.get("reason"))


# -- paying an invoice later ---------------------------------------------------------------------


def pay_invoice(
    cmd: PayInvoice,
    uow: UnitOfWork,
    payments: PaymentProvider,
    config: BillingConfig,
    clock: Clock,
) -> Invoice:
    """Charge a stored method for an unpaid invoice; the invoice, paid or (declined) not.

    The attempt is committed before the provider is called (which ends the transaction and its
    lock); the invoice is locked again to record the outcome. A declined attempt is committed
    with the command; the caller answers 402.
    """
    invoice = invoicing.find_invoice(uow, cmd.tenant, cmd.invoice_number, lock=True)
    if invoice is None:
        raise NotFound("invoice")
    if invoice.status == InvoiceStatus.not_paid and settlement.settle_earlier_attempts(
        uow, payments, config, clock, invoice
    ):
        uow.commit()  # what the provider said about them stands, whatever happens next
        invoice = invoicing.find_invoice(uow, None, invoice.number, lock=True)
    invoice.require_unpaid()
    method = invoicing.active_method(uow, invoice.tenant, cmd.payment_method_id)
    if method is None:
        raise Invalid("payment_method_id", "No active payment method with this id.")
    tried = uow.session.scalar(
        select(func.count(Payment.id)).where(Payment.invoice_id == invoice.id)
    )
    attempt, charge = attempts.charge(
        uow,
        payments,
        key=f"{invoice.number}/{tried + 1}",
        method=method,
        method_kind=method.kind,
        amount=invoice.amount,
        currency=invoice.currency,
        now=clock.now(),
        invoice_id=invoice.id,
        order_number=invoice.order_number,
    )
    invoice = invoicing.find_invoice(uow, None, invoice.number, lock=True)
    if charge.approved:
        settlement.apply_capture(uow, payments, clock, invoice, attempt)
    return invoice


# -- payment methods -------------------------------------------------------------------------


def new_method_id() -> str:
    return "pm-" + secrets.token_hex(8)


def add_card(
    cmd: AddCard, uow: UnitOfWork, payments: PaymentProvider, clock: Clock
) -> PaymentMethod:
    """Store a vaulted card for the tenant; a 422 if the token is not one of the tenant's."""
    card = payments.card(cmd.vault_token, cmd.tenant)
    if card is None:
        raise Invalid("vault_token", "Not a vault token of yours.")
    method = PaymentMethod(
        id=cmd.method_id or new_method_id(),
        tenant=cmd.tenant,
        kind="card",
        status=MethodStatus.active,
        provider_token=cmd.vault_token,
        brand=card.brand,
        last4=card.last4,
        expiry=card.expiry,
        holder=card.holder,
        created_at=clock.now(),
    )
    uow.session.add(method)
    return method


def start_paypal(
    cmd: StartPayPal,
    uow: UnitOfWork,
    payments: PaymentProvider,
    config: BillingConfig,
    clock: Clock,
) -> PaymentMethod:
    if not config.may_return_to(cmd.return_url):
        raise Invalid("return_url", "Must be a page of the portal (or of PAYPAL_RETURN_HOSTS).")
    approval = payments.start_paypal(cmd.tenant)
    method = PaymentMethod(
        id=new_method_id(),
        tenant=cmd.tenant,
        kind="paypal",
        status=MethodStatus.pending,
        approval_token=approval.approval_token,
        redirect_url=approval.redirect_url,
        return_url=cmd.return_url,
        created_at=clock.now(),
    )
    uow.session.add(method)
    return method


def complete_paypal(
    cmd: CompletePayPal, uow: UnitOfWork, payments: PaymentProvider
) -> PaymentMethod:
    """The return callback: activate the method once the payer has approved (idempotent)."""
    method = uow.session.scalar(
        select(PaymentMethod).where(PaymentMethod.approval_token == cmd.approval_token)
    )
    if method is None:
        raise NotFound("approval")
    agreement = payments.paypal_agreement(cmd.approval_token)
    if agreement is not None:
        method.activate(*agreement)
    return method


def remove_payment_method(cmd: RemovePaymentMethod, uow: UnitOfWork) -> None:
    method = uow.session.scalar(
        select(PaymentMethod).where(
            PaymentMethod.id == cmd.method_id, PaymentMethod.tenant == cmd.tenant
        )
    )
    if method is None:
        raise NotFound("payment method")
    uow.session.delete(method)


COMMAND_HANDLERS = {
    PayInvoice: pay_invoice,
    AddCard: add_card,
    StartPayPal: start_paypal,
    CompletePayPal: complete_paypal,
    RemovePaymentMethod: remove_payment_method,
}

EVENT_HANDLERS = {
    "orders.order.placed": [issue_invoice],
    "orders.order.cancelled": [issue_credit_note],
}
