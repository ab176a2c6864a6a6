"""Settings of the billing service."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from billing import SERVICE
from portal_runtime.config import Config
from portal_runtime.seller import Seller


@dataclass
class BillingConfig(Config):
    # A PO (bank transfer) invoice is due this many days after it is issued.
    po_due_days: int = 30
    # After a declined charge the licenses stay usable this many days, then are suspended.
    grace_days: int = 7
    # How often the worker looks for invoices that have just become overdue.
    overdue_check_seconds: float = 300.0
    # A payment attempt still without the provider's answer after this long was cut short by a
    # crash (it must exceed the provider's call timeout); the reconciliation job, run this often,
    # asks the provider what it did under the attempt's idempotency key.
    payment_settle_after_seconds: float = 300.0
    payment_reconcile_seconds: float = 60.0
    # The public base URL (the gateway): PayPal's sandbox approval page is served through it.
    portal_base_url: str = "http://127.0.0.1:8080"
    # The local payment sandbox (vault, charges, PayPal approvals) keeps its own store, as a
    # real provider would: it is never billing's database.
    sandbox_database_url: str = ""
    # Hosts a PayPal approval may send the payer back to, besides the portal's own
    # (PAYPAL_RETURN_HOSTS, comma-separated): anything else would make us an open redirect.
    paypal_return_hosts: tuple[str, ...] = ()
    # Who issues the invoices and credit notes (SELLER_* variables); numbered per seller and year.
    seller: Seller = field(default_factory=Seller.from_env)

    def may_return_to(self, url: str) -> bool:
        host = urlsplit(url).netloc.lower()
        own = urlsplit(self.portal_base_url).netloc.lower()
        return bool(host) and (host == own or host in self.paypal_return_hosts)

    @classmethod
    def from_env(cls, service: str = "billing", **overrides) -> BillingConfig:
        """Billing's own settings: ``BILLING_PO_DUE_DAYS``, ``BILLING_GRACE_DAYS``,
        ``BILLING_OVERDUE_CHECK_SECONDS``, ``BILLING_PAYMENT_SETTLE_AFTER_SECONDS``,
        ``BILLING_RECONCILE_SECONDS``, ``PORTAL_BASE_URL``, ``BILLING_SANDBOX_DATABASE_URL``,
        ``PAYPAL_RETURN_HOSTS``; the seller from
        ``SELLER_*`` (``portal_runtime.seller``)."""
        values = dict(
            po_due_days=int(os.environ.get("BILLING_PO_DUE_DAYS", "30")),
            grace_days=int(os.environ.get("BILLING_GRACE_DAYS", "7")),
            overdue_check_seconds=float(os.environ.get("BILLING_OVERDUE_CHECK_SECONDS", "300")),
            payment_settle_after_seconds=float(
                os.environ.get("BILLING_PAYMENT_SETTLE_AFTER_SECONDS", "300")
            ),
            payment_reconcile_seconds=float(os.environ.get("BILLING_RECONCILE_SECONDS", "60")),
            portal_base_url=os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8080"),
            sandbox_database_url=os.environ.get("BILLING_SANDBOX_DATABASE_URL", ""),
            paypal_return_hosts=tuple(
                h.strip().lower()
                for h in os.environ.get("PAYPAL_RETURN_HOSTS", "").split(",")
                if h.strip()
            ),
        )
        values.update(overrides)
        return super().from_env(service, **values)


def config_from_env() -> BillingConfig:
    return BillingConfig.from_env(SERVICE)
