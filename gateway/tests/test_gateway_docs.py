"""The API docs page works without internet: Swagger UI comes from the gateway itself."""

from __future__ import annotations

import concurrent.futures
import os
import re
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from werkzeug.serving import make_server

from portal_runtime.web import CONTENT_SECURITY_POLICY

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def referenced_urls(html: str) -> list[str]:
    return re.findall(r'(?:src|href|data-openapi-url)="([^"]+)"', html)


def test_the_docs_page_references_only_the_gateways_own_assets_and_they_answer(shared_gw):
    page = shared_gw.client.get("/api/v1/docs")
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    urls = referenced_urls(page.get_data(as_text=True))
    assert len(urls) >= 4  # style sheets, Swagger UI's script, the start script, the document
    for url in urls:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, url  # no CDN, no other host
        assert url.startswith("/api/v1/"), url
        asset = shared_gw.client.get(url)
        assert asset.status_code == 200, url
        assert asset.get_data(), url
    scripts = [u for u in urls if u.endswith(".js")]
    assert any("swagger-ui-bundle" in u for u in scripts)


def test_the_docs_page_has_the_policy_of_every_answer_with_no_cdn_and_no_inline_script(gw):
    docs = gw.client.get("/api/v1/docs")
    assert docs.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
    assert "jsdelivr" not in docs.get_data(as_text=True)
    # Every script is a file (script-src 'self' refuses inline ones).
    assert not re.search(r"<script(?![^>]*\ssrc=)[^>]*>", docs.get_data(as_text=True))


def test_only_swagger_uis_files_are_served_under_docs(gw):
    assert gw.client.get("/api/v1/docs/index.html").status_code == 404
    assert gw.client.get("/api/v1/docs/..%2F__init__.py").status_code == 404


@pytest.fixture
def served_gateway(shared_gw):
    server = make_server("127.0.0.1", 0, shared_gw.app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_swagger_ui_renders_the_operations_in_a_browser_with_no_network(served_gateway):
    if not Path(CHROMIUM).exists():
        message = f"no Chromium at {CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    own = urlsplit(served_gateway).netloc
    outside: list[str] = []
    refused: list[str] = []

    def only_the_gateway(route):
        if urlsplit(route.request.url).netloc == own:
            route.continue_()
        else:  # the network is cut: anything else would fail here
            outside.append(route.request.url)
            route.abort()

    def browse() -> None:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            try:
                page = browser.new_page()
                page.route("**/*", only_the_gateway)
                page.on("console", lambda m: m.type == "error" and refused.append(m.text))
                page.goto(served_gateway + "/api/v1/docs")
                page.wait_for_selector(".opblock-summary", timeout=30_000)
                assert "Partner Portal API" in page.inner_text(".info .title")
                summaries = page.locator(".opblock-summary-path").all_inner_texts()
                assert "/api/v1/auth/token" in [s.replace("\u200b", "") for s in summaries]
                assert page.locator(".opblock").count() > 50
                shots = Path(__file__).resolve().parents[2] / "var" / "screenshots"
                shots.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(shots / "api-docs.png"))
            finally:
                browser.close()

    # In a thread of its own: Playwright's sync API refuses a thread whose asyncio loop runs,
    # as the portal's browser tests (pytest-playwright) leave this process's main thread.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(browse).result()
    assert outside == []
    assert not [m for m in refused if "Content Security Policy" in m], refused
