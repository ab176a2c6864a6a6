"""indexes for searches over a long history

Revision ID: b8d4f6a21c32
Revises: f77490ae9226
Create Date: 2026-12-01 22:20:00

Searches over a long history: one tenant's newest first, date ranges, case-insensitive equality
(expression indexes on lower(...), on SQLite too) and, on PostgreSQL only, pg_trgm GIN indexes for
partial matches (``lower(column) LIKE '%...%'``).
"""
from alembic import op
import sqlalchemy as sa

from portal_runtime.migrations import create_trigram_index, drop_trigram_index


revision = 'b8d4f6a21c32'
down_revision = 'f77490ae9226'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_quotes_tenant_id', 'quotes', ['tenant', 'id'])
    op.create_index('ix_quotes_tenant_issued_at', 'quotes', ['tenant', 'issued_at'])
    op.create_index('ix_quotes_lower_customer_email', 'quotes', [sa.text('lower(customer_email)')])
    op.create_index('ix_quotes_lower_end_user_email', 'quotes', [sa.text('lower(end_user_email)')])
    create_trigram_index('ix_quotes_number_trgm', 'quotes', 'lower(number)')
    create_trigram_index('ix_quotes_customer_name_trgm', 'quotes', 'lower(customer_name)')


def downgrade() -> None:
    drop_trigram_index('ix_quotes_customer_name_trgm')
    drop_trigram_index('ix_quotes_number_trgm')
    op.drop_index('ix_quotes_lower_end_user_email', table_name='quotes')
    op.drop_index('ix_quotes_lower_customer_email', table_name='quotes')
    op.drop_index('ix_quotes_tenant_issued_at', table_name='quotes')
    op.drop_index('ix_quotes_tenant_id', table_name='quotes')
