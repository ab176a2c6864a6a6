"""outbox rows keep their traceparent

Revision ID: 1d4e8dad08f4
Revises: 88696c165e5e
Create Date: 2026-12-02 02:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '1d4e8dad08f4'
down_revision = '88696c165e5e'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The W3C trace context of the request or delivery that wrote the row (None: not traced).
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('traceparent', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('traceparent')
