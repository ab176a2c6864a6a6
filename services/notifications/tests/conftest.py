"""Fixtures of the notifications tests: the service on SQLite, a real local SMTP sink, fakes."""

from __future__ import annotations

import socket

import pytest

from notifications import SERVICE
from notifications.bootstrap import bootstrap
from notifications.config import NotificationsConfig
from notifications.ports import AttachmentUnavailable
from portal_runtime import testkit
from portal_runtime.testing import service_on_sqlite
from portal_system.mailsink import read_mails, start_sink

PDF = b"%PDF-1.4\n% a quote\n%%EOF\n"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FakeQuotePdfs:
    """cart-quote's PDF endpoint: answers, or (while ``down``) does not."""

    def __init__(self):
        self.down = False
        self.fetched: list[str] = []

    def fetch(self, quote_number: str) -> bytes:
        if self.down:
            raise AttachmentUnavailable("cart-quote did not answer")
        self.fetched.append(quote_number)
        return PDF


class Sink:
    """A real SMTP server on a free port, started when a test says so."""

    def __init__(self, folder):
        self.folder = folder
        self.port = free_port()
        self.controller = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def start(self) -> Sink:
        self.controller = start_sink(self.folder, port=self.port)
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def mails(self):
        return read_mails(self.folder)


@pytest.fixture
def sink(tmp_path):
    s = Sink(tmp_path / "mail")
    yield s
    s.stop()


@pytest.fixture
def clock():
    return testkit.clock()


@pytest.fixture
def quote_pdfs():
    return FakeQuotePdfs()


@pytest.fixture
def make_service(tmp_path, sink, clock, quote_pdfs):
    """``make_service(**config)``: notifications on SQLite, sending to the test's sink."""

    def make(**overrides):
        class TestConfig(NotificationsConfig):
            @classmethod
            def from_env(cls, service, **kw):
                values = dict(
                    smtp_url=sink.url,
                    smtp_timeout=2.0,
                    portal_base_url="https://portal.test",
                    send_retry_base=1.0,
                    send_retry_cap=60.0,
                    send_max_attempts=4,
                )
                values.update(overrides)
                values.update(kw)
                return super().from_env(service, **values)

        return service_on_sqlite(
            bootstrap, TestConfig, SERVICE, tmp_path, mail_clock=clock, quote_pdfs=quote_pdfs
        )

    return make


@pytest.fixture
def service(make_service):
    return make_service()
