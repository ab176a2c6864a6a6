"""Reads between services survive a server closing an idle keep-alive connection."""

from __future__ import annotations

import socket
import threading

import pytest

from portal_runtime.http import ServiceClient, ServiceUnavailable
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
