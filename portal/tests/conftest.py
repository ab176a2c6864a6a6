"""The portal's test harness.

``portal_system`` is the whole system on the embedded default (SQLite, the filesystem bus, the
local mail sink) with demo data, started once for the portal's tests, the way ``make run``
starts it. Page tests drive the portal's Flask app with its test client against that system's
gateway (``pages``); browser tests drive Debian's Chromium through Playwright against the
gateway's ``/portal/`` (``page``, from pytest-playwright, launched by the fixtures below).
"""

from __future__ import annotations

import importlib
import os
import shutil
import sys
from pathlib import Path

import pytest

# pytest's importlib mode names this module ``portal.tests.conftest`` and so registers the
# ``portal/`` folder as a namespace package ``portal``, hiding the real one (``portal/src/portal``).
_shadow = sys.modules.get("portal")
if _shadow is not None and getattr(_shadow, "__file__", None) is None:
    del sys.modules["portal"]
    importlib.import_module("portal")

sys.path.insert(0, str(Path(__file__).parent))

from portal_testkit import Pages  # noqa: E402

from portal.app import create_app  # noqa: E402
from portal.config import PortalConfig  # noqa: E402
from portal_runtime.keys import IdentityKeys, development_key  # noqa: E402
from portal_system.launcher import (  # noqa: E402
    System,
    clean_environment,
    free_port_offset,
    running,
)

# Above the offsets of `make run` and of the top-level end-to-end tests.
PORTAL_PORT_OFFSET = 4600
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "var" / "screenshots"


@pytest.fixture(scope="session")
def portal_system(tmp_path_factory):
    system = System(
        clean_environment(),
        tmp_path_factory.mktemp("portal-system"),
        free_port_offset(PORTAL_PORT_OFFSET),
    )
    with running(system):
        yield system


# --- page tests: the Flask test client against the running system's gateway ----------------


@pytest.fixture(scope="session")
def portal_config(portal_system) -> PortalConfig:
    return PortalConfig(
        gateway_url=portal_system.url("gateway"),
        base_url=portal_system.url("gateway"),
        secret_key="test-portal-session-key-0123456789abcdef",
        # The running system's portal key: the gateway checks what the pages vouch for with it.
        identity_keys=IdentityKeys("portal", development_key("portal", portal_system.var_dir)),
    )


@pytest.fixture
def pages(portal_config) -> Pages:
    return Pages(create_app(portal_config))


@pytest.fixture
def reseller_pages(pages) -> Pages:
    from portal_contracts import demo

    pages.sign_in(demo.DEMO_RESELLER_USER)
    return pages


# --- browser tests: Debian's Chromium through Playwright -----------------------------------


def _chromium_or_skip() -> str:
    if Path(CHROMIUM).exists():
        return CHROMIUM
    message = (
        f"no Chromium at {CHROMIUM}: install Debian's (apt-get install chromium) or set "
        "CHROMIUM_PATH; Playwright's own browser download is not used"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": _chromium_or_skip(),
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args, portal_system):
    return {
        **browser_context_args,
        "base_url": portal_system.url("gateway"),
        "locale": "en-US",
        "accept_downloads": True,
    }


@pytest.fixture(scope="session")
def screenshots() -> Path:
    if SCREENSHOTS.exists():
        shutil.rmtree(SCREENSHOTS)
    SCREENSHOTS.mkdir(parents=True)
    return SCREENSHOTS
