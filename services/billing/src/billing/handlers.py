"""Billing's commands, the events it handles and its scheduled job.

- ``orders.order.placed`` -> exactly one invoice per order, numbered gapless per seller and year;
  its amount is the order's gross total (net lines + the tax cart-quote computed); a card or
  PayPal order is charged that amount at once through the payment provider (idempotency key: the
  order number), a PO order is due in ``po_due_days``.
- ``orders.order.cancelled`` -> a credit note: a paid invoice is refunded, an unpaid one applied.

Each transaction holds its number series lock only to allocate the number and insert the
document; the PDF is rendered after commit and stored once (``billing.documents``).
- The overdue job marks each unpaid invoice past its due date once and says so.

Handlers are guarded so that a replay changes nothing even without the inbox.
"""

from __future__ import annotations

import datetime as dt
import functools
import secrets
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select

from billing import attempts
from billing.config import BillingConfig
from billing.models import (
    CreditNote,
    EarlyCancellation,
    Invoice,
    InvoiceLine,
    Payment,
    PaymentMethod,
)
from billing.numbering import lock_series, series_owner, take_next
from billing.payments import ChargeResult, PaymentProvider
from portal_runtime import logs
from portal_runtime.clock import Clock
from portal_runtime.consumer import Event
from portal_runtime.db import is_sqlite
from portal_runtime.uow import UnitOfWork

log = logs.get("billing")


@dataclass(frozen=True)
class Billing:
    """What billing's handlers need besides the unit of work: settings, time, the provider."""

    config: BillingConfig
    clock: Clock
    provider: PaymentProvider


class PaymentDeclined(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class NotPayable(Exception):
    """The invoice is not waiting for a payment (already paid, or settled by a credit note)."""


class PaymentInProgress(Exception):
    """An earlier payment of this invoice has not been answered by the provider yet."""


class UnknownMethod(LookupError):
    """No active payment method with this id for this tenant."""


# -- who owns what -------------------------------------------------------------------------------


def tenant_of(buyer: dict) -> str:
    """The identity tenant a buyer's invoices and payment methods belong to."""
    if buyer["kind"] == "customer":
        return f"customer:{buyer['customer_id']}"
    return f"reseller:{buyer['reseller_id']}"


def owner_of(buyer: dict) -> str:
    return buyer["customer_id"] if buyer["kind"] == "customer" else buyer["reseller_id"]


def line_kind(order_line_kind: str) -> str:
    # An upgrade buys a new All Products Pack subscription; a downgrade happens at renewal.
    return "renewal" if order_line_kind in ("renewal", "downgrade") else "new"


def active_method(uow: UnitOfWork, tenant: str, method_id: str | None) -> PaymentMethod | None:
    if not method_id:
        return None
    return uow.session.scalar(
        select(PaymentMethod).where(
            PaymentMethod.id == method_id,
            PaymentMethod.tenant == tenant,
            PaymentMethod.status == "active",
        )
    )


def method_label(method: PaymentMethod | None, kind: str) -> str:
    """How the invoice names the method it was paid with: "Visa card ending 4242"."""
    if method is None:
        return "PayPal" if kind == "paypal" else "card"
    if method.kind == "paypal":
        return f"PayPal ({method.email})" if method.email else "PayPal"
    brand = (method.brand or "").strip().capitalize()
    return f"{brand} card ending {method.last4}".strip() if method.last4 else "card"


def tax_of(order: dict) -> list[dict]:
    """The order's tax lines as stored (exact strings); none on orders from before tax."""
    return [
        {"rate": str(Decimal(t["rate"])), "amount": str(Decimal(t["amount"])), "note": t["note"]}
        for t in order.get("tax") or []
    ]


# -- event payloads ------------------------------------------------------------------------------


def customer_of(invoice: Invoice) -> dict:
    return {
        "id": invoice.customer_id,
        "name": invoice.customer_name,
        "email": invoice.customer_email,
    }


def invoice_issued(invoice: Invoice) -> dict:
    return {
        "invoice_number": invoice.number,
        "order_number": invoice.order_number,
        "reseller_id": invoice.reseller_id,
        "buyer": invoice.buyer,
        "customer": customer_of(invoice),
        "amount": invoice.amount,
        "currency": invoice.currency,
        "status": invoice.status,
        "payment_type": invoice.payment_type,
        "issued_on": invoice.issued_on,
        "due_date": invoice.due_date,
        "po_number": invoice.po_number,
    }


def payment_captured(invoice: Invoice, method_kind: str) -> dict:
    return {
        "invoice_number": invoice.number,
        "order_number": invoice.order_number,
        "customer_id": invoice.customer_id,
        "amount": invoice.amount,
        "currency": invoice.currency,
        "captured_at": invoice.paid_at,
        "method_kind": method_kind,
    }


def payment_failed(invoice: Invoice, failed_at: dt.datetime) -> dict:
    return {
        "invoice_number": invoice.number,
        "order_number": invoice.order_number,
        "buyer": invoice.buyer,
        "customer": customer_of(invoice),
        "amount": invoice.amount,
        "currency": invoice.currency,
        "failed_at": failed_at,
        "reason": invoice.payment_failure_reason,
        "grace_until": invoice.grace_until,
    }


def invoice_overdue(invoice: Invoice) -> dict:
    return {
        "invoice_number": invoice.number,
        "order_number": invoice.order_number,
        "buyer": invoice.buyer,
        "customer": customer_of(invoice),
        "amount": invoice.amount,
        "currency": invoice.currency,
        "due_date": invoice.due_date,
    }


def credit_note_issued(note: CreditNote, invoice: Invoice) -> dict:
    return {
        "credit_note_number": note.number,
        "invoice_number": invoice.number,
        "order_number": invoice.order_number,
        "buyer": invoice.buyer,
        "amount": note.amount,
        "currency": note.currency,
        "refunded": note.refunded,
    }


# -- orders.order.placed -> one invoice ------------------------------------------------------------


def _invoice_for(uow: UnitOfWork, order_number: str) -> Invoice | None:
    return uow.session.scalar(select(Invoice).where(Invoice.order_number == order_number))


def issue_invoice(event: Event, uow: UnitOfWork, billing: Billing) -> None:
    order = event.payload
    number = order["order_number"]
    if _invoice_for(uow, number) is not None:
        return
    buyer = dict(order["buyer"])
    tenant, owner = tenant_of(buyer), owner_of(buyer)
    # Net lines plus their tax: the gross amount the order's total says and the card is charged.
    subtotal = sum((Decimal(line["amount"]) for line in order["lines"]), Decimal("0.00"))
    tax = tax_of(order)
    amount = subtotal + sum((Decimal(t["amount"]) for t in tax), Decimal("0.00"))
    if order.get("total") is not None and Decimal(str(order["total"])) != amount:
        raise ValueError(
            f"order {number}: lines and tax make {amount}, total says {order['total']}"
        )
    kind = order["payment"]["kind"]
    method_id = order["payment"].get("method_id")

    # Charge before taking the number lock: the provider call may be slow, and the order number
    # as idempotency key makes a second call (redelivery, competing worker) return the first.
    # The attempt is committed before the provider is called (see ``billing.attempts``).
    charge: ChargeResult | None = None
    attempt: Payment | None = None
    method = None
    if kind in ("card", "paypal"):
        method = active_method(uow, tenant, method_id)
        attempt, charge = attempts.charge(
            uow,
            billing.provider,
            key=number,
            method=method,
            method_kind=kind,
            amount=amount,
            currency=order["currency"],
            now=billing.clock.now(),
            order_number=number,
        )

    now = billing.clock.now()
    today = now.date()
    seller = billing.config.seller
    counter = lock_series(uow.session, "INV", series_owner(seller.code, today))
    if _invoice_for(uow, number) is not None:
        return  # a competing worker issued it while we waited for the lock
    invoice = Invoice(
        number=take_next(counter),
        order_number=number,
        tenant=tenant,
        owner=owner,
        buyer=buyer,
        billing_address=dict(order["billing_address"]) if order.get("billing_address") else None,
        reseller_id=order.get("reseller_id"),
        customer_id=order["customer"]["id"],
        customer_name=order["customer"]["name"],
        customer_email=order["customer"].get("email"),
        po_number=order.get("po_number"),
        currency=order["currency"],
        amount=amount,
        subtotal=subtotal,
        tax=tax,
        seller=seller.as_dict(),
        issued_at=now,
        issued_on=today,
        due_date=today,
        payment_kind=kind,
        payment_method_id=method_id,
    )
    for line in order["lines"]:
        invoice.lines.append(
            InvoiceLine(
                line_no=line["line_no"],
                product=line["product"],
                product_name=line.get("product_name") or line["product"],
                quantity=line["quantity"],
                kind=line_kind(line["kind"]),
                order_kind=line["kind"],
                start_date=line["start_date"],
                end_date=line["end_date"],
                unit_price=Decimal(line["unit_price"]),
                amount=Decimal(line["amount"]),
            )
        )
    label = method_label(method, kind)
    if charge is None:
        invoice.status, invoice.payment_type = "not_paid", "postpaid"
        invoice.due_date = today + dt.timedelta(days=billing.config.po_due_days)
        terms = {"kind": "transfer", "net_days": billing.config.po_due_days}
    elif charge.approved:
        invoice.status, invoice.payment_type, invoice.paid_at = "paid", "online", now
        terms = {"kind": "paid", "paid_on": today.isoformat(), "method_label": label}
        terms["reference"] = charge.reference or number
    else:
        invoice.status, invoice.payment_type = "not_paid", "online"
        invoice.payment_failure_reason = charge.reason
        invoice.grace_until = today + dt.timedelta(days=billing.config.grace_days)
        # Due by the end of the grace period: overdue then, like the licenses.
        invoice.due_date = invoice.grace_until
        terms = {"kind": "payment_failed", "attempted_on": today.isoformat()}
        terms["method_label"] = label
    terms.update(method=kind, due_date=invoice.due_date.isoformat())
    # A transfer quotes the invoice number (and the buyer's PO, when there is one).
    terms.setdefault("reference", " / ".join(p for p in (invoice.number, invoice.po_number) if p))
    invoice.terms = terms
    uow.session.add(invoice)
    uow.session.flush()
    if attempt is not None:
        attempt.invoice_id = invoice.id
    # A charge approved here is stated by the invoice's status (paid); payment.captured is for
    # money that comes in later, so every consumer is not sent the same news twice.
    uow.record("billing.invoice.issued", invoice_issued(invoice))
    if charge is not None and not charge.approved:
        uow.record("billing.payment.failed", payment_failed(invoice, now))
    log.info(
        "invoice.issued",
        invoice_number=invoice.number,
        order_number=number,
        status=invoice.status,
        payment_type=invoice.payment_type,
    )
    early = uow.session.get(EarlyCancellation, number)
    if early is not None:
        # The order was cancelled before its invoice existed: credit it now.
        credit_invoice(uow, billing, invoice, early.reason)
        uow.session.delete(early)


# -- orders.order.cancelled -> a credit note ---------------------------------------------------


def issue_credit_note(event: Event, uow: UnitOfWork, billing: Billing) -> None:
    cancelled = event.payload
    number = cancelled["order_number"]
    invoice = _invoice_for(uow, number)
    if invoice is None:
        # Issuing an invoice holds its owner's INV lock from its check for an early cancellation
        # to its commit: under that lock, either the invoice is there or it will see ours.
        lock_series(uow.session, "INV", owner_of(cancelled["buyer"]))
        invoice = _invoice_for(uow, number)
    if invoice is None:
        # The cancellation overtook the invoice: keep it; issuing the invoice applies it.
        if uow.session.get(EarlyCancellation, number) is None:
            uow.session.add(
                EarlyCancellation(
                    order_number=number,
                    reason=cancelled.get("reason"),
                    cancelled_at=cancelled.get("cancelled_at"),
                    received_at=billing.clock.now(),
                )
            )
        log.info("credit_note.invoice_not_issued_yet", order_number=number)
        return
    credit_invoice(uow, billing, invoice, cancelled.get("reason"))


def credit_invoice(uow: UnitOfWork, billing: Billing, invoice: Invoice, reason: str | None) -> None:
    """The credit note of a cancelled order's invoice: refunded if paid, else applied. Once."""
    if invoice.credit_note is not None:
        return
    now = billing.clock.now()
    counter = lock_series(uow.session, "CN", series_owner(billing.config.seller.code, now.date()))
    # Lock the invoice too: a payment arriving meanwhile must not be overwritten by "applied".
    uow.session.refresh(invoice, with_for_update=True)
    if uow.session.scalar(select(CreditNote.id).where(CreditNote.invoice_id == invoice.id)):
        return
    refunded = invoice.status == "paid"
    note = CreditNote(
        number=take_next(counter),
        invoice_id=invoice.id,
        order_number=invoice.order_number,
        tenant=invoice.tenant,
        amount=invoice.amount,
        subtotal=invoice.amount if invoice.subtotal is None else invoice.subtotal,
        tax=list(invoice.tax or []),
        currency=invoice.currency,
        refunded=refunded,
        reason=reason,
        issued_at=now,
        issued_on=now.date(),
    )
    if refunded:
        captured = uow.session.scalar(
            select(Payment)
            .where(Payment.invoice_id == invoice.id, Payment.status == "captured")
            .order_by(Payment.id.desc())
        )
        key = f"refund:{invoice.order_number}"
        note.refund_reference = billing.provider.refund(
            captured.provider_reference if captured else "",
            invoice.amount,
            invoice.currency,
            key,
        )
        uow.session.add(
            Payment(
                invoice_id=invoice.id,
                idempotency_key=key,
                method_id=captured.method_id if captured else None,
                method_kind=captured.method_kind if captured else invoice.payment_kind,
                amount=invoice.amount,
                currency=invoice.currency,
                status="refunded",
                provider_reference=note.refund_reference,
                created_at=now,
            )
        )
    else:
        invoice.status, invoice.payment_type = "applied", "credit_note"
    invoice.credit_note = note
    uow.session.add(note)
    uow.session.flush()
    uow.record("billing.credit_note.issued", credit_note_issued(note, invoice))
    log.info(
        "credit_note.issued",
        credit_note_number=note.number,
        invoice_number=invoice.number,
        refunded=refunded,
    )


# -- paying an invoice later ---------------------------------------------------------------------


@dataclass(frozen=True)
class PayInvoice:
    invoice_number: str
    tenant: str | None  # None: a service identity, which sees every invoice
    payment_method_id: str


def find_invoice(uow: UnitOfWork, tenant: str | None, number: str, lock: bool = False):
    query = select(Invoice).where(Invoice.number == number)
    if tenant is not None:
        query = query.where(Invoice.tenant == tenant)
    if lock and not is_sqlite(uow.session.get_bind()):
        # Read it afresh under the lock, not as this session last saw it.
        query = query.with_for_update().execution_options(populate_existing=True)
    return uow.session.scalar(query)


def pay_invoice(cmd: PayInvoice, uow: UnitOfWork, billing: Billing) -> Invoice | None:
    """Charge a stored method for an unpaid invoice; None if there is no such invoice.

    The attempt is committed before the provider is called (which ends the transaction and its
    lock); the invoice is locked again to record the outcome.
    """
    invoice = find_invoice(uow, cmd.tenant, cmd.invoice_number, lock=True)
    if invoice is None:
        return None
    if invoice.status == "not_paid" and settle_earlier_attempts(uow, billing, invoice):
        uow.commit()  # what the provider said about them stands, whatever happens next
        invoice = find_invoice(uow, None, invoice.number, lock=True)
    if invoice.status != "not_paid":
        raise NotPayable(invoice.status)
    method = active_method(uow, invoice.tenant, cmd.payment_method_id)
    if method is None:
        raise UnknownMethod(cmd.payment_method_id)
    tried = uow.session.scalar(
        select(func.count(Payment.id)).where(Payment.invoice_id == invoice.id)
    )
    attempt, charge = attempts.charge(
        uow,
        billing.provider,
        key=f"{invoice.number}/{tried + 1}",
        method=method,
        method_kind=method.kind,
        amount=invoice.amount,
        currency=invoice.currency,
        now=billing.clock.now(),
        invoice_id=invoice.id,
        order_number=invoice.order_number,
    )
    invoice = find_invoice(uow, None, invoice.number, lock=True)
    if charge.approved:
        apply_capture(uow, billing, invoice, attempt)
    return invoice  # declined: the caller commits the declined attempt, then answers 402


def settle_earlier_attempts(uow: UnitOfWork, billing: Billing, invoice: Invoice) -> bool:
    """Ask the provider about this invoice's attempts still unknown, before trying again.

    One younger than ``payment_settle_after_seconds`` may still be on its way: a second charge
    now could take the money twice, so the caller is asked to wait (``PaymentInProgress``).
    """
    pending = list(
        uow.session.scalars(
            select(Payment).where(Payment.invoice_id == invoice.id, Payment.status == "pending")
        )
    )
    cutoff = billing.clock.now() - dt.timedelta(seconds=billing.config.payment_settle_after_seconds)
    if any(attempt.created_at > cutoff for attempt in pending):
        raise PaymentInProgress(invoice.number)
    for attempt in pending:
        settle_attempt(uow, billing, attempt)
    return bool(pending)


def settle_attempt(uow: UnitOfWork, billing: Billing, attempt: Payment) -> None:
    """Settle one attempt left pending, from what the provider did under its key."""
    found = billing.provider.find_charge(attempt.idempotency_key)
    if found is None:
        # The provider never received it: nothing was charged. A redelivered order tries again.
        attempt.status, attempt.reason = "abandoned", "not_received_by_provider"
        log.warning("payment.abandoned", idempotency_key=attempt.idempotency_key)
        return
    attempts.record(attempt, found)
    log.warning(
        "payment.settled",
        idempotency_key=attempt.idempotency_key,
        status=attempt.status,
        order_number=attempt.order_number,
    )
    if not found.approved or attempt.invoice_id is None:
        # Not yet invoiced: the order's event, delivered again, issues the invoice as paid.
        return
    invoice = uow.session.get(Invoice, attempt.invoice_id)
    if not is_sqlite(uow.session.get_bind()):
        uow.session.refresh(invoice, with_for_update=True)
    apply_capture(uow, billing, invoice, attempt)


def apply_capture(uow: UnitOfWork, billing: Billing, invoice: Invoice, attempt: Payment) -> None:
    """A captured attempt pays its invoice; if the invoice no longer takes it, it goes back."""
    now = billing.clock.now()
    if invoice.status != "not_paid":
        # Paid otherwise or credited meanwhile: keep nothing that is not owed.
        key = f"refund:{attempt.idempotency_key}"
        reference = billing.provider.refund(
            attempt.provider_reference or "", attempt.amount, attempt.currency, key
        )
        uow.session.add(
            Payment(
                invoice_id=invoice.id,
                order_number=invoice.order_number,
                idempotency_key=key,
                method_id=attempt.method_id,
                method_kind=attempt.method_kind,
                amount=attempt.amount,
                currency=attempt.currency,
                status="refunded",
                provider_reference=reference,
                created_at=now,
            )
        )
        log.warning("payment.refunded_unowed", invoice_number=invoice.number, status=invoice.status)
        return
    invoice.status, invoice.payment_type, invoice.paid_at = "paid", "online", now
    invoice.payment_method_id = attempt.method_id
    invoice.payment_failure_reason = None
    uow.record("billing.payment.captured", payment_captured(invoice, attempt.method_kind))
    log.info("invoice.paid", invoice_number=invoice.number, order_number=invoice.order_number)


# -- payment methods -------------------------------------------------------------------------


def new_method_id() -> str:
    return "pm-" + secrets.token_hex(8)


def add_card(
    uow: UnitOfWork, billing: Billing, tenant: str, vault_token: str, method_id: str | None = None
) -> PaymentMethod | None:
    """Store a vaulted card for the tenant; None if the token is not one of the tenant's."""
    card = billing.provider.card(vault_token, tenant)
    if card is None:
        return None
    method = PaymentMethod(
        id=method_id or new_method_id(),
        tenant=tenant,
        kind="card",
        status="active",
        provider_token=vault_token,
        brand=card.brand,
        last4=card.last4,
        expiry=card.expiry,
        holder=card.holder,
        created_at=billing.clock.now(),
    )
    uow.session.add(method)
    return method


def start_paypal(uow: UnitOfWork, billing: Billing, tenant: str, return_url: str) -> PaymentMethod:
    approval = billing.provider.start_paypal(tenant)
    method = PaymentMethod(
        id=new_method_id(),
        tenant=tenant,
        kind="paypal",
        status="pending",
        approval_token=approval.approval_token,
        redirect_url=approval.redirect_url,
        return_url=return_url,
        created_at=billing.clock.now(),
    )
    uow.session.add(method)
    return method


def complete_paypal(uow: UnitOfWork, billing: Billing, approval_token: str) -> PaymentMethod | None:
    """The return callback: activate the method once the payer has approved (idempotent)."""
    method = uow.session.scalar(
        select(PaymentMethod).where(PaymentMethod.approval_token == approval_token)
    )
    if method is None:
        return None
    agreement = billing.provider.paypal_agreement(approval_token)
    if agreement is None:
        return method
    if method.status != "active":
        method.provider_token, method.email = agreement
        method.status = "active"
    return method


# -- the overdue job -----------------------------------------------------------------------------

OVERDUE_BATCH = 100


def mark_overdue(service) -> int:
    """Mark unpaid invoices past their due date overdue, once each; return how many."""
    today = service.clock.today()
    marked = 0
    while True:
        with service.uow() as uow:
            query = (
                select(Invoice)
                .where(
                    Invoice.status == "not_paid",
                    Invoice.overdue_at.is_(None),
                    Invoice.due_date < today,
                )
                .order_by(Invoice.id)
                .limit(OVERDUE_BATCH)
            )
            if not is_sqlite(uow.session.get_bind()):
                # Two workers running the job split the rows instead of both announcing them.
                query = query.with_for_update(skip_locked=True)
            invoices = list(uow.session.scalars(query))
            if not invoices:
                return marked
            now = service.clock.now()
            for invoice in invoices:
                invoice.overdue_at = now
                uow.record("billing.invoice.overdue", invoice_overdue(invoice))
                log.info("invoice.overdue", invoice_number=invoice.number)
            uow.commit()
            marked += len(invoices)


# -- the reconciliation job ----------------------------------------------------------------------

SETTLE_BATCH = 50


def settle_unknown_payments(service) -> int:
    """Settle attempts left pending by a crash, asking the provider by idempotency key.

    Only attempts older than ``payment_settle_after_seconds`` (longer than any provider call
    takes) are looked at, so one still in flight is left to its caller. Returns how many.
    """
    billing: Billing = service.billing
    settled = 0
    while True:
        cutoff = billing.clock.now() - dt.timedelta(
            seconds=billing.config.payment_settle_after_seconds
        )
        with service.uow() as uow:
            query = (
                select(Payment)
                .where(Payment.status == "pending", Payment.created_at < cutoff)
                .order_by(Payment.id)
                .limit(SETTLE_BATCH)
            )
            if not is_sqlite(uow.session.get_bind()):
                # Two workers running the job split the attempts instead of both settling one.
                query = query.with_for_update(skip_locked=True)
            pending = list(uow.session.scalars(query))
            if not pending:
                return settled
            for attempt in pending:
                settle_attempt(uow, billing, attempt)
            uow.commit()
            settled += len(pending)


def bind(handlers: dict, billing: Billing) -> dict:
    """The handlers with their dependencies bound, as the consumer calls them."""
    return {
        key: [functools.partial(handler, billing=billing) for handler in funcs]
        for key, funcs in handlers.items()
    }


EVENT_HANDLERS = {
    "orders.order.placed": [issue_invoice],
    "orders.order.cancelled": [issue_credit_note],
}
