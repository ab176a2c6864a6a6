"""outbox rows keep their traceparent

Revision ID: 9b61de0035d2
Revises: 6ef804e58c14
Create Date: 2026-12-02 02:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '9b61de0035d2'
down_revision = '6ef804e58c14'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The W3C trace context of the request or delivery that wrote the row (None: not traced).
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('traceparent', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('traceparent')
