"""Render a Kustomize overlay of ``deploy/kubernetes`` in Python, for tests and machines without
the ``kustomize`` binary: ``python -m portal_system.kustomize deploy/kubernetes/overlays/dev``.

Only what the overlays use is understood, and anything else is refused rather than ignored, so
that what this renders is what ``kubectl apply -k`` applies:

- ``resources``: YAML files and directories holding a ``kustomization.yaml``, in order;
- ``patches`` with a ``path`` only: strategic-merge patches, each naming its target by kind and
  ``metadata.name``. Maps merge key by key; lists of maps that all have a ``name`` (containers,
  env, volumes) merge item by item by name; other lists are replaced. ``$patch: delete`` on an
  object removes it;
- ``images``: ``name`` with ``newName`` and/or ``newTag``, on every container and init
  container;
- ``namespace``: set on every object.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path

import yaml

KNOWN = {"apiVersion", "kind", "resources", "patches", "images", "namespace"}


class KustomizeError(ValueError):
    pass


def load_documents(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def render(folder: Path | str) -> list[dict]:
    folder = Path(folder)
    spec = yaml.safe_load((folder / "kustomization.yaml").read_text()) or {}
    unknown = set(spec) - KNOWN
    if unknown:
        raise KustomizeError(f"{folder}: this renderer does not know {sorted(unknown)}")
    objects: list[dict] = []
    for entry in spec.get("resources", []):
        path = (folder / entry).resolve()
        objects += render(path) if path.is_dir() else load_documents(path)
    for patch in spec.get("patches", []):
        if set(patch) != {"path"}:
            raise KustomizeError(f"{folder}: only patches with a path are understood: {patch}")
        for doc in load_documents(folder / patch["path"]):
            target = find(objects, doc["kind"], doc["metadata"]["name"])
            if target is None:
                raise KustomizeError(
                    f"{folder / patch['path']}: no {doc['kind']} {doc['metadata']['name']} to patch"
                )
            if doc.get("$patch") == "delete":
                objects.remove(target)
            else:
                merge(target, doc)
    for image in spec.get("images", []):
        set_image(objects, image)
    if spec.get("namespace"):
        for obj in objects:
            obj.setdefault("metadata", {})["namespace"] = spec["namespace"]
    return objects


def find(objects: list[dict], kind: str, name: str) -> dict | None:
    return next(
        (o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name),
        None,
    )


def merge(target: dict, patch: dict) -> None:
    for key, value in patch.items():
        if key == "$patch":
            continue
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict) and isinstance(target.get(key), dict):
            merge(target[key], value)
        elif _named_list(value) and _named_list(target.get(key)):
            by_name = {item["name"]: item for item in target[key]}
            for item in value:
                if item["name"] in by_name:
                    merge(by_name[item["name"]], item)
                else:
                    target[key].append(copy.deepcopy(item))
        else:
            target[key] = copy.deepcopy(value)


def _named_list(value) -> bool:
    return isinstance(value, list) and all(isinstance(i, dict) and "name" in i for i in value)


def pod_spec(obj: dict) -> dict | None:
    """The pod template's spec of a Deployment or Job; None for other kinds."""
    if obj["kind"] in ("Deployment", "StatefulSet", "DaemonSet", "Job"):
        return obj["spec"]["template"]["spec"]
    return None


def containers(obj: dict) -> list[dict]:
    spec = pod_spec(obj)
    if spec is None:
        return []
    return [*spec.get("initContainers", []), *spec.get("containers", [])]


def set_image(objects: list[dict], image: dict) -> None:
    for obj in objects:
        for container in containers(obj):
            name, _, tag = container["image"].partition(":")
            if name == image["name"]:
                container["image"] = f"{image.get('newName', name)}:{image.get('newTag', tag)}"


def main(argv: list[str] | None = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    if len(args) != 1:
        print("usage: python -m portal_system.kustomize <folder with kustomization.yaml>")
        return 2
    print(yaml.safe_dump_all(render(args[0]), sort_keys=False), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
