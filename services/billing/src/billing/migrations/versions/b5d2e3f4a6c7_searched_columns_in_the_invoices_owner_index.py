"""searched columns in the invoices index of their owner

Revision ID: b5d2e3f4a6c7
Revises: a4f1c2d3e5b6
Create Date: 2026-12-03 07:00:00

``ix_invoices_tenant_id`` (tenant, id) also holds customer_name (``INCLUDE``, on PostgreSQL):
a search of one tenant's invoices reads the page's ids from this index alone, newest first,
filtering on the held columns as it goes (``portal_runtime.queries.page(keys_first=True)``), so
a partial name that matches thousands of rows across every tenant costs no more than the
tenant's own rows.
"""
from portal_runtime.migrations import rebuild_index


revision = 'b5d2e3f4a6c7'
down_revision = 'a4f1c2d3e5b6'
branch_labels = None
depends_on = None


def upgrade() -> None:
    rebuild_index('ix_invoices_tenant_id', 'invoices', ['tenant', 'id'], include=['customer_name'])


def downgrade() -> None:
    rebuild_index('ix_invoices_tenant_id', 'invoices', ['tenant', 'id'])
