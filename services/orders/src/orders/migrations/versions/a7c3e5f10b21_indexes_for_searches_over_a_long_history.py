"""indexes for searches over a long history

Revision ID: a7c3e5f10b21
Revises: 960bb7aba21b
Create Date: 2026-12-01 22:20:00

Searches over a long history: one tenant's newest first, date ranges, case-insensitive equality
(expression indexes on lower(...), on SQLite too) and, on PostgreSQL only, pg_trgm GIN indexes for
partial matches (``lower(column) LIKE '%...%'``).
"""
from alembic import op
import sqlalchemy as sa

from portal_runtime.migrations import create_trigram_index, drop_trigram_index


revision = 'a7c3e5f10b21'
down_revision = '960bb7aba21b'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_orders_reseller_id_id', 'orders', ['reseller_id', 'id'])
    op.create_index('ix_orders_reseller_id_placed_at', 'orders', ['reseller_id', 'placed_at'])
    op.create_index('ix_orders_lower_number', 'orders', [sa.text('lower(number)')])
    op.create_index('ix_orders_lower_po_number', 'orders', [sa.text('lower(po_number)')])
    op.create_index('ix_orders_lower_customer_email', 'orders', [sa.text('lower(customer_email)')])
    op.create_index('ix_orders_lower_end_user_email', 'orders', [sa.text('lower(end_user_email)')])
    op.create_index('ix_orders_lower_source_reference', 'orders', [sa.text('lower(source_reference)')])
    create_trigram_index('ix_orders_customer_name_trgm', 'orders', 'lower(customer_name)')


def downgrade() -> None:
    drop_trigram_index('ix_orders_customer_name_trgm')
    op.drop_index('ix_orders_lower_source_reference', table_name='orders')
    op.drop_index('ix_orders_lower_end_user_email', table_name='orders')
    op.drop_index('ix_orders_lower_customer_email', table_name='orders')
    op.drop_index('ix_orders_lower_po_number', table_name='orders')
    op.drop_index('ix_orders_lower_number', table_name='orders')
    op.drop_index('ix_orders_reseller_id_placed_at', table_name='orders')
    op.drop_index('ix_orders_reseller_id_id', table_name='orders')
