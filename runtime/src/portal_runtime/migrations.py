"""Alembic, run per service from the service's own ``migrations`` package."""

from __future__ import annotations

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
