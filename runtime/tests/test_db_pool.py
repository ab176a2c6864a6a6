"""The PostgreSQL pool pings a connection only after it sat idle, and replaces a dead one."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from portal_runtime import db
from portal_runtime.testing import POSTGRES_ADMIN_URL, postgres_database

pytestmark = pytest.mark.integration


def backend_pid(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT pg_backend_pid()")).scalar_one()


def test_an_idle_connection_killed_by_the_server_is_replaced_before_use(monkeypatch):
    with postgres_database("pool") as url:
        engine = db.make_engine(url)
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        try:
            first = backend_pid(engine)
            assert backend_pid(engine) == first  # in steady use: the same connection, no ping
            with admin.connect() as conn:
                conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
            # Pretend it sat idle long enough: the checkout pings it, finds it dead, reconnects.
            monkeypatch.setattr(db, "IDLE_PING_SECONDS", 0.0)
            assert backend_pid(engine) != first
        finally:
            engine.dispose()
            admin.dispose()


def test_a_connection_lent_for_reads_is_transactional_again_for_the_next_writer():
    """A look-up runs in autocommit (no BEGIN and ROLLBACK around it); the same pooled
    connection, handed to a writer next, still rolls back all of a failed transaction."""
    with postgres_database("pool") as url:
        engine = db.make_engine(url)
        reader = db.reading_engine(engine)
        try:
            with engine.begin() as conn:
                conn.execute(text("CREATE TABLE seats (n integer)"))
            with reader.connect() as conn:
                assert conn.execute(text("SELECT count(*) FROM seats")).scalar_one() == 0
                reading_pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
                assert conn.connection.driver_connection.autocommit
            with pytest.raises(RuntimeError), engine.begin() as conn:
                assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() == reading_pid
                conn.execute(text("INSERT INTO seats VALUES (1)"))
                raise RuntimeError("the writer fails after its insert")
            with reader.connect() as conn:
                assert conn.execute(text("SELECT count(*) FROM seats")).scalar_one() == 0
        finally:
            engine.dispose()
