"""outbox rows keep their traceparent

Revision ID: c65961584706
Revises: db29756d613e
Create Date: 2026-12-02 02:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = 'c65961584706'
down_revision = 'db29756d613e'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The W3C trace context of the request or delivery that wrote the row (None: not traced).
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('traceparent', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('traceparent')
