"""The local SMTP sink ``make run`` starts: every message it receives becomes one ``.eml`` file.

Files go to ``$PORTAL_VAR_DIR/mail`` (``var/mail/``), named ``<UTC timestamp>-<sequence>-<hash of
the Message-ID>.eml`` so that a directory listing shows the order of arrival and the same message
sent twice is easy to spot. Run it with ``python -m portal_system.mailsink``; the end-to-end
tests use :func:`start_sink` and :func:`read_mails`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import email
import email.policy
import hashlib
import itertools
import os
import re
import signal
import threading
from email.message import EmailMessage
from email.parser import BytesHeaderParser
from pathlib import Path
from urllib.parse import urlsplit

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 1025

# The blank line that ends a message's headers.
END_OF_HEADERS = re.compile(rb"\r?\n\r?\n")
HEADERS = BytesHeaderParser(policy=email.policy.compat32)


def message_id_of(content: bytes) -> str | None:
    """The Message-ID of a raw message, read from its headers alone: parsing all of it with
    policy.default (each header, each part) was most of the sink's CPU."""
    end = END_OF_HEADERS.search(content)
    value = HEADERS.parsebytes(content[: end.end()] if end else content).get("Message-ID")
    # Unfolded, as policy.default read it.
    return "".join(value.splitlines()).strip() if value is not None else None


def default_folder() -> Path:
    return Path(os.environ.get("PORTAL_VAR_DIR", "var")).resolve() / "mail"


def address_from_url(url: str | None) -> tuple[str, int]:
    """Host and port of an ``smtp://[user:pass@]host:port`` URL (defaults for what is missing)."""
    if not url:
        return DEFAULT_HOST, DEFAULT_PORT
    parts = urlsplit(url)
    return parts.hostname or DEFAULT_HOST, parts.port or DEFAULT_PORT


class MailFolder:
    """aiosmtpd handler: writes each received message to its own file, atomically."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self._sequence = itertools.count(1)
        self._lock = threading.Lock()

    def file_name(self, message_id: str | None) -> str:
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        digest = hashlib.sha256((message_id or "").encode()).hexdigest()[:10]
        with self._lock:
            sequence = next(self._sequence)
        return f"{stamp}-{sequence:06d}-{digest}.eml"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode()
        name = self.file_name(message_id_of(content))
        # Written under a temporary name and renamed, so a reader never sees half a message.
        tmp = self.folder / f".{name}.tmp"
        tmp.write_bytes(content)
        tmp.replace(self.folder / name)
        return "250 Message accepted for delivery"


def _accept_any_login(server, session, envelope, mechanism, auth_data) -> AuthResult:
    # A local sink: credentials in SMTP_URL are accepted, so the same URL works against it.
    return AuthResult(success=True)


def start_sink(folder: Path | str, port: int = DEFAULT_PORT, host: str = DEFAULT_HOST):
    """Start a sink writing to ``folder`` and return its (started) controller; ``.stop()`` it."""
    controller = Controller(
        MailFolder(Path(folder)),
        hostname=host,
        port=port,
        authenticator=_accept_any_login,
        auth_require_tls=False,
    )
    controller.start()
    return controller


def read_mails(folder: Path | str) -> list[EmailMessage]:
    """Every message in ``folder``, in order of arrival."""
    path = Path(folder)
    if not path.is_dir():
        return []
    return [
        email.message_from_bytes(file.read_bytes(), policy=email.policy.default)
        for file in sorted(path.glob("*.eml"))
    ]


def main(argv: list[str] | None = None) -> None:
    host, port = address_from_url(os.environ.get("SMTP_URL"))
    parser = argparse.ArgumentParser(
        prog="python -m portal_system.mailsink", description="Local SMTP sink writing .eml files."
    )
    parser.add_argument("--host", default=host)
    parser.add_argument("--port", type=int, default=port)
    parser.add_argument("--dir", type=Path, default=default_folder(), help="where .eml files go")
    args = parser.parse_args(argv)

    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    controller = start_sink(args.dir, port=args.port, host=args.host)
    print(f"mail sink listening on {args.host}:{args.port}, writing to {args.dir}", flush=True)
    try:
        while not stop.is_set():
            stop.wait(0.5)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
