"""The orders service: owns orders, order lines, PO numbers and idempotency keys."""

SERVICE = "orders"
