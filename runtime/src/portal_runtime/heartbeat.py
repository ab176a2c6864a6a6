"""A worker's liveness, for an exec probe: the worker touches a file while every one of its
threads (relay, consumer, jobs) runs; the probe says whether the file is fresh.

``WORKER_HEARTBEAT_FILE`` names the file (unset: no heartbeat, as on ``make run``). A worker
whose consumer or relay thread has died stops touching it, and Kubernetes restarts the pod:

    python -m portal_runtime.heartbeat --max-age 60      # exit 0 when fresh, 1 otherwise
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

VARIABLE = "WORKER_HEARTBEAT_FILE"
EVERY_SECONDS = 5.0


class Heartbeat:
    """Touches ``path`` at most every ``every`` seconds while all ``threads`` are alive."""

    def __init__(self, path: Path | None, every: float = EVERY_SECONDS):
        self.path = path
        self.every = every
        self._last = 0.0

    @classmethod
    def from_env(cls) -> Heartbeat:
        value = os.environ.get(VARIABLE, "").strip()
        return cls(Path(value) if value else None)

    def beat(self, threads: Sequence[threading.Thread]) -> None:
        if self.path is None or not all(t.is_alive() for t in threads):
            return
        now = time.monotonic()
        if now - self._last >= self.every:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.touch()
            self._last = now


def age(path: Path) -> float | None:
    """Seconds since the worker last touched ``path``; None when it never did."""
    try:
        return time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m portal_runtime.heartbeat")
    parser.add_argument("path", nargs="?", default=os.environ.get(VARIABLE))
    parser.add_argument("--max-age", type=float, default=60.0, help="seconds (default 60)")
    args = parser.parse_args(argv)
    if not args.path:
        parser.error(f"name the file, or set {VARIABLE}")
    seconds = age(Path(args.path))
    if seconds is None:
        print(f"no heartbeat at {args.path} yet", file=sys.stderr)
        return 1
    if seconds > args.max_age:
        print(f"last heartbeat {seconds:.0f} s ago (over {args.max_age:.0f} s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
