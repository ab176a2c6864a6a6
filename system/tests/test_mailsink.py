"""The local mail sink keeps every message it receives, in order, as a readable .eml file."""

from __future__ import annotations

import os
import signal
import smtplib
import socket
import subprocess
import sys
import time
from email.message import EmailMessage

from portal_system.mailsink import address_from_url, message_id_of, read_mails, start_sink


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def message(number: int) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Partner Portal <no-reply@portal.example>"
    msg["To"] = "ada@acme.example"
    msg["Subject"] = f"Message {number}"
    msg["Message-ID"] = f"<m{number}@portal.example>"
    msg.set_content(f"Body {number}")
    return msg


def test_every_received_message_is_kept_in_order_of_arrival(tmp_path):
    port = free_port()
    controller = start_sink(tmp_path / "mail", port=port)
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
            for number in range(1, 4):
                smtp.send_message(message(number))
    finally:
        controller.stop()

    mails = read_mails(tmp_path / "mail")
    assert [m["Subject"] for m in mails] == ["Message 1", "Message 2", "Message 3"]
    assert mails[0]["Message-ID"] == "<m1@portal.example>"
    assert mails[2].get_content().strip() == "Body 3"
    names = sorted(p.name for p in (tmp_path / "mail").glob("*.eml"))
    assert len(names) == 3 and all(n.endswith(".eml") for n in names)


def test_the_same_message_sent_twice_is_easy_to_spot_by_its_file_name(tmp_path):
    port = free_port()
    controller = start_sink(tmp_path, port=port)
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
            for number in (1, 2, 1):
                smtp.send_message(message(number))
    finally:
        controller.stop()

    digests = [p.name.rsplit("-", 1)[1] for p in sorted(tmp_path.glob("*.eml"))]
    assert digests[0] == digests[2] != digests[1]


def test_the_message_id_is_read_from_the_headers_alone():
    raw = (
        b"From: a@portal.example\r\nMessage-ID:\r\n <m1@portal.example>\r\n\r\n"
        b"Message-ID: <not-this@portal.example>\r\n"
    )
    assert message_id_of(raw) == "<m1@portal.example>"
    assert message_id_of(b"From: a@portal.example\r\n\r\nMessage-ID: <m2@x>\r\n") is None


def test_the_sink_accepts_credentials_given_in_smtp_url(tmp_path):
    port = free_port()
    controller = start_sink(tmp_path, port=port)
    try:
        with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
            smtp.login("user", "secret")
            smtp.send_message(message(7))
    finally:
        controller.stop()
    assert [m["Subject"] for m in read_mails(tmp_path)] == ["Message 7"]


def test_reading_a_missing_folder_finds_no_mail(tmp_path):
    assert read_mails(tmp_path / "nothing-here") == []


def test_host_and_port_come_from_smtp_url():
    assert address_from_url("smtp://user:pw@mail.local:2525") == ("mail.local", 2525)
    assert address_from_url(None) == ("127.0.0.1", 1025)


def test_the_sink_runs_as_a_module_until_terminated(tmp_path):
    port = free_port()
    env = dict(os.environ, SMTP_URL=f"smtp://127.0.0.1:{port}", PORTAL_VAR_DIR=str(tmp_path))
    proc = subprocess.Popen(
        [sys.executable, "-m", "portal_system.mailsink"],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert "listening" in proc.stdout.readline()
        deadline = time.monotonic() + 10
        while True:
            try:
                with smtplib.SMTP("127.0.0.1", port, timeout=2) as smtp:
                    smtp.send_message(message(9))
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)
    assert [m["Subject"] for m in read_mails(tmp_path / "mail")] == ["Message 9"]
