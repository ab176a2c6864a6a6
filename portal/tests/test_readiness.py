"""The portal's readiness probe: ready while the gateway, which every page needs, answers."""

from __future__ import annotations

import socket
import threading

from flask import Flask
from werkzeug.serving import make_server

from portal.app import create_app
from portal.config import PortalConfig

SECRET = "test-portal-session-key-0123456789abcdef"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_portal_is_ready_only_while_the_gateway_answers():
    down = create_app(
        PortalConfig(gateway_url=f"http://127.0.0.1:{free_port()}", secret_key=SECRET)
    )
    answer = down.test_client().get("/readyz")
    assert answer.status_code == 503
    assert answer.get_json()["checks"]["gateway"].startswith("down")
    assert down.test_client().get("/healthz").status_code == 200  # alive all the same

    gateway = Flask("gateway")
    gateway.get("/healthz")(lambda: {"status": "ok"})
    server = make_server("127.0.0.1", 0, gateway, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        up = create_app(
            PortalConfig(gateway_url=f"http://127.0.0.1:{server.server_port}", secret_key=SECRET)
        )
        answer = up.test_client().get("/readyz")
        assert answer.status_code == 200
        assert answer.get_json() == {"status": "ready", "checks": {"gateway": "ok"}}
    finally:
        server.shutdown()
