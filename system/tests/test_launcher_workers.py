"""Several worker processes of one service, as `make bench --billing-workers N` starts them."""

from __future__ import annotations

import sys

from portal_runtime.keys import private_variable
from portal_system.launcher import System, process_kind


def test_a_service_can_run_several_competing_worker_processes(tmp_path):
    env = {private_variable("billing"): "b-key", private_variable("orders"): "o-key"}
    system = System(env, tmp_path, port_offset=7000, workers={"billing": 3})
    names = system.process_names()
    assert [n for n in names if n.startswith("billing-")] == [
        "billing-web",
        "billing-worker",
        "billing-worker-2",
        "billing-worker-3",
    ]
    assert [n for n in names if n.startswith("orders-")] == ["orders-web", "orders-worker"]
    for name in ("billing-worker", "billing-worker-3"):
        assert system.command(name) == [sys.executable, "-m", "billing", "worker"]
        # Each holds billing's own signing key and no other service's.
        service_env = system.env_for(process_kind(name)[0])
        assert service_env[private_variable("billing")] == "b-key"
        assert private_variable("orders") not in service_env


def test_process_names_say_their_service_and_kind():
    assert process_kind("license-assign-worker-2") == ("license-assign", "worker")
    assert process_kind("cart-quote-web") == ("cart-quote", "web")
    assert process_kind("mailsink") == ("mailsink", "")
