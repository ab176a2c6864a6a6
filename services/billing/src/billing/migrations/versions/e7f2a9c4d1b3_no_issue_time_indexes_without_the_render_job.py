"""no issue time indexes without the render job

Revision ID: e7f2a9c4d1b3
Revises: b5d2e3f4a6c7
Create Date: 2026-12-03 09:40:00

``ix_invoices_issued_at`` and ``ix_credit_notes_issued_at`` served only the worker's
``render-documents`` job, which looked for recent documents without a PDF; PDFs now render on
first download (``billing.documents``), nothing reads by issue time, and every invoice and credit
note inserted no longer updates them. A worker of the release before, still running the job
during a rollout, reads without them: slower, not wrong.
"""
from alembic import op


revision = 'e7f2a9c4d1b3'
down_revision = 'b5d2e3f4a6c7'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_credit_notes_issued_at', table_name='credit_notes')
    op.drop_index('ix_invoices_issued_at', table_name='invoices')


def downgrade() -> None:
    op.create_index('ix_invoices_issued_at', 'invoices', ['issued_at'])
    op.create_index('ix_credit_notes_issued_at', 'credit_notes', ['issued_at'])
