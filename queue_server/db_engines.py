"""Opening the store's database: a SQLAlchemy engine from a URL, with the settings each backend needs.

SQLite gets WAL, the ``synchronous`` level and the busy timeout from the URL, and ``BEGIN IMMEDIATE``
for writers; PostgreSQL needs psycopg 3. The URL grammar is in ``queue_server.db``'s docstring.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from queue_server.errors import StoreError

log = logging.getLogger(__name__)

_SYNCHRONOUS = ("full", "normal", "extra")


def make_engine(url_text: str, create: bool) -> tuple[Engine, str]:
    try:
        url = sa.make_url(url_text)
    except ArgumentError:
        raise StoreError(
            f"database URL {url_text!r} is not a URL: use sqlite:///path/to/file.db or "
            "postgresql+psycopg://user@host:5432/database"
        ) from None
    backend = url.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, create)
    if backend == "postgresql":
        if url.drivername not in ("postgresql", "postgresql+psycopg"):
            raise StoreError(f"database URL {url_text!r}: use the psycopg 3 driver (postgresql+psycopg://)")
        return _postgres_engine(url.set(drivername="postgresql+psycopg"))
    raise StoreError(f"database URL {url_text!r}: {backend!r} is not supported (use sqlite or postgresql)")


def _sqlite_engine(url: URL, create: bool) -> tuple[Engine, str]:
    shown = url.render_as_string(hide_password=True)
    query = dict(url.query)
    synchronous = str(query.pop("synchronous", "full")).lower()
    if synchronous not in _SYNCHRONOUS:
        raise StoreError(f"database URL {shown!r}: synchronous must be one of {', '.join(_SYNCHRONOUS)}")
    try:
        busy_ms = int(str(query.pop("busy_timeout", "10000")))
    except ValueError:
        raise StoreError(f"database URL {shown!r}: busy_timeout must be milliseconds") from None
    if not url.database or url.database == ":memory:" or query.get("mode") == "memory":
        raise StoreError(
            f"database URL {shown!r}: an in-memory SQLite database cannot be shared by the server's "
            "connections; give a file (sqlite:///var/motcua.db)"
        )
    path = Path(url.database)
    if not path.exists():
        if not create:
            raise StoreError(f"database {shown}: the file {path} does not exist")
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url.set(query=query))

    @sa_event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # SQLAlchemy emits BEGIN itself (below)
        cursor = dbapi_conn.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
        mode = cursor.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            log.warning("%s: journal mode is %s, not WAL", shown, mode)
        cursor.execute(f"PRAGMA synchronous = {synchronous.upper()}")
        cursor.close()

    @sa_event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the write lock up front: a deferred transaction that reads the chain head and
        # then writes could otherwise fail with "database is locked" or see a stale head.
        write = conn.get_execution_options().get("motcua_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine, shown


def _postgres_engine(url: URL) -> tuple[Engine, str]:
    shown = url.render_as_string(hide_password=True)
    connect_args = {} if "connect_timeout" in url.query else {"connect_timeout": 10}
    try:
        engine = sa.create_engine(url, connect_args=connect_args)
    except NoSuchModuleError as err:
        raise StoreError(
            f"database {shown}: psycopg is not installed (pip install 'motcua[server]')"
        ) from err
    return engine, shown
