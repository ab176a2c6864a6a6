"""indexes for searches over a long history

Revision ID: c9e5a7b32d43
Revises: 7d2e4f6a8b1c
Create Date: 2026-12-01 22:20:00

Searches over a long history: one tenant's newest first, date ranges, case-insensitive equality
(expression indexes on lower(...), on SQLite too) and, on PostgreSQL only, pg_trgm GIN indexes for
partial matches (``lower(column) LIKE '%...%'``).
"""
from alembic import op
import sqlalchemy as sa

from portal_runtime.migrations import create_trigram_index, drop_trigram_index


revision = 'c9e5a7b32d43'
down_revision = '7d2e4f6a8b1c'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_invoices_tenant_id', 'invoices', ['tenant', 'id'])
    op.create_index('ix_invoices_lower_number', 'invoices', [sa.text('lower(number)')])
    op.create_index('ix_invoices_lower_customer_email', 'invoices', [sa.text('lower(customer_email)')])
    create_trigram_index('ix_invoices_customer_name_trgm', 'invoices', 'lower(customer_name)')


def downgrade() -> None:
    drop_trigram_index('ix_invoices_customer_name_trgm')
    op.drop_index('ix_invoices_lower_customer_email', table_name='invoices')
    op.drop_index('ix_invoices_lower_number', table_name='invoices')
    op.drop_index('ix_invoices_tenant_id', table_name='invoices')
