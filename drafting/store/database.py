"""The one database under the history, the autosave and the accounts (SQLAlchemy 2 Core).

SQLite in the data directory by default (zero set-up); PostgreSQL from `DRAFTING_DATABASE_URL`
— an office or federation server where several page and API processes on several hosts share
drafts and accounts.

Opening migrates the schema to the newest Alembic revision (`migrations/`), once per process
and URL, under a lock that every opener respects: SQLite's write lock (`BEGIN IMMEDIATE`),
PostgreSQL's transaction-scoped advisory lock. A history file from before the migrations
(the first releases created their tables by hand) is adopted by the first revision as it is,
rows kept.
"""
from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, Table, create_engine, event, make_url, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError

MIGRATIONS = Path(__file__).with_name("migrations")
_BUSY_TIMEOUT_S = 30.0
_OPEN_ATTEMPTS = 12
_MIGRATION_LOCK = 7_265_101  # pg_advisory_xact_lock key of this project's schema changes

_engines: dict[tuple[int, str], Engine] = {}
_migrated: set[tuple[int, str]] = set()
_lock = threading.Lock()


def database_url(where: str | Path) -> str:
    """A SQLAlchemy URL for `where`: a file path for SQLite, or a sqlite:// or postgresql:// URL
    (PostgreSQL through psycopg 3)."""
    where = str(where)
    if "://" not in where:
        return f"sqlite:///{Path(where).expanduser().resolve()}"
    for scheme in ("postgres://", "postgresql://"):
        if where.startswith(scheme):
            return "postgresql+psycopg://" + where[len(scheme):]
    if not where.startswith(("sqlite:", "postgresql+psycopg:")):
        raise ValueError(f"数据库地址应为 postgresql://… 或 sqlite:///…，实际为 {where.split('://')[0]}://…")
    return where


def shown_url(url: str) -> str:
    """The URL without its password, for the page and the logs."""
    return make_url(url).render_as_string(hide_password=True)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def engine_for(url: str) -> Engine:
    """The process's engine for `url`, migrated to the newest schema. One per process: a pool
    must not cross a fork."""
    key = (os.getpid(), url)
    with _lock:
        engine = _engines.get(key)
        if engine is None:
            engine = _engines[key] = _create(url)
    if key not in _migrated:
        _migrate(engine)
        _migrated.add(key)
    return engine


def _create(url: str) -> Engine:
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": _BUSY_TIMEOUT_S, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # SQLAlchemy, not the sqlite3 module, decides when a transaction begins (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout={int(_BUSY_TIMEOUT_S * 1000)}")
            cursor.execute("PRAGMA foreign_keys=ON")
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":  # persistent: once per file
                cursor.execute("PRAGMA journal_mode=WAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A write transaction takes the write lock at once: one that read first could otherwise
        # fail with "database is locked" when it comes to write, without waiting for the lock.
        immediate = connection.get_execution_options().get("immediate", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


@contextmanager
def writing(engine: Engine) -> Iterator[Connection]:
    """One write transaction: committed on success, rolled back on error."""
    with engine.execution_options(immediate=True).begin() as conn:
        yield conn


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    with engine.connect() as conn:
        yield conn


def upsert(conn: Connection, table: Table, key: dict[str, Any], values: dict[str, Any]) -> None:
    """Insert the row with `key`, or update its `values` when it exists (one statement, no race)."""
    dialect_insert = postgresql_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = dialect_insert(table).values(**key, **values)
    conn.execute(statement.on_conflict_do_update(index_elements=list(key), set_=values))


@lru_cache(maxsize=1)
def head_revision() -> str:
    return str(ScriptDirectory.from_config(_alembic_config()).get_current_head())


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def _is_busy(exc: OperationalError) -> bool:
    return any(word in str(exc.orig) for word in ("locked", "busy"))


def _migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision; many processes may open a fresh database at once."""
    for attempt in range(_OPEN_ATTEMPTS):
        try:
            with writing(engine) as conn:
                if engine.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
                if MigrationContext.configure(conn).get_current_revision() == head_revision():
                    return
                config = _alembic_config()
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
            return
        except OperationalError as exc:
            # Switching a new SQLite file to WAL takes an exclusive lock and answers "locked" at
            # once, without waiting out the busy timeout, while another process does the same.
            if not (is_sqlite(engine) and _is_busy(exc)) or attempt == _OPEN_ATTEMPTS - 1:
                raise
            engine.dispose()
            time.sleep(min(0.05 * 2 ** attempt, 1.0) * (0.5 + random.random()))
