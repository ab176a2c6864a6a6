"""Looking up a resource's schema classes in ``portal_contracts.api`` by name.

A class the owning service has not written yet resolves to a permissive placeholder, so the route
is still served (the service validates) and documented; ``missing()`` lists them.
"""

from __future__ import annotations

import importlib

from marshmallow import INCLUDE, Schema

_missing: list[str] = []


class AnyObject(Schema):
    """Placeholder for a schema the owning service has not published yet."""

    class Meta:
        unknown = INCLUDE


def contract(module: str, name: str) -> type[Schema]:
    try:
        found = getattr(importlib.import_module(f"portal_contracts.api.{module}"), name)
    except (ImportError, AttributeError):
        _missing.append(f"{module}.{name}")
        return AnyObject
    return found


def missing() -> list[str]:
    return list(_missing)
