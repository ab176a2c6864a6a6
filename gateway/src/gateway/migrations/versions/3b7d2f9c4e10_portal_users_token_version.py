"""portal users have a token version

Revision ID: 3b7d2f9c4e10
Revises: 1d4e8dad08f4
Create Date: 2026-12-02 01:50:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '3b7d2f9c4e10'
down_revision = '1d4e8dad08f4'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('portal_users', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('token_version', sa.Integer(), server_default='0', nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table('portal_users', schema=None) as batch_op:
        batch_op.drop_column('token_version')
