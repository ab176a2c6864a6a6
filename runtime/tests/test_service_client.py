"""Reads between services survive a server closing an idle keep-alive connection."""

from __future__ import annotations

import socket
import threading

import pytest
import structlog

from portal_runtime.http import ServiceClient, ServiceUnavailable, read_in_parallel
from portal_runtime.testing import dev_keys

BODY = b'{"ok": true}'
OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
    len(BODY),
    BODY,
)


class ClosingServer:
    """Answers the first request of every connection and then closes it without a word, as a
    server whose keep-alive timeout ran out just as the next request arrived."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.answered: list[bytes] = []
        self.dropped: list[bytes] = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                self.answered.append(request_line(conn.recv(65536)))
                conn.sendall(OK)
                # The next request on this connection is dropped unanswered.
                self.dropped.append(request_line(conn.recv(65536)))

    def close(self) -> None:
        self.sock.close()


def request_line(data: bytes) -> bytes:
    return data.split(b"\r\n", 1)[0]


@pytest.fixture
def server():
    srv = ClosingServer()
    yield srv
    srv.close()


def client(server) -> ServiceClient:
    return ServiceClient(
        "catalog",
        "orders",
        dev_keys("orders"),
        timeout=5,
        base_url=f"http://127.0.0.1:{server.port}",
    )


def test_a_read_on_a_connection_the_server_dropped_is_sent_again_and_answered(server):
    catalog = client(server)
    assert catalog.get_json("/products/PC") == {"ok": True}
    assert catalog.get_json("/products/PC") == {"ok": True}
    assert catalog.get_json("/products/ALL") == {"ok": True}
    # Each reused connection was dropped once and the read retried on a new one.
    assert server.dropped[:2] == [b"GET /products/PC HTTP/1.1", b"GET /products/ALL HTTP/1.1"]
    assert server.answered == [b"GET /products/PC HTTP/1.1"] * 2 + [b"GET /products/ALL HTTP/1.1"]


def test_a_post_whose_answer_was_lost_is_not_sent_twice(server):
    catalog = client(server)
    assert catalog.get_json("/products/PC") == {"ok": True}
    with pytest.raises(ServiceUnavailable):
        catalog.request("POST", "/internal/things", json={"n": 1})
    assert server.dropped == [b"POST /internal/things HTTP/1.1"]
    assert b"POST /internal/things HTTP/1.1" not in server.answered


def test_a_read_the_service_is_too_slow_for_is_a_503_after_one_timeout_not_two():
    silent = socket.create_server(("127.0.0.1", 0))
    try:
        port = silent.getsockname()[1]
        slow = ServiceClient(
            "catalog",
            "orders",
            dev_keys("orders"),
            timeout=0.3,
            base_url=f"http://127.0.0.1:{port}",
        )
        with pytest.raises(ServiceUnavailable) as raised:
            slow.get_json("/products/PC")
        assert raised.value.status == 503
        assert raised.value.headers["Retry-After"] == "5"
        # Accepted by the kernel's backlog, never answered: one connection, not a retried one.
        first, _ = silent.accept()
        first.close()
        silent.settimeout(0.2)
        with pytest.raises(TimeoutError):
            silent.accept()
    finally:
        silent.close()


class RecordingServer:
    """Answers every request with a 200 and keeps what it was sent."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.requests: list[bytes] = []
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.answer, args=(conn,), daemon=True).start()

    def answer(self, conn) -> None:
        with conn:
            while data := conn.recv(65536):
                self.requests.append(data)
                conn.sendall(OK)

    def headers(self, n: int) -> dict[str, str]:
        lines = self.requests[n].split(b"\r\n\r\n", 1)[0].decode().split("\r\n")[1:]
        return {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines)}


@pytest.fixture
def recording():
    srv = RecordingServer()
    yield srv
    srv.sock.close()


def test_the_request_id_being_handled_goes_along_on_every_read_also_in_parallel(recording):
    reads = client(recording)
    structlog.contextvars.bind_contextvars(request_id="req-42")
    try:
        reads.get_json("/products")
        read_in_parallel(lambda: reads.get_json("/a"), lambda: reads.get_json("/b"))
    finally:
        structlog.contextvars.unbind_contextvars("request_id")
    reads.get_json("/later")
    ids = [recording.headers(n).get("x-request-id") for n in range(4)]
    assert ids == ["req-42", "req-42", "req-42", None]


def test_path_segments_are_escaped_so_a_value_cannot_reach_another_route(recording):
    client(recording).get_json("/internal/customers/{}/cart", "C-1/../../admin?x=1")
    assert request_line(recording.requests[0]) == (
        b"GET /internal/customers/C-1%2F..%2F..%2Fadmin%3Fx%3D1/cart HTTP/1.1"
    )


def test_a_proxy_the_environment_names_is_used_unless_no_proxy_exempts_the_service(
    recording, monkeypatch
):
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{recording.port}")
    monkeypatch.setenv("NO_PROXY", "billing.invalid")
    proxied = ServiceClient(
        "catalog", "orders", dev_keys("orders"), timeout=2, base_url="http://catalog.invalid:8081"
    )
    proxied.get_json("/products")
    assert request_line(recording.requests[0]) == (
        b"GET http://catalog.invalid:8081/products HTTP/1.1"
    )
    exempt = ServiceClient(
        "billing", "orders", dev_keys("orders"), timeout=2, base_url="http://billing.invalid:8084"
    )
    with pytest.raises(ServiceUnavailable):
        exempt.get_json("/invoices")
    assert len(recording.requests) == 1
