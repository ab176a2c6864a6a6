"""the inbox's key leads with the message id

Revision ID: c54903f53d2e
Revises: 306fa5e40b68
Create Date: 2026-12-03 16:00:00

A batch looks its messages up in the inbox by their ids. With the key (consumer, message_id),
the plan PostgreSQL keeps for that prepared statement could use the consumer alone, the one
value of this service, and read the whole inbox for every batch. With the message id first, the
batch's ids are the key's leading column (and the consumer plans its look-up at every run).
"""
from portal_runtime.migrations import key_inbox


revision = 'c54903f53d2e'
down_revision = '306fa5e40b68'
branch_labels = None
depends_on = None


def upgrade() -> None:
    key_inbox(["message_id", "consumer"])


def downgrade() -> None:
    key_inbox(["consumer", "message_id"])
