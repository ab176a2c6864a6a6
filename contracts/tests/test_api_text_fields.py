"""Names and email addresses with control characters are refused by every request that takes them.

A CR/LF in a name once reached a mail header from the public invitation claim; the shared
fields of ``portal_contracts.api.common`` refuse it (and TAB, NUL, DEL, the Unicode line
separators) wherever a person, a user or an address is entered, naming the field.
"""

import pytest
from marshmallow import ValidationError

from portal_contracts.api.admins import (
    AddManagingResellerRequest,
    CreateCustomerRequest,
    InviteAdminRequest,
)
from portal_contracts.api.customers import CustomerAccessRequest
from portal_contracts.api.licenses import AssignmentRequest, ClaimRequest
from portal_contracts.api.orders import CheckoutRequest, PlaceOrderRequest
from portal_contracts.api.quotes import GetQuoteRequest
from portal_contracts.api.users import InviteUserRequest

PERSON = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@acme.example"}
ADDRESS = {"name": "Acme Corp", "line1": "1 Main St", "city": "Springfield", "country": "US"}

BAD = ["Eve\r\nBcc: victim@elsewhere.example", "Eve\n", "Eve\tEvil", "Eve\x00", "Eve\u2028Evil"]
BAD_EMAILS = ['"eve\r\nbcc"@acme.example', '"eve\x01"@acme.example', "eve@acme.example\n"]


def refused(schema, body) -> dict:
    with pytest.raises(ValidationError) as exc:
        schema().load(body)
    return exc.value.messages


def with_person(field: str, value: str) -> dict:
    return {**PERSON, field: value}


REQUESTS = {
    "claim": lambda p: (ClaimRequest, p, []),
    "assignment": lambda p: (
        AssignmentRequest,
        {"product": "PC", "assignees": [p]},
        ["assignees", 0],
    ),
    "single assignment": lambda p: (
        AssignmentRequest,
        {"license_id": "L-1", "assignee": p},
        ["assignee"],
    ),
    "order": lambda p: (
        PlaceOrderRequest,
        {
            "customer_id": "C-1",
            "lines": [{"kind": "new", "product": "PC", "quantity": 1}],
            "po_number": "PO-1",
            "end_user": p,
        },
        ["end_user"],
    ),
    "checkout": lambda p: (
        CheckoutRequest,
        {"payment_method_id": "pm-1", "billing_address": ADDRESS, "end_user": p},
        ["end_user"],
    ),
    "quote": lambda p: (GetQuoteRequest, {"billing_address": ADDRESS, "end_user": p}, ["end_user"]),
    "customer admin": lambda p: (InviteAdminRequest, p, []),
    "new customer": lambda p: (
        CreateCustomerRequest,
        {"name": "Acme Corp", "country": "US", "contact": p},
        ["contact"],
    ),
}


def dig(messages: dict, path: list) -> dict:
    for key in path:
        messages = messages[key]
    return messages


@pytest.mark.parametrize("route", sorted(REQUESTS))
@pytest.mark.parametrize("field", ["first_name", "last_name"])
@pytest.mark.parametrize("value", BAD)
def test_a_name_with_control_characters_is_refused_naming_the_field(route, field, value):
    schema, body, path = REQUESTS[route](with_person(field, value))
    assert list(dig(refused(schema, body), path)) == [field]


@pytest.mark.parametrize("route", sorted(REQUESTS))
@pytest.mark.parametrize("value", BAD_EMAILS)
def test_an_email_with_control_characters_is_refused_naming_the_field(route, value):
    schema, body, path = REQUESTS[route](with_person("email", value))
    assert list(dig(refused(schema, body), path)) == ["email"]


@pytest.mark.parametrize("route", sorted(REQUESTS))
def test_names_with_accents_apostrophes_and_spaces_are_accepted(route):
    schema, body, _ = REQUESTS[route](
        {"first_name": "José María", "last_name": "O'Brien-Núñez", "email": "jm@acme.example"}
    )
    assert schema().load(body)


def test_users_and_customer_access_refuse_control_characters_too():
    user = {"email": "new@demo-reseller.example", "roles": ["sales"]}
    assert list(refused(InviteUserRequest, {**user, "name": "Sam\r\nSales"})) == ["name"]
    assert list(refused(InviteUserRequest, {**user, "email": '"a\nb"@x.example'})) == ["email"]
    access = {"by": "customer_id", "value": "C-1", "email": '"a\rb"@acme.example'}
    assert list(refused(CustomerAccessRequest, access)) == ["email"]
    assert list(refused(CheckoutRequest, {
        "payment_method_id": "pm-1",
        "billing_address": {**ADDRESS, "name": "Acme\r\nCorp"},
        "end_user": PERSON,
    })["billing_address"]) == ["name"]  # fmt: skip


def test_new_accounts_managing_resellers_and_team_names_refuse_control_characters_too():
    person = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@acme.example"}
    account = {"name": "Acme\r\nCorp", "country": "US", "contact": person}
    assert list(refused(CreateCustomerRequest, account)) == ["name"]
    assert list(refused(AddManagingResellerRequest, {"email": '"s\nx"@r.example'})) == ["email"]
    from portal_contracts.api.carts import CartItemRequest

    item = {"kind": "new", "product": "PC", "quantity": 1, "team_name": "QA\nTeam"}
    assert "team_name" in refused(CartItemRequest, item)
