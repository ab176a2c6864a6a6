"""The embedded bus (``filesystem://`` through ``folder_bus``) loses no message.

Real folders in ``tmp_path``, real Kombu connections from ``topology.connect``: a reader never
sees a half-written message, and a fetched message stays on disk until it is acked, so neither a
concurrent publisher nor a worker killed with SIGKILL costs a message.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from kombu import Exchange, Producer, Queue, binding

from portal_runtime import folder_bus
from portal_runtime.topology import connect


def publish(conn, queue: str, body: str) -> None:
    """Straight to ``queue`` (the default exchange routes by queue name)."""
    Producer(conn.default_channel).publish(body, routing_key=queue, content_type="text/plain")


def fetch(conn, queue: str, no_ack: bool = False):
    return Queue(queue, no_declare=True)(conn.default_channel).get(no_ack=no_ack)


def waiting(bus: Path, queue: str) -> list[Path]:
    return sorted((bus / "data").glob(f"*.{queue}.msg"))


def in_flight(bus: Path) -> list[Path]:
    return sorted((bus / "processing").iterdir())


def test_a_consumer_polling_while_a_publisher_writes_gets_every_message_whole(tmp_path):
    """Fails on Kombu's own transport: it takes files that are still being written."""
    bus = tmp_path / "bus"
    url = f"filesystem://{bus}"
    count = 500
    padding = "x" * 50_000  # a long write, so a reader has time to catch it half-done
    sent = [f"{i:04d}{padding}" for i in range(count)]

    def publisher():
        with connect(url) as conn:
            for body in sent:
                publish(conn, "q", body)

    received, errors = [], []
    thread = threading.Thread(target=publisher)
    with connect(url) as conn:
        thread.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            published_all = not thread.is_alive()
            try:
                message = fetch(conn, "q")
            except Exception as exc:  # noqa: BLE001 - any failure here is a lost message
                errors.append(exc)
                continue
            if message is None:
                if published_all:
                    break
                continue
            received.append(message.body.decode())
            message.ack()
        thread.join()

    assert errors == []
    assert sorted(received) == sent
    assert waiting(bus, "q") == [] and in_flight(bus) == []
    assert list((bus / "bad").iterdir()) == []


CONSUMER = """
import sys, time
from kombu import Queue
from portal_runtime.topology import connect

conn = connect(sys.argv[1])
message = Queue("q", no_declare=True)(conn.default_channel).get()
print("fetched", message.body.decode(), flush=True)
time.sleep(60)  # killed before it acks
"""


def test_a_message_fetched_by_a_consumer_killed_with_sigkill_goes_to_the_next_consumer(tmp_path):
    bus = tmp_path / "bus"
    url = f"filesystem://{bus}"
    with connect(url) as conn:
        publish(conn, "q", "order 42")

    worker = subprocess.Popen(
        [sys.executable, "-c", CONSUMER, url], stdout=subprocess.PIPE, text=True
    )
    try:
        assert worker.stdout.readline().strip() == "fetched order 42"
        assert waiting(bus, "q") == [] and len(in_flight(bus)) == 1
        # While its worker lives, the message is that worker's: nobody else takes it.
        with connect(url) as conn:
            assert fetch(conn, "q") is None
        assert len(in_flight(bus)) == 1
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        worker.stdout.close()
    assert worker.returncode == -signal.SIGKILL

    with connect(url) as conn:
        message = fetch(conn, "q")
        assert message is not None and message.body == b"order 42"
        message.ack()
        assert fetch(conn, "q") is None
    assert waiting(bus, "q") == [] and in_flight(bus) == []


def test_in_flight_files_of_an_earlier_process_with_this_pid_are_put_back(tmp_path):
    bus = tmp_path / "bus"
    url = f"filesystem://{bus}"
    with connect(url) as conn:
        publish(conn, "q", "held by a predecessor")
    [message_file] = waiting(bus, "q")
    message_file.rename(bus / "processing" / f"{os.getpid()}-0ld0wner-{message_file.name}")

    with connect(url) as conn:
        message = fetch(conn, "q")
        assert message is not None and message.body == b"held by a predecessor"
        message.ack()
    assert waiting(bus, "q") == [] and in_flight(bus) == []


def test_an_acked_message_is_gone_and_a_clean_close_puts_the_unacked_back_once(tmp_path):
    bus = tmp_path / "bus"
    url = f"filesystem://{bus}"
    events = Exchange("events", type="topic", durable=True)
    queues = [
        Queue(name, bindings=[binding(events, routing_key="order.placed")], durable=True)
        for name in ("billing", "notifications")
    ]
    with connect(url) as conn:
        for queue in queues:
            queue(conn.default_channel).declare()
        producer = Producer(conn.default_channel, exchange=events)
        for n in range(3):
            producer.publish(f"order {n}", routing_key="order.placed", content_type="text/plain")
    assert len(waiting(bus, "billing")) == len(waiting(bus, "notifications")) == 3

    with connect(url) as conn:
        first, second, _third = (fetch(conn, "billing") for _ in range(3))
        first.ack()
        second.reject(requeue=True)
        assert len(waiting(bus, "billing")) == 1 and len(in_flight(bus)) == 1
        again = fetch(conn, "billing")
        assert again.body == second.body
        # Closing with ``again`` and ``_third`` unacked.

    assert in_flight(bus) == []
    assert len(waiting(bus, "billing")) == 2
    # Put back in its own queue only, not republished to every queue bound to its routing key.
    assert len(waiting(bus, "notifications")) == 3

    with connect(url) as conn:
        bodies = []
        while (message := fetch(conn, "billing")) is not None:
            bodies.append(message.body)
            message.ack()
        assert sorted(bodies) == [b"order 1", b"order 2"]
        dropped = fetch(conn, "notifications")
        dropped.reject(requeue=False)
        auto = fetch(conn, "notifications", no_ack=True)
        assert auto is not None
    assert waiting(bus, "billing") == [] and in_flight(bus) == []
    assert len(waiting(bus, "notifications")) == 1


def test_a_message_file_that_cannot_be_decoded_is_set_aside_not_dropped(tmp_path):
    bus = tmp_path / "bus"
    url = f"filesystem://{bus}"
    with connect(url) as conn:
        publish(conn, "q", "damaged on disk")
        [garbage] = waiting(bus, "q")
        garbage.write_bytes(b'{"body": "cut off')
        publish(conn, "q", "fine")
        message = fetch(conn, "q")
        assert message is not None and message.body == b"fine"
        message.ack()
    assert [p.name for p in (bus / "bad").iterdir()] == [garbage.name]
    assert waiting(bus, "q") == [] and in_flight(bus) == []


def drain(url: str, queue: str) -> list[str]:
    bodies = []
    with connect(url) as conn:
        while (message := fetch(conn, queue)) is not None:
            bodies.append(message.body.decode())
            message.ack()
    return bodies


def test_messages_come_out_in_the_order_they_went_in_when_the_clock_gains_a_digit(
    tmp_path, monkeypatch
):
    """Names sort as text: a timestamp gaining a digit (or restarting at a reboot) kept no order."""
    url = f"filesystem://{tmp_path / 'bus'}"
    ticks = iter([999_999_999, 1_000_000_000, 1_000_000_001, 10_000_000_000])
    monkeypatch.setattr(folder_bus, "wall_clock_ns", lambda: next(ticks))
    with connect(url) as conn:
        for n in range(4):
            publish(conn, "q", f"message {n}")
    monkeypatch.undo()
    assert drain(url, "q") == [f"message {n}" for n in range(4)]


def test_one_process_keeps_its_order_when_the_clock_steps_back_or_stands_still(
    tmp_path, monkeypatch
):
    url = f"filesystem://{tmp_path / 'bus'}"
    ticks = iter([5_000, 5_000, 4_000, 5_000, 6_000])
    monkeypatch.setattr(folder_bus, "wall_clock_ns", lambda: next(ticks))
    with connect(url) as conn:
        for n in range(5):
            publish(conn, "q", f"message {n}")
    monkeypatch.undo()
    assert drain(url, "q") == [f"message {n}" for n in range(5)]


PUBLISHER = """
import sys
from kombu import Producer
from portal_runtime.topology import connect

with connect(sys.argv[1]) as conn:
    Producer(conn.default_channel).publish(sys.argv[2], routing_key="q", content_type="text/plain")
"""


def test_messages_of_several_processes_come_out_in_arrival_order(tmp_path):
    url = f"filesystem://{tmp_path / 'bus'}"
    sent = []
    for n in range(4):
        body = f"message {n}"
        if n % 2:
            subprocess.run([sys.executable, "-c", PUBLISHER, url, body], check=True, timeout=60)
        else:
            with connect(url) as conn:
                publish(conn, "q", body)
        sent.append(body)
    assert drain(url, "q") == sent


def test_a_message_is_never_visible_under_its_final_name_before_it_is_whole(tmp_path, monkeypatch):
    """The write path itself: the final ``.msg`` name appears by rename, already complete."""
    bus = tmp_path / "bus"
    url = f"filesystem://{bus}"
    seen = []
    real_replace = os.replace

    def watching_replace(src, dst):
        seen.append((Path(src).name, Path(dst).name, Path(src).stat().st_size))
        return real_replace(src, dst)

    with connect(url) as conn:
        monkeypatch.setattr(os, "replace", watching_replace)
        publish(conn, "q", "whole")
        monkeypatch.undo()
        [(temp, final, size)] = seen
        assert temp.startswith(".") and temp.endswith(".tmp") and final.endswith(".q.msg")
        assert size == (bus / "data" / final).stat().st_size > 0
        assert fetch(conn, "q").body == b"whole"
