"""Synchronous reads from another service: short timeouts, the caller's ids passed along.

Only reads cross service boundaries this way (ARCHITECTURE.md); state changes travel as events.
A service that does not answer in time becomes a clear 503 problem, never a hung worker.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any
from urllib.parse import quote, urlsplit

import requests
import structlog
from cachetools import TTLCache
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ProtocolError
from urllib3.util.retry import Retry

from portal_runtime import identity as ids
from portal_runtime.config import service_url
from portal_runtime.keys import IdentityKeys
from portal_runtime.problems import Problem


class _RetryDroppedConnections(Retry):
    """Retries a request the server dropped unanswered, but not one it was slow to answer: a
    timeout is already the caller's whole patience."""

    def _is_read_error(self, err: Exception) -> bool:
        return isinstance(err, ProtocolError)


def session_with_retries() -> requests.Session:
    """A pooled HTTP session that survives the server closing an idle keep-alive connection.

    A request that could not be sent at all (connection refused or reset before sending) is
    tried again for every method; one that was sent and dropped unanswered only for idempotent
    methods (GET, PUT, DELETE, ...): a POST is never sent twice behind the caller's back.
    """
    retry = _RetryDroppedConnections(
        total=2,
        connect=2,
        read=1,
        status=0,
        other=0,
        redirect=0,
        backoff_factor=0.05,
        allowed_methods=Retry.DEFAULT_ALLOWED_METHODS,
        raise_on_status=False,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class ServiceUnavailable(Problem):
    def __init__(self, service: str):
        super().__init__(
            503,
            f"The {service} service is not answering; try again shortly.",
            headers={"Retry-After": "5"},
        )
        self.service = service


class ServiceClient:
    """Calls one service as ``caller``: each request carries an identity signed for exactly it.

    Without ``identity`` the request goes as the caller's own ``service`` identity. With a user's
    identity, the gateway signs it as the user; any other service signs its own identity and
    passes the gateway's header of the user's request along as proof (``obo``).
    """

    def __init__(
        self,
        service: str,
        caller: str,
        keys: IdentityKeys,
        timeout: float | tuple[float, float] = 5.0,
        base_url: str | None = None,
    ):
        if keys.name != caller:
            raise ValueError(f"{caller} cannot sign with the keys of {keys.name}")
        self.service = service
        self.caller = caller
        self.keys = keys
        self.timeout = timeout
        self.base_url = base_url or service_url(service)
        self.session = session_with_retries()
        # What the environment says of this one host (a proxy, unless NO_PROXY exempts it; a
        # ~/.netrc login), read once: requests would scan os.environ and look for ~/.netrc again
        # on every call, a third of the gateway's CPU per forwarded request.
        scheme = urlsplit(self.base_url).scheme
        environ = requests.utils.get_environ_proxies(self.base_url)
        proxy = environ.get(scheme, environ.get("all"))
        self.session.proxies = {scheme: proxy} if proxy else {}
        netrc = requests.utils.get_netrc_auth(self.base_url)
        if netrc:
            self.session.auth = netrc
        self.session.trust_env = False

    def _identity_header(self, prepared: requests.PreparedRequest, identity) -> str:
        parts = urlsplit(prepared.url)
        who, on_behalf = identity, None
        if identity is None or (identity.is_service and identity.name != self.caller):
            who = ids.service_identity(self.caller)
        elif not identity.is_service and self.caller != ids.ISSUER:
            if not identity.proof:
                raise RuntimeError(
                    f"{self.caller} cannot act for a user without the gateway's identity of "
                    "that user's request"
                )
            who, on_behalf = ids.service_identity(self.caller), identity.proof
        return ids.sign(
            who,
            self.keys,
            audience=self.service,
            method=prepared.method,
            path=parts.path,
            query=parts.query,
            body=prepared.body,
            on_behalf=on_behalf,
        )

    def request(
        self,
        method: str,
        path: str,
        *segments: str,
        identity: ids.Identity | None = None,
        request_id: str | None = None,
        signed: bool = True,
        **kwargs,
    ) -> requests.Response:
        """One request; ``signed=False`` sends none (the gateway relaying a public route).

        ``segments`` fill the path's ``{}`` placeholders, each escaped as one path segment
        (``get_json("/internal/customers/{}", customer_id)``). The request id of the request or
        delivery being handled goes along unless ``request_id`` names another.
        ``stream=True`` returns as soon as the headers arrive; the caller reads the body (and
        closes the response)."""
        if segments:
            path = path.format(*(quote(str(s), safe="") for s in segments))
        headers = dict(kwargs.pop("headers", {}) or {})
        request_id = request_id or structlog.contextvars.get_contextvars().get("request_id")
        if request_id:
            headers["X-Request-ID"] = request_id
        timeout = kwargs.pop("timeout", self.timeout)
        allow_redirects = kwargs.pop("allow_redirects", True)
        stream = kwargs.pop("stream", False)
        prepared = self.session.prepare_request(
            requests.Request(method, self.base_url + path, headers=headers, **kwargs)
        )
        if signed:
            prepared.headers[ids.HEADER] = self._identity_header(prepared, identity)
        try:
            return self.session.send(
                prepared, timeout=timeout, allow_redirects=allow_redirects, stream=stream
            )
        except requests.RequestException as exc:
            raise ServiceUnavailable(self.service) from exc

    def get_json(self, path: str, *segments: str, **kwargs) -> dict | None:
        """The JSON body of a 200, None for a 404; anything else is the service being unwell."""
        resp = self.request("GET", path, *segments, **kwargs)
        if resp.status_code == 404:
            return None
        if resp.status_code != 200:
            raise ServiceUnavailable(self.service)
        return resp.json()


class BriefCache:
    """Answers of a read kept for a few seconds, so a burst of requests that need the same
    record (a reseller placing orders for one customer) reads it once. Only found records are
    kept: a 404 is asked again next time. Thread-safe."""

    def __init__(self, seconds: float, size: int = 1024):
        self._entries: TTLCache = TTLCache(maxsize=size, ttl=seconds)
        self._lock = threading.Lock()

    def get(self, key: Hashable, load: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._entries:
                return self._entries[key]
        value = load()
        if value is not None:
            with self._lock:
                self._entries[key] = value
        return value


_READS = ThreadPoolExecutor(max_workers=16, thread_name_prefix="service-read")


def read_in_parallel(*reads: Callable[[], Any] | None) -> list[Any]:
    """Run independent reads at once (each in the current request's context, so its request
    id travels along); their results in the order given, or the first read's error in that
    order. ``None`` stands for a read not needed (its result is None)."""
    from flask import copy_current_request_context, g, has_request_context

    def bound(read):
        context = contextvars.copy_context()  # the request id the logs and calls carry
        if not has_request_context():
            return lambda: context.run(read)
        carried = dict(vars(g))  # the request id, the verified identity

        @copy_current_request_context
        def in_request():
            vars(g).update(carried)
            return read()

        return lambda: context.run(in_request)

    futures: list[Future | None] = [
        _READS.submit(bound(read)) if read is not None else None for read in reads
    ]
    wait([f for f in futures if f is not None])
    return [f.result() if f is not None else None for f in futures]
