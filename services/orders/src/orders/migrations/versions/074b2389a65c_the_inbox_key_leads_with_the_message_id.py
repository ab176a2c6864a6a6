"""the inbox's key leads with the message id

Revision ID: 074b2389a65c
Revises: f9a1b2c3d4e5
Create Date: 2026-12-03 16:00:00

A batch looks its messages up in the inbox by their ids. With the key (consumer, message_id),
the plan PostgreSQL keeps for that prepared statement could use the consumer alone, the one
value of this service, and read the whole inbox for every batch. With the message id first, the
batch's ids are the key's leading column (and the consumer plans its look-up at every run).
"""
from portal_runtime.migrations import key_inbox


revision = '074b2389a65c'
down_revision = 'f9a1b2c3d4e5'
branch_labels = None
depends_on = None


def upgrade() -> None:
    key_inbox(["message_id", "consumer"])


def downgrade() -> None:
    key_inbox(["consumer", "message_id"])
