"""``make run``: migrate, seed and start the whole portal; Ctrl-C stops it."""

from __future__ import annotations

import os
import signal
import sys
import time

from portal_contracts import demo
from portal_system.launcher import System


def main() -> int:
    system = System(var_dir=os.environ.get("PORTAL_VAR_DIR", "var"))
    where = system.describe()
    print(f"Partner Portal: {where['portal']} (preparing databases and demo data ...)", flush=True)
    system.migrate()
    system.seed()
    stopping = False

    def _stop(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    system.start()
    try:
        system.wait_ready()
    except (RuntimeError, TimeoutError) as exc:
        print(f"The system did not start:\n{exc}", file=sys.stderr)
        system.stop()
        return 1
    print(
        f"""
Partner Portal is running: open {where["portal"]}

  portal         {where["portal"]}
  API            {where["gateway"]}
  OpenAPI        {where["openapi"]}
  API docs       {where["docs"]}
  broker         {where["broker"]}
  databases      {where["databases"]}
  mail           {where["mail"]}
  process logs   {where["logs"]}

Demo users (password "{demo.DEMO_PASSWORD}"):
  reseller       {demo.DEMO_RESELLER_USER}   (Demo Reseller: admin, sales, billing)
  reseller       {demo.OTHER_RESELLER_USER}  (Other Reseller)
  customer admin {demo.ACME_ADMIN}            ({demo.ACME_ID} {demo.ACME_NAME})

Try:  curl -s -X POST {where["gateway"]}/auth/token -H 'Content-Type: application/json' \\
        -d '{{"email": "{demo.DEMO_RESELLER_USER}", "password": "{demo.DEMO_PASSWORD}"}}'

Ctrl-C stops everything.
""",
        flush=True,
    )
    try:
        while not stopping:
            for name, code in system.restart_exited().items():
                print(
                    f"{name} exited ({code}); restarted it. "
                    f"Last log lines before:\n{system.log_tail(name, 1500)}",
                    file=sys.stderr,
                )
            time.sleep(1)
    finally:
        print("Stopping ...", flush=True)
        system.stop()
        print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
