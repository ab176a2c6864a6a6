"""Invoices, payment methods, the sandbox vault and PayPal's sandbox page (billing)."""

from marshmallow import fields, validate

from gateway.routes import BILLING, Route
from gateway.routes._schemas import contract
from portal_contracts.api.common import Strict

TAG = "Billing"
INVOICE = contract("invoices", "InvoiceSchema")
METHOD = contract("payment_methods", "PaymentMethodSchema")


class SandboxApprovalArgs(Strict):
    """Query of GET and POST /sandbox/paypal/approve (the sandbox provider's approval page)."""

    token = fields.String(required=True, validate=validate.Length(min=1, max=100))


class SandboxVaultArgs(Strict):
    """Query of GET and POST /sandbox/vault/card (the sandbox vault's own card page)."""

    session = fields.String(required=True, validate=validate.Length(min=1, max=100))


ROUTES = [
    Route(
        "GET",
        "/invoices",
        "billing",
        "Search the caller's invoices",
        TAG,
        roles=BILLING,
        customer_admin=True,
        query=contract("invoices", "InvoiceSearchArgs"),
        response=contract("invoices", "InvoicePageSchema"),
    ),
    Route(
        "GET",
        "/invoices/summary",
        "billing",
        "Unpaid and overdue counts (the warning sign)",
        TAG,
        roles=BILLING,
        customer_admin=True,
        response=contract("invoices", "InvoiceSummarySchema"),
    ),
    Route(
        "GET",
        "/invoices/{number}",
        "billing",
        "One invoice",
        TAG,
        roles=BILLING,
        customer_admin=True,
        response=INVOICE,
    ),
    Route(
        "GET",
        "/invoices/{number}/pdf",
        "billing",
        "The invoice as a PDF (as issued: the same bytes on every download)",
        TAG,
        roles=BILLING,
        customer_admin=True,
        produces=("application/pdf",),
    ),
    Route(
        "GET",
        "/invoices/{number}/credit-note/pdf",
        "billing",
        "The credit note correcting this invoice, as a PDF (404 while there is none)",
        TAG,
        roles=BILLING,
        customer_admin=True,
        produces=("application/pdf",),
    ),
    Route(
        "POST",
        "/invoices/{number}/pay",
        "billing",
        "Pay an invoice with a stored payment method",
        TAG,
        roles=BILLING,
        customer_admin=True,
        body=contract("invoices", "PayInvoiceRequest"),
        response=INVOICE,
        errors=(409,),
    ),
    Route(
        "GET",
        "/payment-methods",
        "billing",
        "The caller's stored payment methods",
        TAG,
        roles=BILLING,
        customer_admin=True,
        query=contract("payment_methods", "PaymentMethodListArgs"),
        response=contract("payment_methods", "PaymentMethodPageSchema"),
    ),
    Route(
        "POST",
        "/payment-methods",
        "billing",
        "Store a card (by vault token) or start PayPal set-up",
        TAG,
        roles=BILLING,
        customer_admin=True,
        body=contract("payment_methods", "CreatePaymentMethodRequest"),
        response=METHOD,
        status=201,
    ),
    Route(
        "DELETE",
        "/payment-methods/{method_id}",
        "billing",
        "Remove a stored payment method",
        TAG,
        roles=BILLING,
        customer_admin=True,
        status=204,
    ),
    # The sandbox vault stands in for the provider's client-side tokenisation. It needs a
    # signed-in user who may manage payment methods: the token is bound to that user's tenant.
    Route(
        "POST",
        "/vault/cards",
        "billing",
        "Sandbox vault: tokenise a card (the only route that accepts a card number)",
        TAG,
        roles=BILLING,
        customer_admin=True,
        body=contract("vault", "VaultCardRequest"),
        response=contract("vault", "VaultCardResponse"),
        status=201,
    ),
    Route(
        "POST",
        "/vault/sessions",
        "billing",
        "Sandbox vault: open its own card page (the card is typed there, never in the portal)",
        TAG,
        roles=BILLING,
        customer_admin=True,
        body=contract("vault", "VaultSessionRequest"),
        response=contract("vault", "VaultSessionResponse"),
        status=201,
    ),
    Route(
        "GET",
        "/sandbox/vault/card",
        "billing",
        "Sandbox vault: its card page (card number, expiry, CVC, holder)",
        TAG,
        public=True,
        query=SandboxVaultArgs,
        produces=("text/html",),
        errors=(404,),
    ),
    Route(
        "POST",
        "/sandbox/vault/card",
        "billing",
        "Sandbox vault: store the card typed on its page, then back with ?vault_token=",
        TAG,
        public=True,
        query=SandboxVaultArgs,
        accepts=("application/x-www-form-urlencoded",),
        status=303,
        errors=(404, 422),
    ),
    Route(
        "GET",
        "/sandbox/paypal/approve",
        "billing",
        "Sandbox PayPal: the approval page the payer is redirected to",
        TAG,
        public=True,
        query=SandboxApprovalArgs,
        produces=("text/html",),
        errors=(404,),
    ),
    Route(
        "POST",
        "/sandbox/paypal/approve",
        "billing",
        "Sandbox PayPal: approve, then back to the portal's return URL",
        TAG,
        public=True,
        query=SandboxApprovalArgs,
        accepts=("application/x-www-form-urlencoded",),
        status=302,
        errors=(404,),
    ),
]
