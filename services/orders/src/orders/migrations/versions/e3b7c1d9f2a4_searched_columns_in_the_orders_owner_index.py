"""searched columns in the orders index of their owner

Revision ID: e3b7c1d9f2a4
Revises: c65961584706
Create Date: 2026-12-03 07:00:00

``ix_orders_reseller_id_id`` (reseller_id, id) also holds customer_name (``INCLUDE``, on PostgreSQL):
a search of one reseller's orders reads the page's ids from this index alone, newest first,
filtering on the held columns as it goes (``portal_runtime.queries.page(keys_first=True)``), so
a partial name that matches thousands of rows across every reseller costs no more than the
reseller's own rows.
"""
from portal_runtime.migrations import rebuild_index


revision = 'e3b7c1d9f2a4'
down_revision = 'c65961584706'
branch_labels = None
depends_on = None


def upgrade() -> None:
    rebuild_index('ix_orders_reseller_id_id', 'orders', ['reseller_id', 'id'], include=['customer_name'])


def downgrade() -> None:
    rebuild_index('ix_orders_reseller_id_id', 'orders', ['reseller_id', 'id'])
