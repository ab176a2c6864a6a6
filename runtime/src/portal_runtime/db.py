"""Engine, sessions and the messaging tables every service's database has.

Each service declares its own ``Base`` (its own metadata) and calls :func:`messaging_models` on it,
so that ``outbox`` and ``processed_messages`` live in the service's own database and migrations.
"""

from __future__ import annotations

import datetime as dt
import decimal
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import (
    JSON,
    ColumnElement,
    DateTime,
    Insert,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    String,
    Text,
    bindparam,
    create_engine,
    event,
    func,
    insert,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Mapped, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

from portal_contracts.envelope import ID_LENGTH
from portal_runtime.config import web_threads


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC) if value is not None else None

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value


def is_sqlite(engine_or_url) -> bool:
    url = getattr(engine_or_url, "url", engine_or_url)
    return str(url).startswith("sqlite")


# Each dialect's INSERT that knows ON CONFLICT (both databases this project runs on have it).
CONFLICT_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def conflict_insert(bind):
    """The INSERT of ``bind``'s dialect (an engine or a connection) with ON CONFLICT."""
    return CONFLICT_INSERTS[bind.dialect.name]


class PerDialect:
    """A statement built once for each dialect from its ON CONFLICT INSERT (``build(insert)``);
    called with a bind, the one of its dialect. Built per call, such a statement cost more in
    construction and cache key than its round trip."""

    def __init__(self, build):
        self._built = {name: build(insert) for name, insert in CONFLICT_INSERTS.items()}

    def __call__(self, bind):
        return self._built[bind.dialect.name]


def numbered_insert(table, number_of: Callable[[ColumnElement], ColumnElement]) -> Insert:
    """PostgreSQL: an INSERT of one row into ``table`` that draws the row's id from the table's
    sequence and writes its ``number`` column, made of that id by ``number_of(id)``, in the same
    statement (not an UPDATE once the id is known). The other columns are bound parameters named
    by their keys; it returns the id and the number."""
    key = select(func.nextval(func.pg_get_serial_sequence(table.name, "id")).label("id")).cte()
    rest = [column for column in table.c if column.key not in ("id", "number")]
    values = select(key.c.id, number_of(key.c.id), *(bindparam(c.key, type_=c.type) for c in rest))
    return (
        insert(table)
        .from_select(["id", "number", *(c.key for c in rest)], values)
        .returning(table.c.id, table.c.number)
    )


def sqlalchemy_url(database_url: str) -> str:
    """A plain ``postgresql://`` URL (as operators such as CloudNativePG hand it out in their
    secrets) means psycopg 3, the driver installed; SQLAlchemy would otherwise look for psycopg2."""
    for scheme in ("postgresql://", "postgres://"):
        if database_url.startswith(scheme):
            return "postgresql+psycopg://" + database_url.removeprefix(scheme)
    return database_url


def make_engine(database_url: str) -> Engine:
    """An engine tuned for its backend: WAL and a busy timeout on SQLite; on PostgreSQL a pool
    that pings only connections that sat idle (see :func:`ping_when_idle`)."""
    database_url = sqlalchemy_url(database_url)
    if is_sqlite(database_url):
        path = database_url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            import pathlib

            pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(database_url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn, _record):
            # pysqlite's own transaction handling steps aside for the BEGIN IMMEDIATE below.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            # Web, worker and relay processes share the file: WAL lets readers run beside a writer.
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn):
            # Take the write lock at BEGIN, so two writers queue instead of failing on upgrade.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    engine = create_engine(database_url, pool_size=pool_size(), max_overflow=10)
    ping_when_idle(engine)
    return engine


def pool_size() -> int:
    """Connections a process keeps open: one per web thread (gunicorn's), at least 5. With
    fewer, the connections a busy web process needed beyond them were closed as they came back
    and opened again for the next request (orders' web opened about one for every four orders
    placed flat out, each a new PostgreSQL backend without its prepared statements)."""
    return max(5, web_threads())


# A connection back in the pool for longer than this is pinged before it is handed out again.
IDLE_PING_SECONDS = 5.0


def ping_when_idle(engine: Engine, idle_seconds: float | None = None) -> None:
    """``pool_pre_ping``, but only for connections idle longer than ``idle_seconds``.

    A ping is a round trip on every checkout, i.e. on every transaction of a busy service. A
    connection in steady use is known to be alive; one that sat in the pool may have been closed
    by a database restart or a firewall, and is pinged (and replaced, if dead) before use. A
    connection that dies between two quick uses fails that one transaction, which is retried
    (consumer) or answered 503 (web), and the pool is refreshed.
    """

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_conn, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_conn, record, _proxy):
        since = record.info.pop("idle_since", None)
        limit = IDLE_PING_SECONDS if idle_seconds is None else idle_seconds
        if since is None or time.monotonic() - since < limit:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:
            # The pool discards this connection and checks out (or opens) another one.
            raise DisconnectionError(str(exc)) from exc


def reading_engine(engine: Engine) -> Engine:
    """``engine``'s pool for reads that need no transaction of their own: on PostgreSQL its
    connections run in autocommit, without the BEGIN and ROLLBACK around a request's look-up
    (two of its round trips; under READ COMMITTED each statement has its own snapshot anyway).
    SQLite's engine as it is."""
    if is_sqlite(engine):
        return engine
    return engine.execution_options(isolation_level="AUTOCOMMIT")


def session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(bind=engine, expire_on_commit=False)


@dataclass(frozen=True)
class MessagingModels:
    Outbox: type
    ProcessedMessage: type


def messaging_models(base) -> MessagingModels:
    """Declare ``outbox`` and ``processed_messages`` on a service's declarative base."""

    class Outbox(base):
        """An event waiting to be published; written in the same transaction as its cause."""

        __tablename__ = "outbox"

        id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
        message_id: Mapped[str] = mapped_column(String(36), unique=True)  # a uuid4 of ours
        type: Mapped[str] = mapped_column(String(120))
        version: Mapped[int] = mapped_column(Integer)
        payload: Mapped[dict] = mapped_column(JSON)
        correlation_id: Mapped[str] = mapped_column(String(ID_LENGTH))
        causation_id: Mapped[str | None] = mapped_column(String(ID_LENGTH), nullable=True)
        occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
        published_at: Mapped[dt.datetime | None] = mapped_column(
            UTCDateTime(), nullable=True, index=True
        )
        attempts: Mapped[int] = mapped_column(Integer, default=0)
        last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
        # The W3C trace context of the request or delivery that recorded it (portal_runtime.
        # tracing); the relay puts it on the message, so the consumer continues the same trace.
        traceparent: Mapped[str | None] = mapped_column(String(64), nullable=True)

    class ProcessedMessage(base):
        """The inbox: a message this consumer has handled, keyed per consumer.

        The key leads with the message id: a batch looks its messages up by id, and a key led
        by the consumer (one value per service) let a cached plan read the whole inbox."""

        __tablename__ = "processed_messages"
        __table_args__ = (
            PrimaryKeyConstraint("message_id", "consumer", name="processed_messages_pkey"),
        )

        consumer: Mapped[str] = mapped_column(String(80))
        message_id: Mapped[str] = mapped_column(String(ID_LENGTH))
        type: Mapped[str] = mapped_column(String(120))
        processed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    return MessagingModels(Outbox=Outbox, ProcessedMessage=ProcessedMessage)


class DecimalText(TypeDecorator):
    """Exact decimals on SQLite, which has no exact numeric type: stored as text."""

    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else str(decimal.Decimal(value))

    def process_result_value(self, value, dialect):
        return None if value is None else decimal.Decimal(value)


def Money():  # noqa: N802 - used like a column type
    """A money column: NUMERIC(14, 2) on PostgreSQL, exact text on SQLite, ``Decimal`` in Python."""
    return Numeric(14, 2, asdecimal=True).with_variant(DecimalText(), "sqlite")
