"""Orders: place directly, search, read and the actions on one (orders; renew/copy: cart-quote)."""

from gateway.routes import SALES, SALES_OR_BILLING, Route
from gateway.routes._schemas import contract

TAG = "Orders"
ORDER = contract("orders", "OrderSchema")
ACCEPTED = contract("orders", "ActionAcceptedSchema")
CART = contract("carts", "CartSchema")

ROUTES = [
    Route(
        "POST",
        "/orders",
        "orders",
        "Place an order directly (Idempotency-Key)",
        TAG,
        roles=SALES,
        customer_admin=True,
        customer_in="body",
        body=contract("orders", "PlaceOrderRequest"),
        response=ORDER,
        status=201,
        idempotency_key=True,
        rate_limit="checkout",
        errors=(409,),
    ),
    Route(
        "GET",
        "/orders",
        "orders",
        "Search the caller's orders",
        TAG,
        roles=SALES_OR_BILLING,
        customer_admin=True,
        query=contract("orders", "OrderSearchArgs"),
        response=contract("orders", "OrderPageSchema"),
    ),
    Route(
        "GET",
        "/orders/{number}",
        "orders",
        "One order",
        TAG,
        roles=SALES_OR_BILLING,
        customer_admin=True,
        response=ORDER,
    ),
    Route(
        "POST",
        "/orders/{number}/resend-licenses",
        "orders",
        "Email the license details again",
        TAG,
        roles=SALES,
        customer_admin=True,
        response=ACCEPTED,
        status=202,
    ),
    Route(
        "POST",
        "/orders/{number}/activation-email",
        "orders",
        "Send the customer its activation e-mail",
        TAG,
        roles=SALES,
        customer_admin=True,
        response=ACCEPTED,
        status=202,
    ),
    Route(
        "POST",
        "/orders/{number}/renew",
        "cart-quote",
        "Put renewals of this order's licenses in the customer's cart",
        TAG,
        roles=SALES,
        customer_admin=True,
        response=CART,
    ),
    Route(
        "POST",
        "/orders/{number}/copy",
        "cart-quote",
        "Put a copy of this order's lines in the customer's cart",
        TAG,
        roles=SALES,
        customer_admin=True,
        response=CART,
    ),
    Route(
        "POST",
        "/orders/{number}/cancel",
        "orders",
        "Cancel within 7 days of placement (credit note, licenses removed)",
        TAG,
        roles=SALES,
        customer_admin=True,
        body=contract("orders", "CancelOrderRequest"),
        response=ORDER,
        errors=(409,),
    ),
]
