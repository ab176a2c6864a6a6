"""What an invoice and its credit note say: who owns it, its amounts, lines and payment terms.

An order's invoice is its gross total (net lines + the tax cart-quote computed), numbered gapless
per seller and year (``billing.numbering``); a cancelled order's invoice gets one credit note:
refunded if it was paid, else applied.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import String, bindparam, exists, select

from billing import events
from billing.config import BillingConfig
from billing.models import (
    CreditNote,
    EarlyCancellation,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Payment,
    PaymentMethod,
)
from billing.numbering import series_owner, take_next
from billing.ports import ChargeResult, PaymentProvider
from portal_runtime import logs
from portal_runtime.clock import Clock
from portal_runtime.db import is_sqlite
from portal_runtime.seller import Seller
from portal_runtime.uow import UnitOfWork

log = logs.get("billing")


# -- who owns what -------------------------------------------------------------------------------


def tenant_of(buyer: dict) -> str:
    """The identity tenant a buyer's invoices and payment methods belong to."""
    if buyer["kind"] == "customer":
        return f"customer:{buyer['customer_id']}"
    return f"reseller:{buyer['reseller_id']}"


def owner_of(buyer: dict) -> str:
    return buyer["customer_id"] if buyer["kind"] == "customer" else buyer["reseller_id"]


# Built once, like the look-ups below: its construction cost more than its round trip.
ACTIVE_METHOD = select(PaymentMethod).where(
    PaymentMethod.id == bindparam("method_id"),
    PaymentMethod.tenant == bindparam("tenant"),
    PaymentMethod.status == "active",
)


def active_method(uow: UnitOfWork, tenant: str, method_id: str | None) -> PaymentMethod | None:
    if not method_id:
        return None
    return uow.session.scalar(ACTIVE_METHOD, {"method_id": method_id, "tenant": tenant})


def invoice_for(uow: UnitOfWork, order_number: str) -> Invoice | None:
    return uow.session.scalar(select(Invoice).where(Invoice.order_number == order_number))


INVOICES = Invoice.__table__
EARLY_CANCELLATIONS = EarlyCancellation.__table__


def invoiced(order_number):
    """Whether the order has its invoice, as a SQL expression (Core: a yes or no needs no
    object, and a Core statement sends nothing the session holds first)."""
    return exists().where(INVOICES.c.order_number == order_number)


ORDER_NUMBER = bindparam("order_number", type_=String)
# Built once: building them for every order cost more than their round trips.
IS_INVOICED = select(invoiced(ORDER_NUMBER))
ORDER_STATE = select(
    invoiced(ORDER_NUMBER),
    exists().where(EARLY_CANCELLATIONS.c.order_number == ORDER_NUMBER),
)


def is_invoiced(uow: UnitOfWork, order_number: str) -> bool:
    return uow.session.scalar(IS_INVOICED, {"order_number": order_number})


def order_state(uow: UnitOfWork, order_number: str) -> tuple[bool, bool]:
    """``(invoiced, cancelled early)`` in one round trip: taken under the order's lock, it sees
    a competing worker's invoice and a cancellation that overtook this one (both are written
    under that lock)."""
    return tuple(uow.session.execute(ORDER_STATE, {"order_number": order_number}).one())


def find_invoice(uow: UnitOfWork, tenant: str | None, number: str, lock: bool = False):
    query = select(Invoice).where(Invoice.number == number)
    if tenant is not None:
        query = query.where(Invoice.tenant == tenant)
    if lock and not is_sqlite(uow.session.get_bind()):
        # Read it afresh under the lock, not as this session last saw it.
        query = query.with_for_update().execution_options(populate_existing=True)
    return uow.session.scalar(query)


# -- what the invoice says -------------------------------------------------------------------------


def line_kind(order_line_kind: str) -> str:
    # An upgrade buys a new All Products Pack subscription; a downgrade happens at renewal.
    return "renewal" if order_line_kind in ("renewal", "downgrade") else "new"


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


def amounts_of(order: dict) -> tuple[Decimal, list[dict], Decimal]:
    """``(subtotal, tax, amount)``: net lines plus their tax make the gross amount the order's
    total says and the card is charged."""
    subtotal = sum((Decimal(line["amount"]) for line in order["lines"]), Decimal("0.00"))
    tax = tax_of(order)
    amount = subtotal + sum((Decimal(t["amount"]) for t in tax), Decimal("0.00"))
    if order.get("total") is not None and Decimal(str(order["total"])) != amount:
        raise ValueError(
            f"order {order['order_number']}: lines and tax make {amount}, "
            f"total says {order['total']}"
        )
    return subtotal, tax, amount


def new_invoice(order: dict, number: str, seller: Seller, now: dt.datetime) -> Invoice:
    """The order's invoice with its lines, before its payment outcome (:func:`state_payment`)."""
    buyer = dict(order["buyer"])
    subtotal, tax, amount = amounts_of(order)
    today = now.date()
    invoice = Invoice(
        number=number,
        order_number=order["order_number"],
        tenant=tenant_of(buyer),
        owner=owner_of(buyer),
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
        payment_kind=order["payment"]["kind"],
        payment_method_id=order["payment"].get("method_id"),
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
    return invoice


def state_payment(
    invoice: Invoice,
    charge: ChargeResult | None,
    label: str,
    now: dt.datetime,
    config: BillingConfig,
) -> None:
    """Status, due date and the terms the invoice states: a transfer (no charge: a PO), paid, or
    a declined charge with its grace period."""
    today = now.date()
    kind = invoice.payment_kind
    if charge is None:
        invoice.status, invoice.payment_type = InvoiceStatus.not_paid, "postpaid"
        invoice.due_date = today + dt.timedelta(days=config.po_due_days)
        terms = {"kind": "transfer", "net_days": config.po_due_days}
    elif charge.approved:
        invoice.status, invoice.payment_type, invoice.paid_at = InvoiceStatus.paid, "online", now
        terms = {"kind": "paid", "paid_on": today.isoformat(), "method_label": label}
        terms["reference"] = charge.reference or invoice.order_number
    else:
        invoice.status, invoice.payment_type = InvoiceStatus.not_paid, "online"
        invoice.payment_failure_reason = charge.reason
        invoice.grace_until = today + dt.timedelta(days=config.grace_days)
        # Due by the end of the grace period: overdue then, like the licenses.
        invoice.due_date = invoice.grace_until
        terms = {"kind": "payment_failed", "attempted_on": today.isoformat()}
        terms["method_label"] = label
    terms.update(method=kind, due_date=invoice.due_date.isoformat())
    # A transfer quotes the invoice number (and the buyer's PO, when there is one).
    terms.setdefault("reference", " / ".join(p for p in (invoice.number, invoice.po_number) if p))
    invoice.terms = terms


# -- the credit note of a cancelled order ---------------------------------------------------------


def credit_invoice(
    uow: UnitOfWork,
    payments: PaymentProvider,
    seller: Seller,
    clock: Clock,
    invoice: Invoice,
    reason: str | None,
) -> None:
    """The credit note of a cancelled order's invoice: refunded if paid, else applied. Once."""
    if invoice.credit_note is not None:
        return
    now = clock.now()
    # Lock the invoice: a payment arriving meanwhile must not be overwritten by "applied", and a
    # competing cancellation waits here and then finds this credit note.
    uow.session.refresh(invoice, with_for_update=True)
    if uow.session.scalar(select(CreditNote.id).where(CreditNote.invoice_id == invoice.id)):
        return
    refunded = invoice.status == InvoiceStatus.paid
    note = CreditNote(
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
        note.refund_reference = payments.refund(
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
        invoice.apply_credit_note()
    # Numbered last: the series stays locked from here to the commit, not over the refund.
    note.number = take_next(uow.session, "CN", series_owner(seller.code, now.date()))
    invoice.credit_note = note
    uow.session.add(note)
    uow.session.flush()
    uow.record("billing.credit_note.issued", events.credit_note_issued(note, invoice))
    log.info(
        "credit_note.issued",
        credit_note_number=note.number,
        invoice_number=invoice.number,
        refunded=refunded,
    )
