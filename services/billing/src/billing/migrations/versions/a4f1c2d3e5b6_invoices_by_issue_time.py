"""invoices by issue time

Revision ID: a4f1c2d3e5b6
Revises: 198063818329
Create Date: 2026-12-03 06:30:00

The worker's ``render-documents`` job looks only at documents issued in the last days
(``billing.documents.RENDER_WINDOW``): an index on the issue time finds them without reading a
long history.
"""
from alembic import op


revision = 'a4f1c2d3e5b6'
down_revision = '198063818329'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_invoices_issued_at', 'invoices', ['issued_at'])
    op.create_index('ix_credit_notes_issued_at', 'credit_notes', ['issued_at'])


def downgrade() -> None:
    op.drop_index('ix_credit_notes_issued_at', table_name='credit_notes')
    op.drop_index('ix_invoices_issued_at', table_name='invoices')
