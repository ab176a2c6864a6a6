"""docker-compose.yml and the Kubernetes manifests name only things the code has.

There is no Docker engine on the build machines, so these files cannot be run here; this test
keeps them honest instead: every service has its processes, its database and its Dockerfile,
and every variable they set is one the code reads.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
import yaml

from portal_runtime.config import SERVICE_PORTS, env_name
from portal_runtime.keys import SIGNERS
from portal_system.launcher import PORTAL, SERVICES

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
MANIFESTS = list(yaml.safe_load_all((ROOT / "deploy/kubernetes/portal.yaml").read_text()))
INIT_SQL = (ROOT / "deploy/postgres/init.sql").read_text()


def source_text() -> str:
    roots = [
        ROOT / "runtime",
        ROOT / "services",
        ROOT / "gateway",
        ROOT / "system",
        ROOT / "portal",
    ]
    return "\n".join(p.read_text() for r in roots for p in r.rglob("*.py"))


SOURCE = source_text()


def variable_is_read(name: str) -> bool:
    """Read literally, or as one of the per-service names the runtime composes."""
    if re.search(rf"[\"']{re.escape(name)}[\"']", SOURCE):
        return True
    for prefix in [env_name(s) for s in SIGNERS] + [env_name(PORTAL)]:
        for suffix in ("_DATABASE_URL", "_URL", "_PORT", "_IDENTITY_KEY", "_IDENTITY_PUBLIC_KEY"):
            if name == prefix + suffix and f'_{suffix.lstrip("_")}"' in SOURCE:
                return True
    return False


def test_compose_runs_a_web_and_a_worker_for_every_service_and_the_gateway():
    names = set(COMPOSE["services"])
    for spec in SERVICES:
        web = "gateway" if spec.name == "gateway" else f"{spec.name}-web"
        assert web in names
        assert (f"{spec.name}-worker" in names) == spec.worker
    assert {"rabbitmq", "postgres", "mail", f"{PORTAL}-web"} <= names
    assert "management" in COMPOSE["services"]["rabbitmq"]["image"]


def test_every_dockerfile_named_exists_and_starts_an_installed_service_package():
    for name, service in COMPOSE["services"].items():
        build = service.get("build")
        if not build:
            continue
        dockerfile = ROOT / build["dockerfile"]
        assert dockerfile.exists(), name
        module = re.search(r'CMD \["python", "-m", "(\w+)"', dockerfile.read_text()).group(1)
        assert importlib.util.find_spec(f"{module}.__main__") is not None, module


def test_every_service_database_in_compose_is_created_by_the_init_script():
    env = COMPOSE["x-portal-env"]
    for spec in SERVICES:
        url = env[f"{env_name(spec.name)}_DATABASE_URL"]
        database = url.rsplit("/", 1)[1]
        assert f"CREATE DATABASE {database};" in INIT_SQL
        assert f"{env_name(spec.name)}_URL" in env
        assert url.startswith("postgresql+psycopg://")


@pytest.mark.parametrize("name", sorted(COMPOSE["x-portal-env"]))
def test_every_variable_compose_sets_is_read_by_the_code(name):
    assert variable_is_read(name), f"{name} is set in docker-compose.yml but never read"


def test_the_kubernetes_manifests_cover_the_same_services_and_variables():
    deployments = {m["metadata"]["name"] for m in MANIFESTS if m["kind"] == "Deployment"}
    for spec in SERVICES:
        assert f"{spec.name}-web" in deployments
        assert (f"{spec.name}-worker" in deployments) == spec.worker
    services = {m["metadata"]["name"]: m for m in MANIFESTS if m["kind"] == "Service"}
    assert f"{PORTAL}-web" in deployments
    for name in [spec.name for spec in SERVICES] + [PORTAL]:
        assert services[name]["spec"]["ports"][0]["port"] == SERVICE_PORTS[name]
    for manifest in MANIFESTS:
        if manifest["kind"] in ("ConfigMap", "Secret"):
            data = manifest.get("data") or manifest.get("stringData")
            for name in data:
                assert variable_is_read(name), f"{name} is set in Kubernetes but never read"


SECRET_NAMES = ("_IDENTITY_KEY", "GATEWAY_TOKEN_SECRET", "ACTIVATION_SIGNING_KEY")


def compose_environment(name: str) -> dict:
    return COMPOSE["services"][name].get("environment") or {}


def test_compose_runs_in_production_mode_and_writes_no_secret_down():
    assert COMPOSE["x-portal-env"]["PORTAL_ENV"] == "production"
    assert "GATEWAY_TRUSTED_PROXIES" in COMPOSE["x-portal-env"]
    for name in COMPOSE["services"]:
        for variable, value in compose_environment(name).items():
            if variable.endswith(SECRET_NAMES) or variable.endswith("_PUBLIC_KEY"):
                # Only a reference to .env (make compose-secrets), failing when it is not there.
                assert re.fullmatch(rf"\$\{{{variable}:\?[^}}]+\}}", value), (name, variable)


def test_each_compose_service_gets_its_own_signing_key_and_no_other():
    for spec in SERVICES:
        for process in ("web", "worker") if spec.worker else ("",):
            name = f"{spec.name}-{process}" if process else spec.name
            keys = {v for v in compose_environment(name) if v.endswith("_IDENTITY_KEY")}
            assert keys == {f"{env_name(spec.name)}_IDENTITY_KEY"}, name


def test_kubernetes_runs_in_production_mode_behind_one_trusted_proxy():
    config = next(m for m in MANIFESTS if m["kind"] == "ConfigMap")["data"]
    assert config["PORTAL_ENV"] == "production"
    assert config["GATEWAY_TRUSTED_PROXIES"] == "1"
    shared = next(m for m in MANIFESTS if m["metadata"]["name"] == "portal-secrets")
    assert not [v for v in shared["stringData"] if v.endswith(SECRET_NAMES)]
