"""Events the orders service publishes."""

from marshmallow import validate

from portal_contracts.base import Money, Payload, fields
from portal_contracts.common import Buyer, Customer, Person, TaxLine

LINE_KINDS = ["new", "renewal", "upgrade", "downgrade"]


class OrderLine(Payload):
    line_no = fields.Integer(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(LINE_KINDS))
    product = fields.String(required=True)
    quantity = fields.Integer(required=True, validate=validate.Range(min=1))
    term_years = fields.Integer(load_default=None, allow_none=True)
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)
    # Under a year of cover gives no perpetual fallback right (DOMAIN.md, "Cart").
    fallback_eligible = fields.Boolean(required=True)
    team_id = fields.String(load_default=None, allow_none=True)
    # A new team to create for this line, when team_id is not given.
    team_name = fields.String(load_default=None, allow_none=True)
    # An existing pack number; null means "a new pack".
    subscription_pack = fields.String(load_default=None, allow_none=True)
    # The licenses a renewal, upgrade or downgrade acts on.
    license_ids = fields.List(fields.String(), load_default=list)
    unit_price = Money(required=True)
    amount = Money(required=True)
    # Added later (optional): the product's name as the catalog calls it, for documents.
    product_name = fields.String(load_default=None, allow_none=True)


class Payment(Payload):
    kind = fields.String(required=True, validate=validate.OneOf(["card", "paypal", "po"]))
    method_id = fields.String(load_default=None, allow_none=True)


class Source(Payload):
    kind = fields.String(required=True, validate=validate.OneOf(["direct", "cart", "quote"]))
    reference = fields.String(load_default=None, allow_none=True)


class BillingAddress(Payload):
    """The buyer's billing address as entered at checkout (or frozen on the quote)."""

    name = fields.String(load_default=None, allow_none=True)
    line1 = fields.String(required=True)
    line2 = fields.String(load_default=None, allow_none=True)
    city = fields.String(required=True)
    postal_code = fields.String(load_default=None, allow_none=True)
    region = fields.String(load_default=None, allow_none=True)
    country = fields.String(required=True)
    vat_id = fields.String(load_default=None, allow_none=True)


class OrderPlaced(Payload):
    order_number = fields.String(required=True)
    placed_at = fields.AwareDateTime(required=True)
    buyer = fields.Nested(Buyer, required=True)
    reseller_id = fields.String(required=True, allow_none=True)
    customer = fields.Nested(Customer, required=True)
    end_user = fields.Nested(Person, required=True)
    currency = fields.String(required=True, validate=validate.Length(equal=3))
    total = Money(required=True)
    po_number = fields.String(load_default=None, allow_none=True)
    payment = fields.Nested(Payment, required=True)
    send_activation_email = fields.Boolean(required=True)
    source = fields.Nested(Source, required=True)
    lines = fields.List(fields.Nested(OrderLine), required=True, validate=validate.Length(min=1))
    # Added later (optional): the address to invoice, and the order's page in the portal, which
    # the buyer's confirmation email links to.
    billing_address = fields.Nested(BillingAddress, load_default=None, allow_none=True)
    portal_url = fields.String(load_default=None, allow_none=True)
    # Added later (optional): the net sum of the lines and the tax on it; ``total`` is the gross
    # amount charged (subtotal + tax). Orders placed before tax was computed carry neither.
    subtotal = Money(load_default=None, allow_none=True)
    tax = fields.List(fields.Nested(TaxLine), load_default=None, allow_none=True)


class LicensesResendRequested(Payload):
    order_number = fields.String(required=True)
    buyer = fields.Nested(Buyer, required=True)
    customer = fields.Nested(Customer, required=True)
    end_user = fields.Nested(Person, required=True)
    license_ids = fields.List(fields.String(), required=True)
    requested_at = fields.AwareDateTime(required=True)


class ActivationEmailRequested(Payload):
    order_number = fields.String(required=True)
    buyer = fields.Nested(Buyer, required=True)
    customer = fields.Nested(Customer, required=True)
    end_user = fields.Nested(Person, required=True)
    license_ids = fields.List(fields.String(), required=True)
    requested_at = fields.AwareDateTime(required=True)


class OrderCancelled(Payload):
    order_number = fields.String(required=True)
    cancelled_at = fields.AwareDateTime(required=True)
    buyer = fields.Nested(Buyer, required=True)
    reseller_id = fields.String(required=True, allow_none=True)
    customer = fields.Nested(Customer, required=True)
    license_ids = fields.List(fields.String(), load_default=list)
    reason = fields.String(load_default=None, allow_none=True)
    # Added later (optional): the person who cancelled, and the order's PO and invoice.
    cancelled_by = fields.Nested(Buyer, load_default=None, allow_none=True)
    po_number = fields.String(load_default=None, allow_none=True)
    invoice_number = fields.String(load_default=None, allow_none=True)


EVENTS = {
    ("orders.order.placed", 1): OrderPlaced,
    ("orders.licenses.resend_requested", 1): LicensesResendRequested,
    ("orders.activation_email.requested", 1): ActivationEmailRequested,
    ("orders.order.cancelled", 1): OrderCancelled,
}
