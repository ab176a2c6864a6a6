"""``make chaos``'s checks find a duplicate, a loss and a dead letter; its launcher restarts a
process that was killed, with the environment it was started with."""

from __future__ import annotations

import signal
import sys
import time
from collections import Counter
from decimal import Decimal

from portal_contracts import demo
from portal_system.chaos import Count, Placed, verdict
from portal_system.launcher import System

RESELLER = demo.DEMO_RESELLER_USER


def healthy() -> tuple[Count, Placed]:
    orders = {
        "O-2026-000001": {"seats": 2, "total": Decimal("10.00"), "end_user": "a@acme.example"},
        "O-2026-000002": {"seats": 1, "total": Decimal("5.00"), "end_user": "b@acme.example"},
    }
    mails = {}
    for number, order in orders.items():
        mails[(RESELLER, "order_confirmation", number)] = {f"<c{number}>"}
        mails[(RESELLER, "invoice_issued", number)] = {f"<i{number}>"}
        mails[(order["end_user"], "activation", number)] = {f"<a{number}>"}
    count = Count(
        orders=orders,
        invoices=Counter(dict.fromkeys(orders, 1)),
        invoice_mismatch=[],
        charges=Counter(dict.fromkeys(orders, 1)),
        licenses=Counter({"O-2026-000001": 2, "O-2026-000002": 1}),
        mails=mails,
        raw_mails=7,  # one repeated by SMTP: the same Message-ID, no second e-mail
        outbox_unpublished={"orders": 0},
        mail_status={"sent": 6},
        dead_letters={"billing": []},
    )
    return count, Placed(accepted={number: {} for number in orders})


def failed(count: Count, placed: Placed) -> set[str]:
    return {name for name, ok, _ in verdict(count, placed) if not ok}


def test_a_healthy_run_passes_every_check_and_shows_the_smtp_repeat():
    count, placed = healthy()
    results = verdict(count, placed)
    assert failed(count, placed) == set()
    mails = next(found for name, _, found in results if name == "e-mails")
    assert "6 distinct" in mails and "7 raw deliveries (1 repeated by SMTP)" in mails


def test_a_second_invoice_a_second_charge_or_a_missing_license_fails():
    count, placed = healthy()
    count.invoices["O-2026-000001"] = 2
    count.charges["O-2026-000002"] = 2
    count.licenses["O-2026-000001"] = 1
    assert failed(count, placed) == {"invoices", "charges", "licenses"}


def test_a_second_email_of_a_kind_or_a_missing_one_fails():
    count, placed = healthy()
    count.mails[(RESELLER, "invoice_issued", "O-2026-000001")].add("<another>")
    assert failed(count, placed) == {"e-mails"}
    count, placed = healthy()
    del count.mails[("b@acme.example", "activation", "O-2026-000002")]
    assert failed(count, placed) == {"e-mails"}


def test_a_lost_or_an_unaccepted_order_a_dead_letter_or_unsent_mail_fails():
    count, placed = healthy()
    placed.accepted["O-2026-000003"] = {}
    assert failed(count, placed) == {"orders"}
    count, placed = healthy()
    count.dead_letters["billing"] = [{"type": "orders.order.placed", "last_error": "boom"}]
    count.mail_status["failed"] = 1
    assert failed(count, placed) == {"dead letters", "in flight"}


def test_a_killed_process_is_restarted_with_the_environment_it_was_started_with(
    tmp_path, monkeypatch
):
    system = System({"PATH": "/usr/bin:/bin"}, tmp_path, port_offset=0)
    script = "import os, time; print(os.environ.get('MARK'), flush=True); time.sleep(60)"
    monkeypatch.setattr(system, "command", lambda name: [sys.executable, "-c", script])
    log = tmp_path / "log" / "orders-worker.log"

    def started(times: int) -> list[str]:
        deadline = time.monotonic() + 30
        while log.read_text().count("first") < times and time.monotonic() < deadline:
            time.sleep(0.1)
        return log.read_text().split()

    system.start_process("orders-worker", {"MARK": "first"})
    try:
        assert started(1) == ["first"]
        assert system.restart_exited() == {}
        system.processes["orders-worker"].send_signal(signal.SIGKILL)
        system.processes["orders-worker"].wait(10)
        assert system.restart_exited() == {"orders-worker": -signal.SIGKILL}
        assert started(2) == ["first", "first"]
        assert system.processes["orders-worker"].poll() is None
    finally:
        system.stop_processes(["orders-worker"], timeout=5)


def test_a_process_that_exited_by_itself_is_explained_by_its_own_frames_and_error():
    from portal_system.chaos import REPOSITORY, why_it_exited

    log = (
        "worker.started\nTraceback (most recent call last):\n"
        f'  File "{REPOSITORY}/services/billing/src/billing/sandbox.py", line 164, in __init__\n'
        "    SandboxBase.metadata.create_all(self.engine)\n"
        '  File "/x/.venv/lib/python3.11/site-packages/sqlalchemy/pool/base.py", line 9, in c\n'
        "    self.__connect()\n"
        "sqlalchemy.exc.OperationalError: the database system is shutting down\n"
    )
    assert why_it_exited(log).split("\n") == [
        f'    File "{REPOSITORY}/services/billing/src/billing/sandbox.py", line 164, in __init__',
        "    sqlalchemy.exc.OperationalError: the database system is shutting down",
    ]
