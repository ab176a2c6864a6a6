"""Does a process start with exactly this environment? For the deployment tests.

``python -m portal_system.envcheck <package> <process>`` composes the package's service the way
``python -m <package> <process>`` does (``bootstrap()``; for ``web`` also ``create_app()``;
the portal builds its app from ``PortalConfig``), with this process's environment and nothing
else, and prints as JSON which variables the code read while doing so: ``set``, ``default``
(unset, read with a fallback) or ``missing``. It exits 2 naming the variable when the process
would refuse to start (production mode: a secret missing, a placeholder or too short), 1 on any
other error. No connection is made: engines and clients are lazy.
"""

from __future__ import annotations

import importlib
import json
import os
import sys

_UNSET = object()


class RecordingEnviron(dict):
    """``os.environ`` that remembers every variable read and whether it was there."""

    def __init__(self, values: dict[str, str]):
        super().__init__(values)
        self.reads: dict[str, str] = {}

    def _note(self, key: str, fallback: bool) -> None:
        if dict.__contains__(self, key):
            self.reads[key] = "set"
        elif self.reads.get(key) != "set":
            self.reads[key] = "default" if fallback else "missing"

    def __getitem__(self, key):
        self._note(key, fallback=False)
        return super().__getitem__(key)

    def get(self, key, default=_UNSET):
        self._note(key, fallback=default is not _UNSET and default is not None)
        return super().get(key, None if default is _UNSET else default)

    def __contains__(self, key):
        self._note(key, fallback=True)
        return super().__contains__(key)


def compose(package: str, process: str) -> None:
    if package == "portal":
        from portal.app import create_app
        from portal.config import PortalConfig

        create_app(PortalConfig.from_env())
        return
    bootstrap = importlib.import_module(f"{package}.bootstrap")
    service = bootstrap.bootstrap()
    if process == "web":
        bootstrap.create_app(service)


def check(package: str, process: str, env: dict[str, str]) -> dict:
    """Compose one process with exactly ``env``: ``{"code", "error", "reads"}``."""
    from portal_runtime.keys import InsecureConfiguration

    saved = os.environ
    environ = RecordingEnviron(env)
    # Every os.environ / os.getenv read from here on is recorded (the C environment is not
    # changed: what this checks is what the Python code reads).
    os.environ = environ  # noqa: B003
    code, error = 0, ""
    try:
        compose(package, process)
    except InsecureConfiguration as exc:
        code, error = 2, f"{package} {process}: refusing to start: {exc}"
    except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on it
        code, error = 1, f"{package} {process}: {type(exc).__name__}: {exc}"
    finally:
        os.environ = saved  # noqa: B003
    return {"code": code, "error": error, "reads": environ.reads}


def main(argv: list[str] | None = None) -> int:
    """``<package> <process>`` with this environment, or ``--batch``: a JSON list of
    ``{package, process, env}`` on stdin, each composed with exactly its ``env`` (one
    interpreter for all: imports are paid once), the results as a JSON list on stdout."""
    args = argv if argv is not None else sys.argv[1:]
    if args == ["--batch"]:
        jobs = json.load(sys.stdin)
        print(json.dumps([check(j["package"], j["process"], j["env"]) for j in jobs]))
        return 0
    package, process = args[:2]
    result = check(package, process, dict(os.environ))
    if result["error"]:
        print(result["error"], file=sys.stderr)
    print(json.dumps(result["reads"], sort_keys=True))
    return result["code"]


if __name__ == "__main__":
    raise SystemExit(main())
