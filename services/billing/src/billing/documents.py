"""Issued documents' PDFs: rendered on first download and stored for good.

Issuing an invoice or credit note stores what it says, not its PDF: most are never downloaded
(the invoice mail links to the PDF rather than attaching it), and rendering each one as it was
issued cost the billing worker about as much CPU as issuing it. The first read that needs the
PDF (its download, or the invoice's JSON, which shows the stored PDF's SHA-256) renders it,
outside any transaction, and stores it in a short transaction of its own.
Rendering draws only what the document stored at issue, and the first stored rendition wins a
race (the unique key on the document refuses the second, which is discarded), so every download
returns the same bytes, whose SHA-256 the JSON shows.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from billing.models import CreditNote, CreditNoteDocument, Invoice, InvoiceDocument
from billing.pdf import render_credit_note, render_invoice


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def stored_invoice_document(session: Session, invoice: Invoice) -> InvoiceDocument | None:
    """The invoice's PDF as issued (version 1), if rendered."""
    return session.scalar(
        select(InvoiceDocument)
        .where(InvoiceDocument.invoice_id == invoice.id)
        .order_by(InvoiceDocument.version)
        .limit(1)
    )


def stored_credit_note_document(session: Session, note: CreditNote) -> CreditNoteDocument | None:
    return session.scalar(
        select(CreditNoteDocument).where(CreditNoteDocument.credit_note_id == note.id)
    )


def _store(service, row, find):
    """Insert ``row`` in a short transaction of its own; if another process stored the
    document first, keep and return that one."""
    with service.sessions() as session:
        session.add(row)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
            return find(session)
        return row


def invoice_document(service, invoice: Invoice) -> InvoiceDocument:
    """The stored PDF of ``invoice`` (loaded with its lines), rendering and storing it first
    if nobody has yet. Rendering happens outside any transaction: on SQLite every transaction
    holds the write lock, and on PostgreSQL nothing needs to wait for a PDF."""
    with service.sessions() as session:
        doc = stored_invoice_document(session, invoice)
    if doc is not None:
        return doc
    return render_invoice_document(service, invoice)


def render_invoice_document(service, invoice: Invoice) -> InvoiceDocument:
    """Render and store the PDF of ``invoice``, which had none when the caller looked."""
    content = render_invoice(invoice)
    row = InvoiceDocument(
        invoice_id=invoice.id,
        version=1,
        reason="issued",
        created_at=invoice.issued_at,
        content=content,
        sha256=sha256(content),
    )
    return _store(service, row, lambda session: stored_invoice_document(session, invoice))


def credit_note_document(service, note: CreditNote) -> CreditNoteDocument:
    """The stored PDF of ``note`` (loaded with its invoice and the invoice's lines)."""
    with service.sessions() as session:
        doc = stored_credit_note_document(session, note)
    if doc is not None:
        return doc
    return render_credit_note_document(service, note)


def render_credit_note_document(service, note: CreditNote) -> CreditNoteDocument:
    """Render and store the PDF of ``note``, which had none when the caller looked."""
    content = render_credit_note(note)
    row = CreditNoteDocument(
        credit_note_id=note.id, created_at=note.issued_at, content=content, sha256=sha256(content)
    )
    return _store(service, row, lambda session: stored_credit_note_document(session, note))


def document_sha256(doc) -> str:
    """A stored rendition's SHA-256 (computed for renditions stored before the column)."""
    return doc.sha256 or sha256(doc.content)


def credit_notes_with_invoice():
    """Credit notes with what their PDF draws: the invoice they correct and its lines."""
    return select(CreditNote).options(joinedload(CreditNote.invoice).selectinload(Invoice.lines))
