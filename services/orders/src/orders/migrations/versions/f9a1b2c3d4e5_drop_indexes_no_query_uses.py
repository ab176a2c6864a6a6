"""drop indexes no query uses

Revision ID: f9a1b2c3d4e5
Revises: e3b7c1d9f2a4
Create Date: 2026-12-03 07:00:00

Searches match PO numbers and end-user emails case-insensitively (``lower(...)`` indexes) and
one reseller's orders through the ``(reseller_id, ...)`` indexes: the plain single-column
indexes on those columns served nothing, yet every insert paid for them and every search's
planning weighed them.
"""
from alembic import op


revision = 'f9a1b2c3d4e5'
down_revision = 'e3b7c1d9f2a4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_orders_reseller_id', table_name='orders')
    op.drop_index('ix_orders_end_user_email', table_name='orders')
    op.drop_index('ix_orders_po_number', table_name='orders')


def downgrade() -> None:
    op.create_index('ix_orders_po_number', 'orders', ['po_number'])
    op.create_index('ix_orders_end_user_email', 'orders', ['end_user_email'])
    op.create_index('ix_orders_reseller_id', 'orders', ['reseller_id'])
