"""The portal's one door to the system: the gateway's public ``/api/v1``, with the user's token.

Pages call ``api().orders.search(...)`` and never build URLs or read JSON by hand. A problem
answer becomes an exception the app maps once: ``NotFound`` (and ``Forbidden``: a page the user
may not see looks missing) to the 404 page, ``Invalid`` to messages next to the fields,
``Unauthorized`` to the sign-in page, ``Unavailable`` to a "try again" page.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

import requests
from flask import current_app, g, request, session

from portal_runtime import identity as ids
from portal_runtime.keys import IdentityKeys

PREFIX = "/api/v1"
# The portal vouches for the address of the person it serves (gateway.client_address).
CLIENT_HEADER = "X-Portal-Client"


class ApiError(Exception):
    def __init__(self, status: int, title: str = "", detail: str = "", errors=None):
        super().__init__(detail or title or f"HTTP {status}")
        self.status = status
        self.title = title
        self.detail = detail
        self.errors: dict[str, list[str]] = flatten_errors(errors or {})

    @property
    def message(self) -> str:
        return self.detail or self.title or "Something went wrong."


class NotFound(ApiError):
    pass


class Forbidden(ApiError):
    pass


class Unauthorized(ApiError):
    pass


class Invalid(ApiError):
    """422 (or 400): ``errors`` maps dotted field names (``end_user.email``) to messages."""


class Conflict(ApiError):
    pass


class RateLimited(ApiError):
    pass


class Gone(ApiError):
    """410: an e-mailed link (password, invitation) that worked once and no longer does."""


class Unavailable(ApiError):
    pass


ERRORS = {
    400: Invalid,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    410: Gone,
    422: Invalid,
    429: RateLimited,
}


def flatten_errors(errors, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested errors (``{"end_user": {"email": [...]}}``) by dotted name."""
    flat: dict[str, list[str]] = {}
    if isinstance(errors, dict):
        for key, value in errors.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict):
                flat.update(flatten_errors(value, name))
            elif isinstance(value, list | tuple):
                texts = [v for v in value if isinstance(v, str)]
                for item in value:
                    if isinstance(item, dict):
                        flat.update(flatten_errors(item, name))
                if texts:
                    flat[name] = texts
            else:
                flat[name] = [str(value)]
    elif isinstance(errors, list):
        flat[prefix or "_body"] = [str(e) for e in errors]
    return flat


@dataclass
class Download:
    content: bytes
    content_type: str
    filename: str


def q(value) -> str:
    """One path segment."""
    return quote(str(value), safe="")


@dataclass
class Gateway:
    base_url: str
    token: str | None = None
    timeout: float = 20.0
    request_id: str | None = None
    # The person's address, vouched for with the portal's key on every call (sign-in limits
    # per address then count that person, not the portal's own address).
    client_address: str | None = None
    keys: IdentityKeys | None = None
    http: requests.Session = field(default_factory=requests.Session)

    def __post_init__(self):
        self.auth = Auth(self)
        self.customers = Customers(self)
        self.catalog = Catalog(self)
        self.cart = Cart(self)
        self.quotes = Quotes(self)
        self.orders = Orders(self)
        self.invoices = Invoices(self)
        self.payment_methods = PaymentMethods(self)
        self.licenses = Licenses(self)
        self.people = People(self)
        self.account = Account(self)
        self.public = Public(self)
        self.mine = MyLicenses(self)

    def send(self, method: str, path: str, *, params=None, json=None, headers=None, data=None):
        headers = dict(headers or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.request_id:
            headers["X-Request-ID"] = self.request_id
        if isinstance(params, dict):
            params = {k: v for k, v in params.items() if v not in (None, "", [])}
        prepared = self.http.prepare_request(
            requests.Request(
                method,
                self.base_url + PREFIX + path,
                params=params,
                json=json,
                data=data,
                headers=headers,
            )
        )
        if self.client_address and self.keys is not None:
            prepared.headers[CLIENT_HEADER] = self.vouch(prepared)
        try:
            resp = self.http.send(prepared, timeout=self.timeout, allow_redirects=False)
        except requests.RequestException as exc:
            raise Unavailable(503, "The system is not answering.") from exc
        if resp.status_code >= 400:
            raise error_from(resp)
        return resp

    def vouch(self, prepared: requests.PreparedRequest) -> str:
        """The client's address, signed by the portal for exactly this request."""
        parts = urlsplit(prepared.url)
        who = ids.Identity(kind="service", name="portal", client_address=self.client_address)
        return ids.sign(
            who,
            self.keys,
            audience="gateway",
            method=prepared.method,
            path=parts.path,
            query=parts.query,
            body=prepared.body,
        )

    def json(self, method: str, path: str, **kw):
        resp = self.send(method, path, **kw)
        if resp.status_code == 204 or not resp.content:
            return {}
        try:
            return resp.json()
        except ValueError as exc:
            raise Unavailable(502, "The system answered something unexpected.") from exc

    def download(self, path: str, accept: str) -> Download:
        resp = self.send("GET", path, headers={"Accept": accept})
        disposition = resp.headers.get("Content-Disposition", "")
        filename = ""
        if "filename=" in disposition:
            filename = disposition.split("filename=", 1)[1].strip().strip('"')
        return Download(resp.content, resp.headers.get("Content-Type", accept), filename)


def error_from(resp: requests.Response) -> ApiError:
    problem = {}
    try:
        problem = resp.json()
    except ValueError:
        pass
    if not isinstance(problem, dict):
        problem = {}
    cls = ERRORS.get(resp.status_code, Unavailable)
    return cls(
        resp.status_code,
        str(problem.get("title") or ""),
        str(problem.get("detail") or ""),
        problem.get("errors"),
    )


class Area:
    def __init__(self, gateway: Gateway):
        self.gw = gateway


def idempotency_key() -> dict:
    return {"Idempotency-Key": uuid.uuid4().hex}


class Auth(Area):
    def token(self, email: str, password: str) -> dict:
        return self.gw.json("POST", "/auth/token", json={"email": email, "password": password})

    def me(self) -> dict:
        return self.gw.json("GET", "/me")

    def logout(self) -> None:
        """End the user's tokens at the gateway (this one and any other)."""
        self.gw.json("POST", "/auth/logout")


class Customers(Area):
    def enter(self, by: str, value: str, email: str | None = None) -> dict:
        body = {"by": by, "value": value}
        if email is not None:
            body["email"] = email
        return self.gw.json("POST", "/customer-access", json=body)

    def list(self) -> list[dict]:
        return self.gw.json("GET", "/customers").get("items", [])

    def create(self, body: dict) -> dict:
        return self.gw.json("POST", "/customers", json=body)

    def get(self, customer_id: str) -> dict:
        return self.gw.json("GET", f"/customers/{q(customer_id)}")


class Catalog(Area):
    def products(self) -> list[dict]:
        body = self.gw.json("GET", "/products")
        return body.get("items", body) if isinstance(body, dict) else body

    def product(self, code: str) -> dict:
        return self.gw.json("GET", f"/products/{q(code)}")


class Cart(Area):
    def path(self, customer_id: str) -> str:
        return f"/customers/{q(customer_id)}/cart"

    def get(self, customer_id: str) -> dict:
        return self.gw.json("GET", self.path(customer_id))

    def add(self, customer_id: str, item: dict) -> dict:
        return self.gw.json("POST", self.path(customer_id) + "/items", json=item)

    def update(self, customer_id: str, item_id, changes: dict) -> dict:
        return self.gw.json("PATCH", f"{self.path(customer_id)}/items/{q(item_id)}", json=changes)

    def remove(self, customer_id: str, item_id) -> None:
        self.gw.json("DELETE", f"{self.path(customer_id)}/items/{q(item_id)}")

    def quote(self, customer_id: str, body: dict) -> dict:
        return self.gw.json("POST", self.path(customer_id) + "/quote", json=body)

    def checkout(self, customer_id: str, body: dict, key: str) -> dict:
        return self.gw.json(
            "POST",
            self.path(customer_id) + "/checkout",
            json=body,
            headers={"Idempotency-Key": key},
        )

    def renewals(self, customer_id: str, **query) -> list[dict]:
        body = self.gw.json("GET", f"/customers/{q(customer_id)}/renewals", params=query)
        return body.get("items", [])


class Quotes(Area):
    def search(self, **query) -> dict:
        return self.gw.json("GET", "/quotes", params=query)

    def get(self, number: str) -> dict:
        return self.gw.json("GET", f"/quotes/{q(number)}")

    def pdf(self, number: str) -> Download:
        return self.gw.download(f"/quotes/{q(number)}/pdf", "application/pdf")

    def cancel(self, number: str) -> dict:
        return self.gw.json("POST", f"/quotes/{q(number)}/cancel")

    def order(self, number: str, body: dict, key: str) -> dict:
        return self.gw.json(
            "POST", f"/quotes/{q(number)}/order", json=body, headers={"Idempotency-Key": key}
        )


class Orders(Area):
    def search(self, **query) -> dict:
        return self.gw.json("GET", "/orders", params=query)

    def get(self, number: str) -> dict:
        return self.gw.json("GET", f"/orders/{q(number)}")

    def action(self, number: str, action: str) -> dict:
        """``resend-licenses``, ``activation-email``, ``renew``, ``copy`` or ``cancel``."""
        return self.gw.json("POST", f"/orders/{q(number)}/{action}")


class Invoices(Area):
    def search(self, **query) -> dict:
        return self.gw.json("GET", "/invoices", params=query)

    def summary(self) -> dict:
        return self.gw.json("GET", "/invoices/summary")

    def get(self, number: str) -> dict:
        return self.gw.json("GET", f"/invoices/{q(number)}")

    def pdf(self, number: str) -> Download:
        return self.gw.download(f"/invoices/{q(number)}/pdf", "application/pdf")

    def pay(self, number: str, payment_method_id: str) -> dict:
        return self.gw.json(
            "POST", f"/invoices/{q(number)}/pay", json={"payment_method_id": payment_method_id}
        )


class PaymentMethods(Area):
    def list(self) -> list[dict]:
        body = self.gw.json("GET", "/payment-methods")
        return body.get("items", body) if isinstance(body, dict) else body

    def add_card(self, vault_token: str) -> dict:
        return self.gw.json(
            "POST", "/payment-methods", json={"kind": "card", "vault_token": vault_token}
        )

    def start_paypal(self, return_url: str) -> dict:
        return self.gw.json(
            "POST", "/payment-methods", json={"kind": "paypal", "return_url": return_url}
        )

    def remove(self, method_id: str) -> None:
        self.gw.json("DELETE", f"/payment-methods/{q(method_id)}")

    def vault_page(self, return_url: str) -> dict:
        """The vault's own card page: ``{session, url}``; it returns with ``?vault_token=``."""
        return self.gw.json("POST", "/vault/sessions", json={"return_url": return_url})


class Licenses(Area):
    def list(self, customer_id: str, **query) -> dict:
        return self.gw.json("GET", f"/customers/{q(customer_id)}/licenses", params=query)

    def report(self, customer_id: str) -> Download:
        return self.gw.download(f"/customers/{q(customer_id)}/licensing-report", "text/csv")

    def teams(self, customer_id: str) -> list[dict]:
        return self.gw.json("GET", f"/customers/{q(customer_id)}/teams").get("items", [])

    def create_team(self, customer_id: str, name: str) -> dict:
        return self.gw.json("POST", f"/customers/{q(customer_id)}/teams", json={"name": name})

    def rename_team(self, customer_id: str, team_id: str, name: str) -> dict:
        path = f"/customers/{q(customer_id)}/teams/{q(team_id)}"
        return self.gw.json("PATCH", path, json={"name": name})

    def merge_team(self, customer_id: str, team_id: str, into_team_id: str) -> dict:
        path = f"/customers/{q(customer_id)}/teams/{q(team_id)}/merge"
        return self.gw.json("POST", path, json={"into_team_id": into_team_id})

    def transfer(self, customer_id: str, team_id: str, license_ids: list[str], to: str) -> dict:
        path = f"/customers/{q(customer_id)}/teams/{q(team_id)}/transfer"
        return self.gw.json("POST", path, json={"license_ids": license_ids, "to_team_id": to})

    def subscription_packs(self, customer_id: str) -> list[dict]:
        path = f"/customers/{q(customer_id)}/subscription-packs"
        return self.gw.json("GET", path).get("items", [])


class Account(Area):
    """A license account's assignments, invitation links and active users."""

    def assign(self, customer_id: str, body: dict) -> dict:
        return self.gw.json("POST", f"/customers/{q(customer_id)}/assignments", json=body)

    def assign_csv(self, customer_id: str, product: str, team_id: str | None, csv: bytes) -> dict:
        return self.gw.json(
            "POST",
            f"/customers/{q(customer_id)}/assignments",
            params={"product": product, "team_id": team_id},
            data=csv,
            headers={"Content-Type": "text/csv"},
        )

    def users(self, customer_id: str) -> dict:
        return self.gw.json("GET", f"/customers/{q(customer_id)}/users", params={"limit": 100})

    def revocation_limit(self, customer_id: str) -> dict:
        return self.gw.json("GET", f"/customers/{q(customer_id)}/revocation-limit")

    def revoke(self, customer_id: str, license_id: str) -> dict:
        path = f"/customers/{q(customer_id)}/licenses/{q(license_id)}/revoke"
        return self.gw.json("POST", path)

    def links(self, customer_id: str) -> list[dict]:
        path = f"/customers/{q(customer_id)}/invitation-links"
        return self.gw.json("GET", path, params={"limit": 100}).get("items", [])

    def create_link(self, customer_id: str, body: dict) -> dict:
        path = f"/customers/{q(customer_id)}/invitation-links"
        return self.gw.json("POST", path, json=body)

    def regenerate_link(self, customer_id: str, link_id: str) -> dict:
        path = f"/customers/{q(customer_id)}/invitation-links/{q(link_id)}/regenerate"
        return self.gw.json("POST", path)

    def disable_link(self, customer_id: str, link_id: str) -> None:
        self.gw.json("DELETE", f"/customers/{q(customer_id)}/invitation-links/{q(link_id)}")


class People(Area):
    """An account's admins and the resellers that manage it (onboarding)."""

    def admins(self, customer_id: str) -> list[dict]:
        return self.gw.json("GET", f"/customers/{q(customer_id)}/admins").get("items", [])

    def invite_admin(self, customer_id: str, person: dict) -> dict:
        return self.gw.json("POST", f"/customers/{q(customer_id)}/admins", json=person)

    def resend_link(self, customer_id: str, user_id: str) -> dict:
        path = f"/customers/{q(customer_id)}/admins/{q(user_id)}/resend"
        return self.gw.json("POST", path)

    def remove_admin(self, customer_id: str, user_id: str) -> None:
        self.gw.json("DELETE", f"/customers/{q(customer_id)}/admins/{q(user_id)}")

    def managing_resellers(self, customer_id: str) -> list[dict]:
        path = f"/customers/{q(customer_id)}/managing-resellers"
        return self.gw.json("GET", path).get("items", [])

    def add_reseller(self, customer_id: str, email: str) -> dict:
        path = f"/customers/{q(customer_id)}/managing-resellers"
        return self.gw.json("POST", path, json={"email": email})

    def remove_reseller(self, customer_id: str, reseller_id: str) -> None:
        path = f"/customers/{q(customer_id)}/managing-resellers/{q(reseller_id)}"
        self.gw.json("DELETE", path)

    def ask_to_manage(self, customer_id: str) -> dict:
        return self.gw.json("POST", f"/customers/{q(customer_id)}/management-requests")


class Public(Area):
    """Routes anyone with an e-mailed link uses: no sign-in."""

    def set_password(self, token: str, password: str) -> dict:
        return self.gw.json("POST", "/auth/password", json={"token": token, "password": password})

    def management_request(self, token: str) -> dict:
        return self.gw.json("GET", f"/management-requests/{q(token)}")

    def answer_management_request(self, token: str, answer: str) -> dict:
        return self.gw.json("POST", f"/management-requests/{q(token)}/{q(answer)}")

    def invitation(self, token: str) -> dict:
        return self.gw.json("GET", f"/invitations/{q(token)}")

    def claim(self, token: str, person: dict) -> dict:
        return self.gw.json("POST", f"/invitations/{q(token)}/claim", json=person)

    def public_key(self) -> dict:
        return self.gw.json("GET", "/activation-codes/public-key")

    def my_licenses_link(self, email: str) -> dict:
        return self.gw.json("POST", "/auth/my-licenses-link", json={"email": email})

    def my_licenses_session(self, token: str) -> dict:
        return self.gw.json("POST", "/auth/my-licenses-session", json={"token": token})


class MyLicenses(Area):
    """A license holder's own licenses, with the token an e-mailed link opened."""

    def list(self) -> dict:
        return self.gw.json("GET", "/my/licenses")

    def activation_code(self, license_id: str) -> dict:
        return self.gw.json("GET", f"/my/licenses/{q(license_id)}/activation-code")


def client(token: str | None) -> Gateway:
    config = current_app.config["PORTAL"]
    return Gateway(
        config.gateway_url,
        token=token,
        timeout=config.timeout_seconds,
        request_id=request.headers.get("X-Request-ID"),
        client_address=request.remote_addr,
        keys=config.keys(),
    )


def holder_api(token: str) -> Gateway:
    """The gateway client with a license holder's token (My licenses), not the user's."""
    return client(token)


def api() -> Gateway:
    """The gateway client of this request, with the signed-in user's token (if any)."""
    if "api" not in g:
        g.api = client(session.get("token"))
    return g.api
