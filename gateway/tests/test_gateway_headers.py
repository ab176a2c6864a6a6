"""Security headers on every answer, HSTS over HTTPS, and CORS only for configured origins."""

from gateway_testkit import DEMO, all_services, make_gateway

from portal_runtime.web import CONTENT_SECURITY_POLICY


def test_json_and_problem_answers_carry_the_security_headers(gw):
    for resp in (
        gw.call("GET", "/me", DEMO),
        gw.call("GET", "/me"),
        gw.call("GET", "/openapi.json"),
    ):
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert resp.headers["Referrer-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in resp.headers  # plain HTTP here


def test_over_https_behind_the_trusted_proxy_answers_carry_hsts(tmp_path, clock, upstream):
    gw = make_gateway(tmp_path, clock, all_services(upstream.url), trusted_proxies=1)
    resp = gw.client.get(
        "/api/v1/openapi.json",
        headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "1.2.3.4"},
    )
    assert resp.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_cors_answers_only_configured_origins(tmp_path, clock, upstream):
    gw = make_gateway(
        tmp_path, clock, all_services(upstream.url), cors_origins=("https://app.example.com",)
    )
    preflight = {"Access-Control-Request-Method": "POST"}
    allowed = gw.client.options(
        "/api/v1/auth/token", headers={"Origin": "https://app.example.com", **preflight}
    )
    assert allowed.status_code == 204
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert "Authorization" in allowed.headers["Access-Control-Allow-Headers"]
    other = gw.client.options(
        "/api/v1/auth/token", headers={"Origin": "https://evil.example", **preflight}
    )
    assert "Access-Control-Allow-Origin" not in other.headers
    plain = gw.client.get("/api/v1/openapi.json", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in plain.headers
    ok = gw.client.get("/api/v1/openapi.json", headers={"Origin": "https://app.example.com"})
    assert ok.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
