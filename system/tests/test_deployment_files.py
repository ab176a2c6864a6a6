"""docker-compose.yml and the Kubernetes manifests name only things the code has.

There is no Docker engine on the build machines, so these files cannot be run here; this test
keeps them honest instead: every service has its processes, its database and its image (one
Dockerfile, runtime dependencies only), and every variable they set is one the code reads.
"""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

import pytest
import yaml

from portal_runtime.config import SERVICE_PORTS, env_name
from portal_runtime.keys import SIGNERS
from portal_system.kustomize import containers, render
from portal_system.launcher import PORTAL, SERVICES, ServiceSpec

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
# Production as Kustomize renders it, and what it expects to find (test_kubernetes.py: the rest).
MANIFESTS = render(ROOT / "deploy/kubernetes/overlays/production")
DOCUMENTED = list(yaml.safe_load_all((ROOT / "deploy/kubernetes/secrets.example.yaml").read_text()))
INIT_SQL = (ROOT / "deploy/postgres/init.sql").read_text()
DOCKERFILE = (ROOT / "Dockerfile").read_text()


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


def service_folder(service: str) -> Path:
    """Where a process's package lives: what the Dockerfile's SERVICE argument picks."""
    return ROOT / (service if service in ("gateway", PORTAL) else f"services/{service}")


def package_of(service: str) -> str:
    return service.replace("-", "_")


def test_every_compose_image_is_built_from_the_one_dockerfile_for_a_service_that_exists():
    built = {}
    for name, service in COMPOSE["services"].items():
        build = service.get("build")
        if not build:
            continue
        assert build.get("dockerfile", "Dockerfile") == "Dockerfile", name
        assert build["context"] == ".", name
        built[name] = build["args"]["SERVICE"]
        folder = service_folder(built[name])
        assert (folder / "pyproject.toml").exists(), (name, built[name])
        package = package_of(built[name])
        assert importlib.util.find_spec(f"{package}.__main__") is not None, package
        # The command runs the package the image holds.
        command = " ".join(service.get("command") or [])
        assert not command or f"python -m {package} " in command + " ", (name, command)
    assert set(built.values()) == {spec.name for spec in SERVICES} | {PORTAL}


def test_there_is_one_dockerfile_and_its_image_is_production_only_and_non_root():
    dockerfiles = [
        p for p in ROOT.rglob("Dockerfile*") if ".venv" not in p.parts and "var" not in p.parts
    ]
    assert dockerfiles == [ROOT / "Dockerfile"]
    recipe = DOCKERFILE
    assert "ARG SERVICE" in recipe
    installs = re.findall(r"pip install [^\n]*-r (\S+)", recipe)
    assert installs == ["requirements.lock"]  # never requirements-dev.lock
    assert "-e " not in recipe  # installed packages, not the source folders
    user = re.findall(r"^USER (\S+)", recipe, re.M)
    assert user and user[-1].split(":")[0] not in ("root", "0")
    # The PDFs' fonts (portal_runtime.documents looks for DejaVu and a CJK font).
    assert "fonts-dejavu-core" in recipe and "fonts-ipafont-gothic" in recipe


def lock(path: str) -> dict[str, str]:
    pins = {}
    for line in (ROOT / path).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "-r")):
            continue
        name, _, version = line.partition("==")
        assert version, f"{path}: {line} is not pinned"
        pins[canonical(name)] = version
    return pins


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_the_locks_are_pinned_sorted_and_split_into_runtime_and_development():
    for path in ("requirements.lock", "requirements-dev.lock"):
        names = [
            line.partition("==")[0]
            for line in (ROOT / path).read_text().splitlines()
            if line and not line.startswith(("#", "-r"))
        ]
        assert names == sorted(names, key=str.lower), path
    runtime, development = lock("requirements.lock"), lock("requirements-dev.lock")
    assert not set(runtime) & set(development)
    assert "-r requirements.lock" in (ROOT / "requirements-dev.lock").read_text()
    for tool in ("pytest", "playwright", "schemathesis", "ruff", "hypothesis", "testcontainers"):
        assert tool not in runtime and tool in development, tool


def imported_distributions() -> set[str]:
    """The distributions the shipped code imports (not its tests), and everything they need."""
    from importlib import metadata

    from packaging.requirements import Requirement

    folders = [ROOT / "contracts", ROOT / "runtime", ROOT / "gateway", ROOT / PORTAL]
    folders += [service_folder(spec.name) for spec in SERVICES if spec.name != "gateway"]
    modules = set()
    for folder in folders:
        for path in (folder / "src").rglob("*.py"):
            if path.name == "testing.py":  # test helpers shipped beside the code
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    modules |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    modules.add(node.module.split(".")[0])
    providers = metadata.packages_distributions()
    wanted = {d for m in modules for d in providers.get(m, ()) if not d.startswith("portal-")}
    needed: set[str] = set()
    while wanted:
        name = canonical(wanted.pop())
        if name in needed:
            continue
        needed.add(name)
        for requirement in metadata.requires(name) or []:
            req = Requirement(requirement)
            extras = {"binary"} if name == "psycopg" else {""}
            if req.marker is None or any(req.marker.evaluate({"extra": e}) for e in extras):
                wanted.add(req.name)
    return needed


def test_the_runtime_lock_holds_everything_the_shipped_code_imports():
    missing = imported_distributions() - set(lock("requirements.lock"))
    assert not missing, f"imported by the services but only in requirements-dev.lock: {missing}"


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
    for manifest in MANIFESTS + DOCUMENTED:
        if (
            manifest["kind"] in ("ConfigMap", "Secret")
            and manifest.get("type") != "kubernetes.io/tls"
        ):
            data = manifest.get("data") or manifest.get("stringData")
            for name in data:
                assert variable_is_read(name), f"{name} is set in Kubernetes but never read"
    for manifest in MANIFESTS:
        for container in containers(manifest):
            for entry in container.get("env", []):
                assert variable_is_read(entry["name"]), f"{entry['name']} is never read"


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
    for spec in [*SERVICES, ServiceSpec(PORTAL, PORTAL, worker=False)]:
        web = "gateway" if spec.name == "gateway" else f"{spec.name}-web"
        for name in (web, f"{spec.name}-worker") if spec.worker else (web,):
            keys = {v for v in compose_environment(name) if v.endswith("_IDENTITY_KEY")}
            assert keys == {f"{env_name(spec.name)}_IDENTITY_KEY"}, name


def test_kubernetes_runs_in_production_mode_behind_one_trusted_proxy():
    config = next(m for m in MANIFESTS if m["kind"] == "ConfigMap")["data"]
    assert config["PORTAL_ENV"] == "production"
    assert config["GATEWAY_TRUSTED_PROXIES"] == "1"
    # Each service's signing key only in its own Secret, read only by its own pods.
    for manifest in MANIFESTS:
        if not containers(manifest):
            continue
        service = manifest["spec"]["template"]["metadata"]["labels"]["app"]
        for container in containers(manifest):
            for entry in container.get("env", []):
                if entry["name"].endswith("_IDENTITY_KEY"):
                    ref = entry["valueFrom"]["secretKeyRef"]
                    assert entry["name"] == f"{env_name(service)}_IDENTITY_KEY"
                    # The portal's pages keep theirs with their session key.
                    own = "portal-pages" if service == PORTAL else f"portal-{service}"
                    assert ref["name"] == own
