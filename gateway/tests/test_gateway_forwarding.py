"""Forwarding to the services: identity, headers, roles, input limits, services that are down."""

import threading
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from gateway_testkit import (
    ACME_ADMIN,
    BILLING_ONLY,
    DEMO,
    OTHER,
    SALES_ONLY,
    SERVICE_KEYS,
    all_services,
    free_port,
    make_gateway,
)

from gateway.routes import all_routes
from portal_contracts import demo
from portal_runtime import identity as ids
from portal_runtime.keys import IdentityKeys

ACME, GLOBEX = demo.ACME_ID, demo.GLOBEX_ID
END_USER = {"first_name": "Ann", "last_name": "Lee", "email": "ann@acme.example"}
ADDRESS = {"name": "Demo", "line1": "1 Way", "city": "X", "postal_code": "1", "country": "US"}


def test_a_request_is_forwarded_with_a_signed_identity_and_the_same_request_id(gw, upstream):
    resp = gw.call(
        "GET", "/orders?customer_name=acme&limit=5", DEMO, headers={"X-Request-ID": "req-42"}
    )
    assert resp.status_code == 200
    assert resp.headers["X-Request-ID"] == "req-42"
    seen = upstream.last()
    assert seen["path"] == "/orders"
    assert seen["query"] == "customer_name=acme&limit=5"
    assert seen["headers"]["X-Request-Id"] == "req-42"
    assert "Authorization" not in seen["headers"]
    identity = seen["identity"]
    assert identity.kind == "reseller_user"
    assert identity.reseller_id == demo.DEMO_RESELLER_ID
    assert identity.customer_scope is None
    assert set(identity.roles) == {"admin", "sales", "billing"}


def test_a_customer_admin_is_forwarded_as_its_own_account(gw, upstream):
    assert gw.call("GET", f"/customers/{ACME}/cart", ACME_ADMIN).status_code == 200
    identity = upstream.last()["identity"]
    assert identity.kind == "customer_admin"
    assert identity.customer_id == ACME == identity.customer_scope
    assert identity.reseller_id is None


def test_an_identity_header_from_the_caller_is_not_trusted(gw, upstream):
    guessed = IdentityKeys("gateway", Ed25519PrivateKey.generate())
    forged = ids.sign(
        ids.service_identity("gateway"), guessed, audience="orders", method="GET", path="/orders"
    )
    resp = gw.call("GET", "/orders", DEMO, headers={ids.HEADER: forged})
    assert resp.status_code == 200
    assert upstream.last()["identity"].kind == "reseller_user"
    with pytest.raises(ids.Refused, match="signature"):
        ids.verify(forged, SERVICE_KEYS["orders"], method="GET", path="/orders")


def test_location_is_rewritten_to_the_public_prefix(gw):
    resp = gw.call("POST", "/payment-methods", DEMO, json={"kind": "card", "vault_token": "vt_1"})
    assert resp.status_code == 201
    assert resp.headers["Location"] == "/api/v1/payment-methods/O-1"


def test_downloads_pass_through_with_their_content_type_and_disposition(gw):
    resp = gw.call("GET", f"/customers/{GLOBEX}/licensing-report", DEMO)
    assert resp.status_code == 200
    assert resp.mimetype == "text/csv"
    assert "attachment" in resp.headers["Content-Disposition"]
    assert resp.get_data(as_text=True).startswith("license_id,product")


def test_a_download_reaches_the_caller_while_the_service_is_still_writing_it(gw, upstream):
    upstream.report_gate = threading.Event()
    try:
        resp = gw.call("GET", f"/customers/{GLOBEX}/licensing-report", DEMO, buffered=False)
        body = resp.iter_encoded()
        # The first line is here although the service has not written the rest yet.
        assert next(body) == b"license_id,product\n"
        upstream.report_gate.set()
        assert b"".join(body) == b"L-1,II\n"
        resp.close()
    finally:
        upstream.report_gate = None


def test_a_csv_upload_is_passed_through_to_the_service(gw, upstream):
    csv = "first_name,last_name,email\nAnn,Lee,ann@globex.example\n"
    resp = gw.call(
        "POST",
        f"/customers/{GLOBEX}/assignments?product=II",
        DEMO,
        data=csv,
        content_type="text/csv",
    )
    assert resp.status_code == 200
    seen = upstream.last()
    assert seen["body"].decode() == csv
    assert seen["content_type"].startswith("text/csv")
    assert seen["query"] == "product=II"


def test_unknown_body_fields_are_rejected_before_reaching_the_service(gw, upstream):
    before = len(upstream.received)
    resp = gw.call(
        "POST", "/payment-methods", DEMO, json={"kind": "card", "vault_token": "v", "color": "red"}
    )
    assert resp.status_code == 422
    assert resp.headers["Content-Type"] == "application/problem+json"
    assert "color" in resp.get_json()["errors"]
    assert len(upstream.received) == before


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (
            "/orders",
            {
                "customer_id": GLOBEX,
                "lines": [{"kind": "new", "product": "II", "quantity": 1, "unit_price": "0.01"}],
                "end_user": END_USER,
            },
        ),
        (
            "/orders",
            {
                "customer_id": GLOBEX,
                "lines": [{"kind": "new", "product": "II", "quantity": 1}],
                "end_user": END_USER,
                "total": "0.00",
                "status": "paid",
                "reseller_id": demo.OTHER_RESELLER_ID,
            },
        ),
        (
            f"/customers/{GLOBEX}/cart/items",
            {"kind": "new", "product": "II", "quantity": 1, "amount": "1"},
        ),
        (
            "/payment-methods",
            {"kind": "card", "vault_token": "v", "id": "pm-1", "status": "active"},
        ),
    ],
)
def test_mass_assignment_of_server_owned_fields_is_rejected_and_changes_nothing(
    gw, upstream, path, body
):
    before = len(upstream.received)
    resp = gw.call("POST", path, DEMO, json=body)
    assert resp.status_code == 422
    assert len(upstream.received) == before


def test_a_body_over_one_mebibyte_is_413(gw, upstream):
    before = len(upstream.received)
    big = {"kind": "card", "vault_token": "x" * (1024 * 1024 + 10)}
    resp = gw.call("POST", "/payment-methods", DEMO, json=big)
    assert resp.status_code == 413
    assert resp.headers["Content-Type"] == "application/problem+json"
    assert len(upstream.received) == before


def test_list_limits_above_100_are_rejected(gw):
    for path in (
        "/orders?limit=101",
        "/quotes?limit=500",
        f"/customers/{GLOBEX}/licenses?limit=1000",
    ):
        resp = gw.call("GET", path, DEMO)
        assert resp.status_code == 422, path
        assert "limit" in resp.get_json()["errors"]
    assert gw.call("GET", "/orders?limit=100", DEMO).status_code == 200


def test_unknown_query_parameters_are_rejected(gw):
    assert gw.call("GET", "/orders?reseller_id=RS-1002", DEMO).status_code == 422


def test_a_service_that_is_down_is_a_quick_503_with_retry_after(tmp_path, clock, upstream):
    urls = all_services(upstream.url)
    urls["orders"] = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    gw = make_gateway(tmp_path, clock, urls)
    started = time.monotonic()
    resp = gw.call("GET", "/orders", DEMO)
    assert time.monotonic() - started < 3
    assert resp.status_code == 503
    assert resp.headers["Retry-After"]
    assert resp.get_json()["detail"].startswith("The orders service is not answering")
    # The other services still answer.
    assert gw.call("GET", "/invoices", DEMO).status_code == 200


def test_a_service_error_is_a_502_problem_not_a_leak(gw):
    from gateway.routes import Route

    route = Route("GET", "/boom", "orders", "boom", "Test", roles=("sales",))
    from gateway.api import relay

    class Resp:
        status_code = 500
        content = b"Traceback: secret"
        headers = {"Content-Type": "text/plain"}

    with gw.app.test_request_context(), pytest.raises(Exception) as exc:
        relay(route, Resp())
    assert exc.value.status == 502


def test_public_routes_are_forwarded_without_any_identity(gw, upstream):
    resp = gw.call("POST", "/activation-codes/verify", json={"code": "abc"})
    assert upstream.last()["path"] == "/activation-codes/verify"
    assert upstream.last()["identity"] is None
    # The fake echo insists on an identity (the real route does not): a service refusing what the
    # gateway sent is the platform's failure, not the caller's.
    assert resp.status_code == 502
    gw.call("GET", "/activation-codes/public-key", DEMO)
    assert upstream.last()["identity"] is None


def test_checkout_is_rate_limited_per_reseller(tmp_path, clock, upstream):
    gw = make_gateway(tmp_path, clock, all_services(upstream.url), checkout_per_tenant=2)
    body = {"payment_method_id": "pm-1", "billing_address": ADDRESS, "end_user": END_USER}
    statuses = [
        gw.call("POST", f"/customers/{GLOBEX}/cart/checkout", who, json=body).status_code
        for who in (DEMO, SALES_ONLY, DEMO)
    ]
    assert statuses[:2] == [200, 200]
    assert statuses[2] == 429
    # Another reseller's budget is its own.
    enter = {"by": "customer_id", "value": ACME, "email": demo.ACME_CONTACT}
    assert gw.call("POST", "/customer-access", OTHER, json=enter).status_code == 200
    assert gw.call("POST", f"/customers/{ACME}/cart/checkout", OTHER, json=body).status_code == 200


# --- roles -----------------------------------------------------------------------------------

ROLE_CASES = [
    # (who, method, path, body, expected status)
    (
        BILLING_ONLY,
        "POST",
        f"/customers/{GLOBEX}/cart/checkout",
        {"payment_method_id": "p", "billing_address": ADDRESS, "end_user": END_USER},
        403,
    ),
    (
        BILLING_ONLY,
        "POST",
        "/orders",
        {
            "customer_id": GLOBEX,
            "lines": [{"kind": "new", "product": "II", "quantity": 1}],
            "end_user": END_USER,
        },
        403,
    ),
    (BILLING_ONLY, "POST", "/quotes/Q-1/order", {}, 403),
    (
        BILLING_ONLY,
        "POST",
        f"/customers/{GLOBEX}/cart/items",
        {"kind": "new", "product": "II", "quantity": 1},
        403,
    ),
    (BILLING_ONLY, "GET", "/orders", None, 200),
    (BILLING_ONLY, "GET", "/quotes/Q-1", None, 200),
    (BILLING_ONLY, "GET", "/invoices", None, 200),
    (BILLING_ONLY, "POST", "/payment-methods", {"kind": "card", "vault_token": "v"}, 201),
    (SALES_ONLY, "GET", "/payment-methods", None, 403),
    (SALES_ONLY, "POST", "/payment-methods", {"kind": "card", "vault_token": "v"}, 403),
    (SALES_ONLY, "DELETE", "/payment-methods/pm-1", None, 403),
    (
        SALES_ONLY,
        "POST",
        "/vault/cards",
        {"number": "4111111111111111", "expiry": "12/30", "cvc": "123", "holder": "A"},
        403,
    ),
    (SALES_ONLY, "GET", "/invoices", None, 403),
    (SALES_ONLY, "POST", "/invoices/I-1/pay", {"payment_method_id": "pm-1"}, 403),
    (
        SALES_ONLY,
        "POST",
        f"/customers/{GLOBEX}/cart/checkout",
        {"payment_method_id": "p", "billing_address": ADDRESS, "end_user": END_USER},
        200,
    ),
    (SALES_ONLY, "GET", f"/customers/{GLOBEX}/licenses", None, 200),
    (ACME_ADMIN, "GET", f"/customers/{ACME}/licenses", None, 200),
    (ACME_ADMIN, "GET", "/payment-methods", None, 200),
    (ACME_ADMIN, "POST", "/users", {"email": "a@b.example", "roles": ["sales"]}, 403),
    (ACME_ADMIN, "POST", "/customer-access", {"by": "email", "value": "a@b.example"}, 403),
]


@pytest.mark.parametrize(("who", "method", "path", "body", "expected"), ROLE_CASES)
def test_roles_decide_who_may_use_a_route(shared_gw, who, method, path, body, expected):
    gw = shared_gw
    resp = gw.call(method, path, who, json=body) if body is not None else gw.call(method, path, who)
    assert resp.status_code == expected, resp.get_json()


def concrete(path: str) -> str:
    path = path.replace("{customer_id}", GLOBEX).replace("{item_id}", "7")
    return path.replace("{", "x-").replace("}", "")


@pytest.mark.parametrize(
    "route", [r for r in all_routes() if not r.public], ids=lambda r: f"{r.method} {r.path}"
)
def test_every_non_public_route_refuses_anonymous_and_tampered_callers(shared_gw, upstream, route):
    gw = shared_gw
    before = len(upstream.received)
    path = concrete(route.path)
    assert gw.call(route.method, path).status_code == 401
    bad = {"Authorization": "Bearer " + gw.token(DEMO)[:-3] + "abc"}
    assert gw.call(route.method, path, headers=bad).status_code == 401
    assert len(upstream.received) == before


@pytest.mark.parametrize(
    "route",
    [r for r in all_routes() if r.customer_in == "path"],
    ids=lambda r: f"{r.method} {r.path}",
)
def test_every_customer_route_hides_a_customer_without_grant_or_management(
    shared_gw, upstream, route
):
    gw = shared_gw
    before = len(upstream.received)
    callers = [(OTHER, GLOBEX), (DEMO, ACME), (ACME_ADMIN, GLOBEX), (DEMO, "C-404")]
    # A route closed to a kind of caller is a 403 for it before any customer is looked at.
    callers = [
        (who, cid)
        for who, cid in callers
        if (customer_admin_may(route) if who == ACME_ADMIN else resellers_may(route))
    ]
    for who, customer_id in callers:
        path = concrete(route.path).replace(GLOBEX, customer_id)
        resp = gw.call(route.method, path, who)
        assert resp.status_code == 404, (who, path)
        assert resp.get_json()["detail"] == "No such customer."
    assert len(upstream.received) == before


def test_a_non_json_error_from_a_service_becomes_a_problem_with_its_status(gw):
    from gateway.api import relay
    from gateway.routes import Route

    route = Route("GET", "/quotes", "cart-quote", "search", "Test", roles=("sales",))

    class Resp:
        status_code = 414
        reason = "Request-URI Too Long"
        content = b"<html>URI Too Long</html>"
        headers = {"Content-Type": "text/html"}

    with gw.app.test_request_context(), pytest.raises(Exception) as exc:
        relay(route, Resp())
    assert exc.value.status == 414


def test_an_overlong_url_is_a_414_problem(gw, upstream):
    before = len(upstream.received)
    resp = gw.call("GET", "/orders?customer_name=" + "x" * 9000, DEMO)
    assert resp.status_code == 414
    assert resp.headers["Content-Type"] == "application/problem+json"
    assert len(upstream.received) == before


def test_dot_segments_in_a_path_parameter_are_not_forwarded(gw, upstream):
    before = len(upstream.received)
    assert gw.call("GET", "/orders/..", DEMO).status_code == 404
    assert gw.call("GET", "/orders/%2E%2E", DEMO).status_code == 404
    assert len(upstream.received) == before


def test_path_parameters_are_forwarded_as_single_segments(gw, upstream):
    assert gw.call("GET", "/orders/O%3F1", DEMO).status_code == 200
    assert upstream.last()["path"] == "/orders/O?1"
    assert upstream.last()["query"] == ""


def test_the_checkout_limit_can_be_turned_off(tmp_path, clock, upstream):
    gw = make_gateway(tmp_path, clock, all_services(upstream.url), checkout_per_tenant=0)
    body = {"payment_method_id": "pm-1", "billing_address": ADDRESS, "end_user": END_USER}
    for _ in range(3):
        resp = gw.call("POST", f"/customers/{GLOBEX}/cart/checkout", DEMO, json=body)
        assert resp.status_code == 200


def domain_roles(route) -> set[str] | None:
    """Who may use a route by DOMAIN.md, written apart from the route table: reseller roles
    besides admin, or None for routes only admins use."""
    path, method = route.path, route.method
    if path.startswith("/users"):
        return None
    if path in ("/me", "/me/password", "/auth/logout", "/products", "/products/{code}"):
        return {"sales", "billing"}
    if path.startswith(("/invoices", "/payment-methods", "/vault")):
        return {"billing"}
    if method == "GET" and path.startswith(("/orders", "/quotes")):
        return {"sales", "billing"}
    return {"sales"}


def customer_admin_may(route) -> bool:
    if route.path.startswith("/my/"):
        return False  # a license holder's own page: only an e-mailed link's token opens it
    if route.path.endswith("/management-requests"):
        return False  # a reseller asks to manage an account, not its own admins
    return not route.path.startswith(("/users", "/customer-access")) and route.path != "/customers"


def resellers_may(route) -> bool:
    """Only an account's own admins change who administers it: a reseller's access grant is
    temporary and must not turn into a lasting admin login."""
    changes_admins = route.method in ("POST", "DELETE") and route.path.endswith(
        ("/admins", "/admins/{user_id}", "/managing-resellers", "/managing-resellers/{reseller_id}")
    )
    # A license holder's own page ("My licenses"): only an e-mailed link's token opens it.
    return not changes_admins and not route.path.startswith("/my/")


@pytest.mark.parametrize(
    "route", [r for r in all_routes() if not r.public], ids=lambda r: f"{r.method} {r.path}"
)
def test_each_route_admits_exactly_the_roles_the_domain_gives_it(shared_gw, route):
    gw = shared_gw
    allowed = domain_roles(route) or set()
    if not resellers_may(route):
        allowed = set()
    for who, role in ((SALES_ONLY, "sales"), (BILLING_ONLY, "billing")):
        resp = gw.call(route.method, concrete(route.path), who)
        assert (resp.status_code == 403) == (role not in allowed), (who, resp.status_code)
    path = concrete(route.path).replace(GLOBEX, ACME)
    resp = gw.call(route.method, path, ACME_ADMIN)
    assert (resp.status_code == 403) == (not customer_admin_may(route)), resp.status_code
    as_admin = gw.call(route.method, concrete(route.path), DEMO).status_code
    assert (as_admin == 403) == (not resellers_may(route))


@pytest.mark.parametrize(
    "odd", ["x\u2028forged log line " * 3, "forged" * 11], ids=["control-chars", "65-chars"]
)
def test_an_odd_request_id_is_replaced_before_it_reaches_logs_and_services(gw, upstream, odd):
    """One longer than the events' correlation id column would fail the order on PostgreSQL."""
    resp = gw.call("GET", "/orders", DEMO, headers={"X-Request-ID": odd})
    assert resp.status_code == 200
    sent = upstream.last()["headers"]["X-Request-Id"]
    assert sent == resp.headers["X-Request-ID"]
    assert "forged" not in sent and len(sent) == 36
