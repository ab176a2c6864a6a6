"""The OpenAPI document: every public route of API.md, with its schemas, auth and errors."""

import pytest

from gateway.routes import all_routes
from gateway.routes._schemas import AnyObject

# Every route of API.md (design/API.md), as the gateway publishes it.
API_MD = """
POST /auth/token
GET /me
GET /users
POST /users
PATCH /users/{user_id}
POST /customer-access
GET /customers
GET /products
GET /products/{code}
GET /customers/{customer_id}/cart
POST /customers/{customer_id}/cart/items
PATCH /customers/{customer_id}/cart/items/{item_id}
DELETE /customers/{customer_id}/cart/items/{item_id}
POST /customers/{customer_id}/cart/quote
POST /customers/{customer_id}/cart/checkout
GET /customers/{customer_id}/renewals
GET /quotes
GET /quotes/{number}
POST /quotes/{number}/cancel
POST /quotes/{number}/order
POST /orders
GET /orders
GET /orders/{number}
POST /orders/{number}/resend-licenses
POST /orders/{number}/activation-email
POST /orders/{number}/renew
POST /orders/{number}/copy
POST /orders/{number}/cancel
GET /invoices
GET /invoices/summary
GET /invoices/{number}
GET /invoices/{number}/pdf
POST /invoices/{number}/pay
GET /payment-methods
POST /payment-methods
DELETE /payment-methods/{method_id}
POST /vault/cards
GET /customers/{customer_id}/licenses
POST /customers/{customer_id}/assignments
GET /customers/{customer_id}/users
POST /customers/{customer_id}/licenses/{license_id}/revoke
GET /customers/{customer_id}/licenses/{license_id}/activation-code
GET /customers/{customer_id}/teams
POST /customers/{customer_id}/teams
POST /customers/{customer_id}/teams/{team_id}/transfer
GET /customers/{customer_id}/subscription-packs
GET /customers/{customer_id}/invitation-links
POST /customers/{customer_id}/invitation-links
POST /customers/{customer_id}/invitation-links/{link_id}/regenerate
DELETE /customers/{customer_id}/invitation-links/{link_id}
POST /invitations/{token}/claim
GET /customers/{customer_id}/licensing-report
POST /activation-codes/verify
GET /activation-codes/public-key
POST /customers
GET /customers/{customer_id}/admins
POST /customers/{customer_id}/admins
DELETE /customers/{customer_id}/admins/{user_id}
GET /customers/{customer_id}/managing-resellers
POST /customers/{customer_id}/managing-resellers
DELETE /customers/{customer_id}/managing-resellers/{reseller_id}
POST /customers/{customer_id}/management-requests
POST /management-requests/{token}/approve
POST /management-requests/{token}/decline
POST /auth/password
"""
PUBLIC = {
    ("POST", "/auth/token"),
    ("POST", "/invitations/{token}/claim"),
    ("POST", "/activation-codes/verify"),
    ("GET", "/activation-codes/public-key"),
    ("GET", "/management-requests/{token}"),
    ("POST", "/management-requests/{token}/approve"),
    ("POST", "/management-requests/{token}/decline"),
    ("POST", "/auth/password"),
    # My licenses: asking for a link, and opening it (the token of the e-mailed link).
    ("POST", "/auth/my-licenses-link"),
    ("POST", "/auth/my-licenses-session"),
    ("GET", "/invitations/{token}"),
    ("GET", "/sandbox/paypal/approve"),
    ("POST", "/sandbox/paypal/approve"),
    # The sandbox vault's own card page: the user's browser, by the session the portal opened.
    ("GET", "/sandbox/vault/card"),
    ("POST", "/sandbox/vault/card"),
}


@pytest.fixture(scope="module")
def spec(shared_gw):
    resp = shared_gw.client.get("/api/v1/openapi.json")
    assert resp.status_code == 200
    return resp.get_json()


def operations(spec):
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method in ("get", "post", "patch", "put", "delete"):
                yield method.upper(), path.removeprefix("/api/v1"), op


def test_the_document_lists_every_route_of_api_md(spec):
    documented = {(m, p) for m, p, _ in operations(spec)}
    expected = {tuple(line.split(" ", 1)) for line in API_MD.strip().splitlines()}
    assert expected - documented == set()
    assert spec["openapi"].startswith("3.")
    assert all(path.startswith("/api/v1/") for path in spec["paths"])


def test_every_route_in_the_table_is_documented_once_and_served(spec):
    documented = [(m, p) for m, p, _ in operations(spec)]
    assert sorted(documented) == sorted((r.method, r.path) for r in all_routes())
    assert len(set(documented)) == len(documented)


def test_every_route_uses_a_real_contract_schema(spec):
    placeholders = [
        f"{r.method} {r.path}" for r in all_routes() if AnyObject in (r.body, r.query, r.response)
    ]
    assert placeholders == []


def test_only_public_routes_go_without_the_bearer_scheme(spec):
    scheme = spec["components"]["securitySchemes"]["bearerAuth"]
    assert scheme == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    for method, path, op in operations(spec):
        if (method, path) in PUBLIC:
            assert op["security"] == [], path
        else:
            assert op["security"] == [{"bearerAuth": []}], path
            assert "401" in op["responses"] and "403" in op["responses"]


def test_errors_are_documented_as_problem_json(spec):
    for _method, _path, op in operations(spec):
        assert op["responses"]["default"] == {"$ref": "#/components/responses/Problem"}
        for status, response in op["responses"].items():
            if status.startswith(("4", "5")):
                assert list(response["content"]) == ["application/problem+json"]
    problem = spec["components"]["schemas"]["Problem"]["properties"]
    assert {"type", "title", "status", "detail", "errors"} <= set(problem)


def test_request_bodies_come_from_the_contract_schemas_and_forbid_unknown_fields(spec):
    op = spec["paths"]["/api/v1/customers/{customer_id}/cart/checkout"]["post"]
    ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = spec["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert schema["additionalProperties"] is False
    assert {"payment_method_id", "billing_address", "end_user"} <= set(schema["required"])
    assert "429" in op["responses"]
    users = spec["paths"]["/api/v1/users"]["post"]["requestBody"]["content"]["application/json"]
    assert users["schema"]["$ref"].endswith("/InviteUserRequest")


def test_list_routes_document_limit_up_to_100(spec):
    params = spec["paths"]["/api/v1/orders"]["get"]["parameters"]
    limit = next(p for p in params if p["name"] == "limit")
    assert limit["schema"]["maximum"] == 100


def test_schema_names_do_not_collide(spec):
    names = spec["components"]["schemas"]
    assert "User" in names and "LicenseUser" in names
    assert not any(name[-1].isdigit() for name in names)


def test_the_docs_page_is_served(shared_gw):
    resp = shared_gw.client.get("/api/v1/docs")
    assert resp.status_code == 200
    assert b"swagger" in resp.get_data().lower()


def test_money_is_documented_as_the_string_decimal_it_is_on_the_wire(spec):
    order = spec["components"]["schemas"]["Order"]["properties"]
    assert order["total"]["type"] == "string"
    assert order["total"]["format"] == "decimal"


def test_routes_that_place_orders_require_an_idempotency_key(spec):
    placing = {
        ("POST", "/orders"),
        ("POST", "/customers/{customer_id}/cart/checkout"),
        ("POST", "/quotes/{number}/order"),
    }
    found = set()
    for method, path, op in operations(spec):
        headers = [p for p in op.get("parameters", []) if p.get("in") == "header"]
        if (method, path) in placing:
            assert [(h["name"], h["required"]) for h in headers] == [("Idempotency-Key", True)]
            found.add((method, path))
        else:
            assert not any(h["name"] == "Idempotency-Key" for h in headers), path
    assert found == placing
