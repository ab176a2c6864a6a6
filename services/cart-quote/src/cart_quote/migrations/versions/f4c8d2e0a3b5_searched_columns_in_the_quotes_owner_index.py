"""searched columns in the quotes index of their owner

Revision ID: f4c8d2e0a3b5
Revises: d7b8c8711b98
Create Date: 2026-12-03 07:00:00

``ix_quotes_tenant_id`` (tenant, id) also holds number and customer_name (``INCLUDE``, on PostgreSQL):
a search of one tenant's quotes reads the page's ids from this index alone, newest first,
filtering on the held columns as it goes (``portal_runtime.queries.page(keys_first=True)``), so
a partial name that matches thousands of rows across every tenant costs no more than the
tenant's own rows.
"""
from portal_runtime.migrations import rebuild_index


revision = 'f4c8d2e0a3b5'
down_revision = 'd7b8c8711b98'
branch_labels = None
depends_on = None


def upgrade() -> None:
    rebuild_index('ix_quotes_tenant_id', 'quotes', ['tenant', 'id'], include=['number', 'customer_name'])


def downgrade() -> None:
    rebuild_index('ix_quotes_tenant_id', 'quotes', ['tenant', 'id'])
