"""payment attempts are recorded before the provider is called

Revision ID: 5c1d2e3f4a5b
Revises: 0b42dc82f374
Create Date: 2026-12-01 21:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "5c1d2e3f4a5b"
down_revision = "0b42dc82f374"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("order_number", sa.String(length=30), nullable=True))
        batch_op.alter_column("invoice_id", existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(batch_op.f("ix_payments_order_number"), ["order_number"])
        batch_op.create_index(batch_op.f("ix_payments_status"), ["status"])


def downgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_status"))
        batch_op.drop_index(batch_op.f("ix_payments_order_number"))
        batch_op.alter_column("invoice_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("order_number")
