"""Alembic, run per service from the service's own ``migrations`` package."""

from __future__ import annotations

import time

from alembic import command, context
from alembic.config import Config as AlembicConfig
from sqlalchemy import MetaData

from portal_runtime.db import is_sqlite, make_engine


def alembic_config(database_url: str, package: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", f"{package}:migrations")
    cfg.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return cfg


def upgrade(database_url: str, package: str) -> None:
    command.upgrade(alembic_config(database_url, package), "head")


def schema_behind(database_url: str, package: str) -> list[str]:
    """This code's migration heads the database has not reached yet (empty: up to date).

    A database ahead of the code (a revision this code does not know: a newer release migrated
    it) counts as up to date, since migrations are additive; an old pod keeps running.
    """
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(database_url, package))
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()
    known = {revision.revision for revision in script.walk_revisions()}
    if current - known:
        return []
    reached = set()
    for revision in current:
        reached |= {r.revision for r in script.iterate_revisions(revision, "base")}
    return sorted(set(script.get_heads()) - reached)


def await_migrations(
    database_url: str, package: str, timeout: float, interval: float = 2.0, sleep=time.sleep
) -> bool:
    """Wait until the database has this code's schema (``schema_behind`` empty); False when
    ``timeout`` seconds pass first. An unreachable database counts as not there yet."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            behind = schema_behind(database_url, package)
        except Exception as exc:  # noqa: BLE001 - the database may not be up yet: wait for it
            behind = [f"database not reachable ({type(exc).__name__})"]
        if not behind:
            return True
        if time.monotonic() >= deadline:
            return False
        sleep(interval)


def make_revision(database_url: str, package: str, message: str) -> None:
    command.revision(alembic_config(database_url, package), message=message, autogenerate=True)


def run_env(metadata: MetaData) -> None:
    """The body of every service's ``migrations/env.py``."""
    url = context.config.get_main_option("sqlalchemy.url")
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=metadata,
            # SQLite alters tables by copying them; batch mode does that for us.
            render_as_batch=is_sqlite(url),
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


# -- dialect-conditional DDL for migrations ------------------------------------------------------


def on_postgresql() -> bool:
    """Whether the migration runs on PostgreSQL (else the embedded SQLite default)."""
    from alembic import op

    return op.get_bind().dialect.name == "postgresql"


def create_trigram_index(name: str, table: str, expression: str) -> None:
    """A ``pg_trgm`` GIN index on ``expression`` (e.g. ``lower(customer_name)``) for partial
    matches (``LIKE '%…%'``) on PostgreSQL; nothing on SQLite, which has no such index."""
    from alembic import op

    if not on_postgresql():
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(
        f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (({expression}) gin_trgm_ops)"
    )


def drop_trigram_index(name: str) -> None:
    from alembic import op

    if on_postgresql():
        op.execute(f"DROP INDEX IF EXISTS {name}")


def rebuild_index(
    name: str, table: str, columns: list[str], include: list[str] | None = None
) -> None:
    """Drop index ``name`` and create it again on ``columns``, holding ``include`` too on
    PostgreSQL (``INCLUDE``: readable by an index-only scan; SQLite has no such clause)."""
    from alembic import op

    op.drop_index(name, table_name=table)
    op.create_index(name, table, columns, postgresql_include=include or [])


def key_inbox(columns: list[str]) -> None:
    """Make ``columns``, in that order, the primary key of the inbox (``processed_messages``,
    which every service has); SQLite changes a key by copying the table, in batch mode."""
    from alembic import op

    if on_postgresql():
        op.execute(
            "ALTER TABLE processed_messages DROP CONSTRAINT processed_messages_pkey, "
            f"ADD CONSTRAINT processed_messages_pkey PRIMARY KEY ({', '.join(columns)})"
        )
        return
    with op.batch_alter_table("processed_messages", recreate="always") as batch:
        batch.create_primary_key("processed_messages_pkey", columns)
