"""Synchronous reads from another service: short timeouts, the caller's ids passed along.

Only reads cross service boundaries this way (ARCHITECTURE.md); state changes travel as events.
A service that does not answer in time becomes a clear 503 problem, never a hung worker.
"""

from __future__ import annotations

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ProtocolError
from urllib3.util.retry import Retry

from portal_runtime import identity as ids
from portal_runtime.config import service_url
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
    def __init__(
        self,
        service: str,
        caller: str,
        secret: str,
        timeout: float = 5.0,
        base_url: str | None = None,
    ):
        self.service = service
        self.caller = caller
        self.secret = secret
        self.timeout = timeout
        self.base_url = base_url or service_url(service)
        self.session = session_with_retries()

    def request(
        self,
        method: str,
        path: str,
        *,
        identity: ids.Identity | None = None,
        request_id: str | None = None,
        **kwargs,
    ) -> requests.Response:
        headers = kwargs.pop("headers", {}) or {}
        who = identity or ids.service_identity(self.caller)
        headers[ids.HEADER] = ids.sign(who, self.secret)
        if request_id:
            headers["X-Request-ID"] = request_id
        try:
            return self.session.request(
                method,
                self.base_url + path,
                headers=headers,
                timeout=kwargs.pop("timeout", self.timeout),
                **kwargs,
            )
        except requests.RequestException as exc:
            raise ServiceUnavailable(self.service) from exc

    def get_json(self, path: str, **kwargs) -> dict | None:
        """The JSON body of a 200, None for a 404; anything else is the service being unwell."""
        resp = self.request("GET", path, **kwargs)
        if resp.status_code == 404:
            return None
        if resp.status_code != 200:
            raise ServiceUnavailable(self.service)
        return resp.json()
