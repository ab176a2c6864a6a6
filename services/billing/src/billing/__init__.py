"""Billing: invoices, credit notes, payments, payment-method tokens, the sandbox vault."""

SERVICE = "billing"
