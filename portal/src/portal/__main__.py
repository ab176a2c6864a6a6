"""``python -m portal web``: serve the portal's pages with gunicorn on ``PORTAL_PORT``."""

from __future__ import annotations

import argparse
import os
import sys

from portal.config import PortalConfig
from portal_runtime.cli import serve_with_gunicorn
from portal_runtime.keys import InsecureConfiguration

DEFAULT_PORT = 8087


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m portal")
    sub = parser.add_subparsers(dest="command", required=True)
    web = sub.add_parser("web", help="serve the pages with gunicorn")
    web.add_argument("--port", type=int, default=int(os.environ.get("PORTAL_PORT", DEFAULT_PORT)))
    web.add_argument("--workers", type=int, default=int(os.environ.get("WEB_WORKERS", "1")))
    args = parser.parse_args(argv)
    try:
        PortalConfig.from_env().keys()
    except InsecureConfiguration as exc:
        print(f"portal: refusing to start: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    # Threads: a page waits on the gateway, so one slow answer must not block the others.
    serve_with_gunicorn("portal", "portal.app:create_app()", args.port, args.workers)


if __name__ == "__main__":
    main()
