"""The Kubernetes overlays, rendered and checked offline (no cluster, no kustomize binary).

Each overlay of ``deploy/kubernetes/overlays`` is rendered in Python (``portal_system.kustomize``)
and every object is validated against the Kubernetes schemas ``kubernetes-validate`` bundles
(strict: an unknown field fails), the custom resources (KEDA, the RabbitMQ and PostgreSQL
operators) against minimal schemas of their fields we use. Then the references between them:
autoscalers target Deployments that exist (KEDA on a queue the topology declares), Services,
budgets and network policies select pods that exist, every Secret and ConfigMap referenced is
rendered or documented (``secrets.example.yaml``), and every process starts, in production mode,
with exactly the environment its container gets (``portal_system.envcheck``). The same start
check runs for docker-compose.yml. ``test_a_broken_reference_fails_*`` break copies on purpose.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from portal_contracts import SUBSCRIPTIONS
from portal_runtime.config import SERVICE_PORTS, env_name
from portal_runtime.keys import generate_environment
from portal_runtime.metrics import WORKER_PORT_STEP
from portal_runtime.topology import Topology
from portal_system.kustomize import containers, pod_spec, render
from portal_system.launcher import PORTAL, SERVICES

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES = ROOT / "deploy/kubernetes"
OVERLAYS = sorted(p.name for p in (KUBERNETES / "overlays").iterdir() if p.is_dir())
KUBERNETES_VERSION = "1.31.0"
PROCESSES = {spec.name for spec in SERVICES} | {PORTAL}
WITH_DATABASE = {spec.name for spec in SERVICES}
SECRET_LIKE = re.compile(r"(_KEY|_SECRET|_DATABASE_URL|BROKER_URL|SMTP_URL)$")


def _object(properties: dict, required: list[str]) -> dict:
    return {
        "type": "object",
        "required": required,
        "properties": properties,
        "additionalProperties": False,
    }


METADATA = {"type": "object", "required": ["name"]}
STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
# The custom resources' fields the overlays use; anything else (a typo) fails.
CRD_SCHEMAS = {
    ("keda.sh/v1alpha1", "ScaledObject"): {
        "spec": _object(
            {
                "scaleTargetRef": _object({"name": {"type": "string"}}, ["name"]),
                "minReplicaCount": {"type": "integer", "minimum": 0},
                "maxReplicaCount": {"type": "integer", "minimum": 1},
                "pollingInterval": {"type": "integer"},
                "cooldownPeriod": {"type": "integer"},
                "triggers": {
                    "type": "array",
                    "minItems": 1,
                    "items": _object(
                        {
                            "type": {"enum": ["rabbitmq"]},
                            "metadata": _object(
                                {
                                    "protocol": {"enum": ["amqp", "http", "auto"]},
                                    "queueName": {"type": "string"},
                                    "mode": {"enum": ["QueueLength", "MessageRate"]},
                                    "value": {"type": "string", "pattern": r"^\d+(\.\d+)?$"},
                                },
                                ["queueName", "mode", "value"],
                            ),
                            "authenticationRef": _object({"name": {"type": "string"}}, ["name"]),
                        },
                        ["type", "metadata", "authenticationRef"],
                    ),
                },
            },
            ["scaleTargetRef", "minReplicaCount", "maxReplicaCount", "triggers"],
        )
    },
    ("keda.sh/v1alpha1", "TriggerAuthentication"): {
        "spec": _object(
            {
                "secretTargetRef": {
                    "type": "array",
                    "items": _object(
                        {p: {"type": "string"} for p in ("parameter", "name", "key")},
                        ["parameter", "name", "key"],
                    ),
                }
            },
            ["secretTargetRef"],
        )
    },
    ("rabbitmq.com/v1beta1", "RabbitmqCluster"): {
        "spec": _object(
            {
                "replicas": {"type": "integer", "minimum": 1},
                "resources": {"type": "object"},
                "persistence": _object({"storage": {"type": "string"}}, []),
                "rabbitmq": _object(
                    {"additionalPlugins": {"type": "array", "items": {"type": "string"}}}, []
                ),
            },
            ["replicas"],
        )
    },
    ("postgresql.cnpg.io/v1", "Cluster"): {
        "spec": _object(
            {
                "instances": {"type": "integer", "minimum": 1},
                "storage": _object({"size": {"type": "string"}}, ["size"]),
                "bootstrap": _object(
                    {
                        "initdb": _object(
                            {"database": {"type": "string"}, "owner": {"type": "string"}},
                            ["database", "owner"],
                        )
                    },
                    ["initdb"],
                ),
            },
            ["instances", "storage", "bootstrap"],
        )
    },
}


def validate_custom(obj: dict) -> None:
    properties = CRD_SCHEMAS[(obj["apiVersion"], obj["kind"])]
    schema = _object(
        {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": METADATA,
            **properties,
        },
        ["apiVersion", "kind", "metadata", *properties],
    )
    jsonschema.validate(obj, schema)


# -- rendering and what the overlays document --------------------------------------------------


def documented(overlay_dir: Path) -> list[dict]:
    """The objects an overlay references but does not contain: its secrets.example.yaml, or the
    shared one."""
    own = overlay_dir / "secrets.example.yaml"
    path = own if own.exists() else KUBERNETES / "secrets.example.yaml"
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request):
    folder = KUBERNETES / "overlays" / request.param
    return request.param, render(folder), documented(folder)


def by_kind(objects: list[dict], kind: str) -> dict[str, dict]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


def selects(selector: dict, labels: dict) -> bool:
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        present = expression["key"] in labels
        value = labels.get(expression["key"])
        operator = expression["operator"]
        if operator == "In" and value not in expression["values"]:
            return False
        if operator == "NotIn" and value in expression["values"]:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


def pod_labels(objects: list[dict]) -> list[tuple[str, dict]]:
    return [
        (o["metadata"]["name"], o["spec"]["template"]["metadata"]["labels"])
        for o in objects
        if pod_spec(o) is not None
    ]


def secret_references(objects: list[dict]) -> list[tuple[str, str, str]]:
    """(where, secret, key) for every Secret an object reads."""
    refs = []
    for obj in objects:
        where = f"{obj['kind']} {obj['metadata']['name']}"
        for container in containers(obj):
            for entry in container.get("env", []):
                ref = (entry.get("valueFrom") or {}).get("secretKeyRef")
                if ref:
                    refs.append((f"{where} {container['name']}", ref["name"], ref["key"]))
            for source in container.get("envFrom", []):
                if "secretRef" in source:
                    refs.append((where, source["secretRef"]["name"], "*"))
        if obj["kind"] == "TriggerAuthentication":
            for target in obj["spec"]["secretTargetRef"]:
                refs.append((where, target["name"], target["key"]))
        if obj["kind"] == "Ingress":
            for tls in obj["spec"].get("tls", []):
                refs.append((where, tls["secretName"], "tls.crt"))
    return refs


def reference_problems(objects: list[dict], docs: list[dict]) -> list[str]:
    """Every reference between the rendered objects that points at nothing."""
    problems = []
    deployments = by_kind(objects, "Deployment")
    pods = pod_labels(objects)
    keys: dict[tuple[str, str], set[str]] = {}
    for source in [*objects, *docs]:
        if source["kind"] in ("Secret", "ConfigMap"):
            data = source.get("stringData") or source.get("data") or {}
            keys.setdefault((source["kind"], source["metadata"]["name"]), set()).update(data)
    declared_queues = set()
    config = by_kind(objects, "ConfigMap").get("portal-config", {}).get("data", {})
    topology = Topology("amqp://", config.get("BUS_PREFIX", ""))
    for service in SUBSCRIPTIONS:
        declared_queues.add(topology.queue(service).name)

    for name, scaled in by_kind(objects, "ScaledObject").items():
        target = scaled["spec"]["scaleTargetRef"]["name"]
        if target not in deployments:
            problems.append(f"ScaledObject {name} scales Deployment {target}, which is not there")
            continue
        if "replicas" in deployments[target]["spec"]:
            problems.append(f"Deployment {target} sets replicas that its ScaledObject overrides")
        service = deployments[target]["spec"]["template"]["metadata"]["labels"]["app"]
        for trigger in scaled["spec"]["triggers"]:
            queue = trigger["metadata"]["queueName"]
            if queue not in declared_queues:
                problems.append(f"ScaledObject {name} watches queue {queue}: no such queue")
            elif queue != topology.queue_name(service):
                problems.append(f"ScaledObject {name} scales {service} on another's queue {queue}")
            auth = trigger["authenticationRef"]["name"]
            if auth not in by_kind(objects, "TriggerAuthentication"):
                problems.append(f"ScaledObject {name} authenticates with missing {auth}")
    for name, hpa in by_kind(objects, "HorizontalPodAutoscaler").items():
        target = hpa["spec"]["scaleTargetRef"]["name"]
        if target not in deployments:
            problems.append(f"HorizontalPodAutoscaler {name} scales missing Deployment {target}")
        elif "replicas" in deployments[target]["spec"]:
            problems.append(f"Deployment {target} sets replicas that its autoscaler overrides")
    for name, service in by_kind(objects, "Service").items():
        chosen = [
            o
            for o in deployments.values()
            if selects({"matchLabels": service["spec"]["selector"]}, pod_labels([o])[0][1])
        ]
        if not chosen:
            problems.append(f"Service {name} selects no pods")
            continue
        ports = {
            p.get("name"): p["containerPort"]
            for o in chosen
            for c in containers(o)
            for p in c.get("ports", [])
        }
        for port in service["spec"]["ports"]:
            if port["targetPort"] not in ports and port["targetPort"] not in ports.values():
                problems.append(f"Service {name} sends to port {port['targetPort']}: none there")
    for name, budget in by_kind(objects, "PodDisruptionBudget").items():
        if not any(selects(budget["spec"]["selector"], labels) for _, labels in pods):
            problems.append(f"PodDisruptionBudget {name} selects no pods")
    for name, policy in by_kind(objects, "NetworkPolicy").items():
        selector = policy["spec"]["podSelector"]
        if selector and not any(selects(selector, labels) for _, labels in pods):
            problems.append(f"NetworkPolicy {name} applies to no pods")
        for rule in policy["spec"].get("ingress", []):
            for peer in rule.get("from", []):
                if "podSelector" in peer and not any(
                    selects(peer["podSelector"], labels) for _, labels in pods
                ):
                    problems.append(f"NetworkPolicy {name} lets in from pods that do not exist")
    for where, secret, key in secret_references(objects):
        if ("Secret", secret) not in keys:
            problems.append(f"{where} reads Secret {secret}, which is neither there nor documented")
        elif key != "*" and key not in keys[("Secret", secret)]:
            problems.append(f"{where} reads key {key} of Secret {secret}: not documented")
    for obj in objects:
        for container in containers(obj):
            for source in container.get("envFrom", []):
                ref = source.get("configMapRef")
                if ref and ("ConfigMap", ref["name"]) not in keys:
                    problems.append(
                        f"{obj['metadata']['name']} reads missing ConfigMap {ref['name']}"
                    )
    return problems


# -- each object is valid ------------------------------------------------------------------------


def test_every_object_of_every_overlay_is_valid_against_the_kubernetes_schemas(overlay):
    name, objects, _ = overlay
    assert objects, name
    kinds = set()
    for obj in objects:
        kinds.add(obj["kind"])
        where = f"{name}: {obj['kind']} {obj['metadata']['name']}"
        if (obj["apiVersion"], obj["kind"]) in CRD_SCHEMAS:
            validate_custom(obj)
        else:
            try:
                kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
            except kubernetes_validate.ValidationError as exc:
                pytest.fail(f"{where}: {exc.message} at {list(exc.path)}")
    names = [(o["kind"], o["metadata"]["name"]) for o in objects]
    assert len(names) == len(set(names)), "an object is defined twice"
    expected = {"Deployment", "Service", "Job", "ScaledObject", "HorizontalPodAutoscaler"}
    assert expected | {"PodDisruptionBudget", "NetworkPolicy", "ConfigMap"} <= kinds


def test_an_invalid_object_is_refused_by_the_validation():
    deployment = next(
        o for o in render(KUBERNETES / "overlays/dev") if o["metadata"]["name"] == "billing-web"
    )
    broken = copy.deepcopy(deployment)
    broken["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["paht"] = "/"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)
    scaled = next(o for o in render(KUBERNETES / "overlays/dev") if o["kind"] == "ScaledObject")
    typo = copy.deepcopy(scaled)
    typo["spec"]["maxReplicas"] = typo["spec"].pop("maxReplicaCount")
    with pytest.raises(jsonschema.ValidationError):
        validate_custom(typo)


# -- references -----------------------------------------------------------------------------------


def test_every_reference_of_every_overlay_points_at_something(overlay):
    name, objects, docs = overlay
    assert reference_problems(objects, docs) == [], name


def test_keda_scales_billing_and_notifications_workers_on_their_queues(overlay):
    _, objects, _ = overlay
    scaled = by_kind(objects, "ScaledObject")
    assert set(scaled) == {"billing-worker", "notifications-worker"}
    for obj in scaled.values():
        assert 1 <= obj["spec"]["minReplicaCount"] < obj["spec"]["maxReplicaCount"]
    hpas = by_kind(objects, "HorizontalPodAutoscaler")
    assert {h["spec"]["scaleTargetRef"]["name"] for h in hpas.values()} == {
        "gateway-web",
        f"{PORTAL}-web",
    }
    for hpa in hpas.values():
        assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"


def test_a_broken_reference_fails_the_check(tmp_path):
    """Each mutation of a copy of the dev overlay is found, naming what is broken."""
    base_objects = render(KUBERNETES / "overlays/dev")
    docs = documented(KUBERNETES / "overlays/dev")
    assert reference_problems(base_objects, docs) == []

    def broken(mutate) -> list[str]:
        objects = copy.deepcopy(base_objects)
        mutate(objects)
        return reference_problems(objects, docs)

    def get(objects, kind, name):
        return by_kind(objects, kind)[name]

    def scaled_target(objects):
        get(objects, "ScaledObject", "billing-worker")["spec"]["scaleTargetRef"]["name"] = "bill"

    def queue(objects):
        trigger = get(objects, "ScaledObject", "billing-worker")["spec"]["triggers"][0]
        trigger["metadata"]["queueName"] = "invoices"

    def service_selector(objects):
        get(objects, "Service", "orders")["spec"]["selector"]["app"] = "order"

    def secret(objects):
        env = get(objects, "Deployment", "billing-worker")["spec"]["template"]["spec"]
        env["containers"][0]["env"][1]["valueFrom"]["secretKeyRef"]["name"] = "portal-bill"

    def pdb(objects):
        get(objects, "PodDisruptionBudget", "catalog-web")["spec"]["selector"]["matchLabels"][
            "process"
        ] = "webb"

    assert any("scales Deployment bill" in p for p in broken(scaled_target))
    assert any("queue invoices" in p for p in broken(queue))
    assert any("Service orders selects no pods" in p for p in broken(service_selector))
    assert any("Secret portal-bill" in p for p in broken(secret))
    assert any("PodDisruptionBudget catalog-web" in p for p in broken(pdb))

    # The same through the files: a patch naming a Deployment the base does not have.
    copy_dir = tmp_path / "kubernetes"
    shutil.copytree(KUBERNETES, copy_dir)
    patch = copy_dir / "overlays/dev/scale.yaml"
    patch.write_text(patch.read_text().replace("name: billing-worker", "name: billing-wrker"))
    with pytest.raises(ValueError, match="billing-wrker"):
        render(copy_dir / "overlays/dev")


# -- what a pod is --------------------------------------------------------------------------------


def process_of(container: dict) -> tuple[str, str]:
    command = container["command"]
    assert command[:2] == ["python", "-m"], command
    return command[2], command[3]


def test_pods_are_locked_down_sized_and_probed_and_only_jobs_migrate(overlay):
    name, objects, _ = overlay
    for obj in objects:
        spec = pod_spec(obj)
        if spec is None:
            continue
        where = f"{name}: {obj['kind']} {obj['metadata']['name']}"
        assert spec["securityContext"]["runAsNonRoot"] is True, where
        assert spec["automountServiceAccountToken"] is False, where
        volumes = {v["name"]: v for v in spec["volumes"]}
        service = obj["spec"]["template"]["metadata"]["labels"]["app"]
        for container in containers(obj):
            security = container["securityContext"]
            assert security["readOnlyRootFilesystem"] is True, where
            assert security["allowPrivilegeEscalation"] is False, where
            assert security["capabilities"]["drop"] == ["ALL"], where
            mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
            assert "emptyDir" in volumes[mounts["/tmp"]], where  # writable /tmp only
            assert {"requests", "limits"} <= set(container["resources"]), where
            image = container["image"].rsplit("/", 1)[1].partition(":")[0]
            assert image == f"portal-{service}", where  # the one Dockerfile, SERVICE=<service>
            package, process = process_of(container)
            assert package == service.replace("-", "_"), where
            if process == "migrate":
                assert obj["kind"] == "Job", f"{where}: only the migration Job migrates"
            for entry in container.get("env", []):
                if SECRET_LIKE.search(entry["name"]):
                    assert "valueFrom" in entry, f"{where}: {entry['name']} written down"
        main = spec["containers"][0]
        _, process = process_of(main)
        if obj["kind"] == "Job":
            assert process == "migrate" and spec["restartPolicy"] == "Never", where
            continue
        # Prometheus finds each pod's /metrics: the web port, or the worker's metrics port.
        annotations = obj["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/port"] == str(main["ports"][0]["containerPort"]), where
        init = [process_of(c)[1] for c in spec.get("initContainers", [])]
        assert init == (["await-migrations"] if service in WITH_DATABASE else []), where
        if process == "web":
            port = main["ports"][0]["containerPort"]
            assert port == SERVICE_PORTS[service], where
            assert main["readinessProbe"]["httpGet"]["path"] == "/readyz", where
            assert main["livenessProbe"]["httpGet"]["path"] == "/healthz", where
        else:
            assert process == "worker", where
            metrics = main["ports"][0]
            assert metrics["containerPort"] == SERVICE_PORTS[service] + WORKER_PORT_STEP, where
            probe = main["livenessProbe"]["exec"]["command"]
            assert probe[:3] == ["python", "-m", "portal_runtime.heartbeat"], where
            env = {e["name"]: e.get("value") for e in main["env"]}
            assert env["WORKER_HEARTBEAT_FILE"].startswith("/tmp/"), where
    assert not by_kind(objects, "Secret"), f"{name}: secrets are referenced, never contained"
    config = by_kind(objects, "ConfigMap")["portal-config"]["data"]
    assert config["PORTAL_ENV"] == "production"


def test_every_service_and_the_gateway_has_a_migration_job_web_pods_and_a_budget(overlay):
    name, objects, _ = overlay
    deployments, jobs = by_kind(objects, "Deployment"), by_kind(objects, "Job")
    budgets = by_kind(objects, "PodDisruptionBudget")
    for spec in SERVICES:
        assert f"{spec.name}-migrate" in jobs, name
        assert f"{spec.name}-web" in deployments and f"{spec.name}-web" in budgets, name
        assert (f"{spec.name}-worker" in deployments) == spec.worker, name
    assert f"{PORTAL}-web" in deployments and f"{PORTAL}-migrate" not in jobs


def test_only_the_gateway_takes_traffic_from_outside_and_the_portal_only_from_it(overlay):
    """The portal vouches to the gateway for the address the gateway forwards it: nobody may
    reach the pages around the gateway."""
    _, objects, _ = overlay
    policies = by_kind(objects, "NetworkPolicy")
    deny = [p for p in policies.values() if p["spec"]["podSelector"] == {}]
    assert deny and "ingress" not in deny[0]["spec"]  # nothing in unless a policy lets it
    open_to_all = set()
    for policy in policies.values():
        for rule in policy["spec"].get("ingress", []):
            if "from" not in rule:
                for _, labels in pod_labels(objects):
                    if selects(policy["spec"]["podSelector"], labels):
                        open_to_all.add(labels["app"])
    assert open_to_all == {"gateway"}
    portal = [
        rule["from"]
        for policy in policies.values()
        if selects(policy["spec"]["podSelector"], {"app": PORTAL, "process": "web"})
        for rule in policy["spec"].get("ingress", [])
    ]
    assert portal == [[{"podSelector": {"matchLabels": {"app": "gateway", "process": "web"}}}]]


# -- every process starts with the environment it is given -------------------------------------

KEYS = generate_environment()


def realistic(variable: str, documented_value: str | None) -> str:
    """A working value for what an operator would put into a documented Secret or ConfigMap."""
    if variable in KEYS:
        return KEYS[variable]
    if variable.endswith("_DATABASE_URL") or variable == "uri":
        # A file, so that composing needs no server (billing's sandbox opens its store at
        # once); what is checked is that the variable is there, production mode stays on.
        return "sqlite:///{var_dir}/" + variable.lower() + ".db"
    if variable == "BROKER_URL":
        return "amqp://portal:pw@rabbitmq:5672/%2F"
    if variable == "SMTP_URL":
        return "smtp://relay:25"
    return documented_value or ""


def container_environment(container: dict, objects: list[dict], docs: list[dict]) -> dict:
    sources = {(o["kind"], o["metadata"]["name"]): o for o in [*docs, *objects]}
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        ref = source["configMapRef"]["name"]
        obj = sources[("ConfigMap", ref)]
        rendered = any(o is obj for o in objects)
        for key, value in obj["data"].items():
            env[key] = value if rendered else realistic(key, value)
    for entry in container.get("env", []):
        if "value" in entry:
            env[entry["name"]] = entry["value"]
        else:
            ref = entry["valueFrom"]["secretKeyRef"]
            secret = sources[("Secret", ref["name"])]
            value = (secret.get("stringData") or {}).get(ref["key"])
            env[entry["name"]] = realistic(entry["name"], value)
    return env


def image_environment(var_dir: Path) -> dict[str, str]:
    """What the Dockerfile's image sets, and where this run may write."""
    return {"PORTAL_VAR_DIR": str(var_dir), "WEB_BIND_HOST": "0.0.0.0", "PATH": os.environ["PATH"]}


def with_paths(env: dict[str, str], var_dir: Path) -> dict[str, str]:
    return {
        **image_environment(var_dir),
        **{k: v.replace("{var_dir}", str(var_dir)) for k, v in env.items()},
    }


def start(package: str, process: str, env: dict[str, str], var_dir: Path) -> tuple[int, str, dict]:
    """Compose one process in its own interpreter with exactly ``env`` (and the image's)."""
    var_dir.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        [sys.executable, "-m", "portal_system.envcheck", package, process],
        env=with_paths(env, var_dir),
        capture_output=True,
        text=True,
        timeout=300,
    )
    lines = result.stdout.strip().splitlines()
    reads = json.loads(lines[-1]) if lines else {}
    return result.returncode, result.stderr.strip(), reads


def starts(jobs: list[tuple[str, str, str, dict]], tmp_path: Path) -> list[str]:
    """Compose each process (in one interpreter, each with exactly its environment). The
    problems: a process that would not start, and a variable its container sets that nothing
    reads (neither while composing nor anywhere in the code, e.g. at request time)."""
    source = source_text()
    batch = []
    for n, (_, package, process, env) in enumerate(jobs):
        var_dir = tmp_path / str(n)
        var_dir.mkdir(parents=True)
        batch.append({"package": package, "process": process, "env": with_paths(env, var_dir)})
    result = subprocess.run(
        [sys.executable, "-m", "portal_system.envcheck", "--batch"],
        input=json.dumps(batch),
        env={"PATH": os.environ["PATH"], "PORTAL_VAR_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    problems = []
    outcomes = json.loads(result.stdout.splitlines()[-1])
    for (where, _, _, env), outcome in zip(jobs, outcomes, strict=True):
        if outcome["code"] != 0:
            problems.append(f"{where}: {outcome['error']}")
            continue
        problems += [
            f"{where}: sets {variable}, which nothing reads"
            for variable in env
            if variable not in outcome["reads"]
            and not re.search(rf"[\"']{variable}[\"']", source)
            and not composed_name(variable, source)
        ]
    return problems


def unique_processes(objects: list[dict], docs: list[dict], overlay: str):
    seen = {}
    for obj in objects:
        for container in containers(obj):
            package, process = process_of(container)
            env = container_environment(container, objects, docs)
            kind = "web" if process == "web" else "other"
            key = (package, kind, json.dumps(env, sort_keys=True))
            seen.setdefault(key, (f"{overlay} {obj['metadata']['name']}", package, process, env))
    return list(seen.values())


def test_every_container_starts_in_production_mode_and_reads_all_it_is_given(overlay, tmp_path):
    name, objects, docs = overlay
    jobs = unique_processes(objects, docs, name)
    assert len({job[1] for job in jobs}) == len(PROCESSES)
    assert starts(jobs, tmp_path) == []


def test_a_process_missing_a_variable_it_needs_does_not_start(tmp_path):
    objects = render(KUBERNETES / "overlays/dev")
    docs = documented(KUBERNETES / "overlays/dev")
    worker = by_kind(objects, "Deployment")["billing-worker"]
    container = copy.deepcopy(worker["spec"]["template"]["spec"]["containers"][0])
    container["env"] = [e for e in container["env"] if e["name"] != "BILLING_IDENTITY_KEY"]
    env = container_environment(container, objects, docs)
    code, error, reads = start("billing", "worker", env, tmp_path)
    assert code == 2 and "BILLING_IDENTITY_KEY is not set" in error
    assert reads["BILLING_IDENTITY_KEY"] == "missing"
    container["env"].append({"name": "BILLING_TYPO_SECONDS", "value": "5"})
    env = container_environment(container, objects, docs)
    env["BILLING_IDENTITY_KEY"] = KEYS["BILLING_IDENTITY_KEY"]
    assert starts([("typo", "billing", "worker", env)], tmp_path) == [
        "typo: sets BILLING_TYPO_SECONDS, which nothing reads"
    ]


def source_text() -> str:
    roots = [ROOT / "runtime", ROOT / "services", ROOT / "gateway", ROOT / "portal"]
    return "\n".join(
        p.read_text() for r in roots for p in r.rglob("*.py") if "tests" not in p.parts
    )


def composed_name(variable: str, source: str) -> bool:
    """``<SERVICE>_URL`` and the like: read under a name the runtime composes."""
    for service in [*PROCESSES, "ops"]:
        prefix = env_name(service)
        if variable.startswith(prefix + "_"):
            suffix = variable.removeprefix(prefix)
            if f'{suffix}"' in source:
                return True
    return False


# -- docker-compose.yml: the same start check ---------------------------------------------------

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
INTERPOLATION = re.compile(r"\$\{(\w+)(?::?[-?][^}]*)?\}")


def compose_environment(name: str) -> dict[str, str]:
    service = COMPOSE["services"][name]
    env = dict(service.get("environment") or {})
    values = {**KEYS}

    def substitute(value: str) -> str:
        def one(match):
            variable = match.group(1)
            if variable in values:
                return values[variable]
            default = re.match(r"\$\{\w+:-([^}]*)\}", match.group(0))
            assert default, f"{name}: {variable} has no value and no default"
            return default.group(1)

        return INTERPOLATION.sub(one, str(value))

    env = {key: substitute(value) for key, value in env.items()}
    for key in env:
        if key.endswith("_DATABASE_URL"):  # compose's own server is not here: a file instead
            assert env[key].startswith("postgresql+psycopg://"), key
            env[key] = realistic(key, None)
    return env


def test_every_compose_process_starts_in_production_mode_with_its_environment(tmp_path):
    jobs = []
    for name, service in COMPOSE["services"].items():
        if "build" not in service:
            continue
        package = service["build"]["args"]["SERVICE"].replace("-", "_")
        command = " ".join(service.get("command") or [f"python -m {package} web"])
        process = re.findall(rf"python -m {package} (\w+)", command)[-1]
        jobs.append((f"compose {name}", package, process, compose_environment(name)))
    assert {job[1] for job in jobs} == {p.replace("-", "_") for p in PROCESSES}
    assert starts(jobs, tmp_path) == []


def test_docker_compose_config_accepts_the_file_where_the_client_has_compose(tmp_path):
    docker = shutil.which("docker")
    has_compose = (
        docker is not None
        and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0
    )
    if not has_compose:
        pytest.skip("no `docker compose` here (the docker client has no compose plugin)")
    env_file = tmp_path / ".env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in KEYS.items()))
    result = subprocess.run(
        [
            docker,
            "compose",
            "--env-file",
            str(env_file),
            "-f",
            "docker-compose.yml",
            "config",
            "-q",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
