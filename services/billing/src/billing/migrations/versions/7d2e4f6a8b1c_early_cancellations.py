"""a cancellation that overtakes its invoice is kept until the invoice is issued

Revision ID: 7d2e4f6a8b1c
Revises: 5c1d2e3f4a5b
Create Date: 2026-12-01 21:50:00
"""

import sqlalchemy as sa
from alembic import op

import portal_runtime.db

revision = "7d2e4f6a8b1c"
down_revision = "5c1d2e3f4a5b"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "early_cancellations",
        sa.Column("order_number", sa.String(length=30), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("cancelled_at", portal_runtime.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("received_at", portal_runtime.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("order_number"),
    )


def downgrade() -> None:
    op.drop_table("early_cancellations")
