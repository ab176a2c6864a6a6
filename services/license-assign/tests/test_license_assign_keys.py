"""The signing key: configured, or generated once for development and shared by processes."""

from __future__ import annotations

import stat
import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from license_assign.activation_codes import (
    ActivationCodes,
    development_key,
    key_from_base64,
    key_to_base64,
    load_signing_key,
)
from license_assign.models import Base


def public_of(key) -> str:
    return ActivationCodes(key).public_key_base64


def test_the_configured_key_is_used(tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_VAR_DIR", str(tmp_path))
    key = Ed25519PrivateKey.generate()
    assert public_of(load_signing_key(key_to_base64(key))) == public_of(key)
    assert not (tmp_path / "keys").exists()
    with pytest.raises(ValueError):
        key_from_base64("c2hvcnQ=")


def test_processes_starting_together_get_one_development_key_kept_private(tmp_path):
    keys = [None] * 8
    barrier = threading.Barrier(8)

    def start(n):
        barrier.wait(timeout=10)
        keys[n] = public_of(development_key(tmp_path))

    threads = [threading.Thread(target=start, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert len(set(keys)) == 1 and None not in keys
    path = tmp_path / "keys" / "activation-ed25519.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp files left
    assert public_of(development_key(tmp_path)) == keys[0]


def test_the_migration_matches_the_models(service):
    with service.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
