"""``make bench``: orders per second and latency, end to end, on RabbitMQ and PostgreSQL.

Starts the whole system the way the end-to-end tests do (fresh databases, a fresh bus prefix),
places N orders through the gateway at a chosen concurrency, and waits until every order has its
invoice, its licenses and both emails (the reseller's confirmation and the licensee's activation
e-mail). It prints orders/s end to end and the p50/p95/p99 latency from "order accepted" (the
201) to the last of those effects, with the machine it ran on. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import os
import platform
import re
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path

from sqlalchemy import create_engine, text

from portal_contracts import demo
from portal_system.launcher import on_real_infrastructure, running
from portal_system.testing import login, text_of

BENCH_PORT_OFFSET = 4000
ORDER_NUMBER = re.compile(r"O-\d{4}-\d{6,}")


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


class Tracker:
    """Watches orders' database and the mail sink until every order has all its effects."""

    def __init__(self, system, seats: int):
        self.system = system
        self.seats = seats
        self.accepted: dict[str, float] = {}
        self.end_users: dict[str, str] = {}
        self.done: dict[str, float] = {}
        self.effects: dict[str, set] = {}
        self._seen_mail: set[str] = set()
        self._lock = threading.Lock()
        self._orders_db = create_engine(system.env["ORDERS_DATABASE_URL"])

    def accept(self, number: str, end_user: str) -> None:
        with self._lock:
            self.accepted[number] = time.monotonic()
            self.end_users[end_user] = number
            self.effects[number] = set()

    def poll(self) -> None:
        now = time.monotonic()
        with self._lock:
            pending = [n for n in self.accepted if n not in self.done]
        if not pending:
            return
        with self._orders_db.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT o.number, o.invoice_number IS NOT NULL, "
                    "(SELECT count(*) FROM order_licenses l WHERE l.order_id = o.id) "
                    "FROM orders o WHERE o.number = ANY(:numbers)"
                ),
                {"numbers": pending},
            )
            for number, invoiced, licenses in rows:
                if invoiced:
                    self.effects[number].add("invoice")
                if licenses >= self.seats:
                    self.effects[number].add("licenses")
        for path in sorted(self.system.mail_dir.glob("*.eml")):
            if path.name in self._seen_mail:
                continue
            self._seen_mail.add(path.name)
            message = read_mail(path)
            recipients = {a.lower() for _, a in getaddresses([str(message.get("To", ""))])}
            activated = [self.end_users[a] for a in recipients if a in self.end_users]
            for number in activated:
                self.effects[number].add("activation")
            subject = str(message.get("Subject", "")).lower()
            if demo.DEMO_RESELLER_USER in recipients and "invoice" not in subject:
                for number in set(ORDER_NUMBER.findall(text_of(message))):
                    if number in self.effects:
                        self.effects[number].add("confirmation")
        for number in pending:
            if self.effects[number] >= {"invoice", "licenses", "activation", "confirmation"}:
                self.done[number] = now


def read_mail(path: Path) -> EmailMessage:
    return email.message_from_bytes(path.read_bytes(), policy=email.policy.default)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seats", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=1800, help="seconds to wait for effects")
    parser.add_argument(
        "--rate",
        type=float,
        default=0,
        help="orders/s to offer (0: as fast as the gateway accepts them); below the system's "
        "capacity the latency is the pipeline's own, above it the backlog's",
    )
    args = parser.parse_args(argv)

    var_dir = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    # Quieter logs and more web threads: the benchmark measures the system, not its log volume.
    # One demo reseller places every order: its checkout rate limit would be the bottleneck.
    extra = {"LOG_LEVEL": "WARNING", "WEB_THREADS": "16", "GATEWAY_CHECKOUT_PER_MINUTE": "0"}
    with on_real_infrastructure(var_dir, BENCH_PORT_OFFSET, extra) as system, running(system):
        client = login(system, demo.DEMO_RESELLER_USER)
        client.enter_customer(demo.ACME_ID, demo.ACME_CONTACT)
        tracker = Tracker(system, args.seats)
        errors: list[str] = []

        def place(n: int) -> None:
            if args.rate:
                time.sleep(max(0.0, started + n / args.rate - time.monotonic()))
            tag = uuid.uuid4().hex[:12]
            end_user = f"bench.{tag}@acme.example"
            resp = client.place_order(
                {
                    "customer_id": demo.ACME_ID,
                    "lines": [
                        {"kind": "new", "product": "PC", "quantity": args.seats, "term_years": 1}
                    ],
                    "payment_method_id": demo.DEMO_CARD_METHOD_ID,
                    "end_user": {"first_name": "Bench", "last_name": tag, "email": end_user},
                    "send_activation_email": True,
                }
            )
            if resp.status_code != 201:
                errors.append(f"{resp.status_code} {resp.text[:200]}")
                return
            tracker.accept(resp.json()["number"], end_user)

        stop = threading.Event()

        def watch() -> None:
            while not stop.is_set():
                tracker.poll()
                stop.wait(0.25)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        started = time.monotonic()  # read by place()
        with ThreadPoolExecutor(args.concurrency) as pool:
            list(pool.map(place, range(args.orders)))
        placed_in = time.monotonic() - started
        deadline = time.monotonic() + args.timeout
        while len(tracker.done) < len(tracker.accepted) and time.monotonic() < deadline:
            time.sleep(0.5)
        stop.set()
        watcher.join()
        tracker.poll()

    latencies = [tracker.done[n] - tracker.accepted[n] for n in tracker.done]
    accepted = len(tracker.accepted)
    print(f"\nmachine          {machine()}")
    print("backend          RabbitMQ + PostgreSQL, every service web + worker, local SMTP sink")
    print(
        f"orders           {args.orders} placed, {accepted} accepted, {len(errors)} refused, "
        f"{len(tracker.done)} with every effect; {args.seats} seat(s) each; "
        f"concurrency {args.concurrency}"
        + (f", offered at {args.rate:g} orders/s" if args.rate else "")
    )
    print(f"accepting        {accepted / placed_in:.1f} orders/s ({placed_in:.1f} s)")
    if latencies:
        first = min(tracker.accepted.values())
        last = max(tracker.done.values())
        print(
            f"end to end       {len(latencies) / (last - first):.1f} orders/s "
            f"(first accepted to last effect: {last - first:.1f} s)"
        )
        print(
            f"latency          p50 {percentile(latencies, 50):.2f} s   "
            f"p95 {percentile(latencies, 95):.2f} s   p99 {percentile(latencies, 99):.2f} s   "
            f"max {max(latencies):.2f} s  (201 -> invoice, licenses and both emails)"
        )
    if errors:
        print("first refusals:", *errors[:3], sep="\n  ")
    missing = accepted - len(tracker.done)
    if missing:
        print(f"{missing} orders did not show every effect within {args.timeout:.0f} s")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
