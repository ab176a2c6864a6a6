"""Issued documents' PDFs: rendered once, after the issuing transaction, and stored for good.

The issuing transaction holds the number series lock (``billing.numbering``) only while it
allocates the number and inserts the invoice or credit note; the PDF is rendered afterwards, by
the worker's ``render-documents`` job or by the first read that needs it, whichever comes first.
The job looks only at documents issued within ``RENDER_WINDOW`` (a worker that was down longer,
or a history imported without PDFs, renders on first download), so its query reads a few recent
rows, never a long history.
Rendering draws only what the document stored at issue, and the first stored rendition wins a
race (the other is discarded), so every download returns the same bytes, whose SHA-256 the JSON
shows.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from billing.models import CreditNote, CreditNoteDocument, Invoice, InvoiceDocument
from billing.pdf import render_credit_note, render_invoice
from portal_runtime import logs

log = logs.get("billing.documents")

RENDER_BATCH = 20
RENDER_WINDOW = dt.timedelta(days=2)


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


def invoices_with_lines():
    return select(Invoice).options(selectinload(Invoice.lines), joinedload(Invoice.credit_note))


def credit_notes_with_invoice():
    return select(CreditNote).options(joinedload(CreditNote.invoice).selectinload(Invoice.lines))


def render_pending(service) -> int:
    """The worker's job: render and store the PDFs of documents issued in the last
    ``RENDER_WINDOW`` without one yet."""
    since = service.clock.now() - RENDER_WINDOW
    with service.sessions() as session:
        invoices = session.scalars(
            invoices_with_lines()
            .where(
                Invoice.issued_at >= since,
                ~select(InvoiceDocument.id)
                .where(InvoiceDocument.invoice_id == Invoice.id)
                .exists(),
            )
            .order_by(Invoice.id)
            .limit(RENDER_BATCH)
        ).all()
        notes = (
            session.scalars(
                credit_notes_with_invoice()
                .where(
                    CreditNote.issued_at >= since,
                    ~select(CreditNoteDocument.id)
                    .where(CreditNoteDocument.credit_note_id == CreditNote.id)
                    .exists(),
                )
                .order_by(CreditNote.id)
                .limit(RENDER_BATCH)
            )
            .unique()
            .all()
        )
    # The query above found them without a document: no second look each.
    for invoice in invoices:
        render_invoice_document(service, invoice)
    for note in notes:
        render_credit_note_document(service, note)
    rendered = len(invoices) + len(notes)
    if rendered:
        log.info("documents.rendered", count=rendered)
    return rendered
