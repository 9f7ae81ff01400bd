"""The queue server's store: a hash-chained event log plus current-state tables (SQLAlchemy 2 Core).

URL grammar accepted by ``Store.open``:

    sqlite:///relative/path.db            relative to the working directory
    sqlite:////absolute/path.db
        ?synchronous=full|normal|extra     default full: every commit is fsynced before it returns;
                                           normal (WAL) may lose the last commits on power loss, never
                                           corrupts, and is several times faster
        &busy_timeout=MS                   how long a writer waits for another (default 10000)
    postgresql+psycopg://USER[:PASS]@HOST[:PORT]/DB[?options=-csearch_path%3DSCHEMA]
    postgresql://...                       the same, with psycopg 3

SQLite runs in WAL mode and every write transaction starts with ``BEGIN IMMEDIATE``; on PostgreSQL the
first append of a transaction takes a transaction-level advisory lock. Either way appends are serialised
across threads and processes, so the chain never forks. See ``docs/queue-server.md`` for the tables.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.compiler import SQLCompiler

from queue_server import schema
from queue_server.chain import GENESIS_HASH, ChainRow, ChainVerifier, VerifyReport, canonical_json, event_hash
from queue_server.db_engines import make_engine
from queue_server.db_rows import Row, decode_row, encode_row, json_text, time_text
from queue_server.errors import StoreConflictError, StoreError

__all__ = ["Store", "StoreConflictError", "StoreError", "StoredEvent", "Tx", "VerifyReport"]

log = logging.getLogger(__name__)

# An arbitrary constant naming the "append to events" lock among PostgreSQL advisory locks.
_APPEND_LOCK = 0x6D6F74637561
_PAGE = 1000


# Statements of the hot path: compiled once per dialect (``_HotPath``), run on the driver's cursor.
_RESPONSE = sa.select(schema.requests.c.response, schema.requests.c.verb).where(
    schema.requests.c.id == sa.bindparam("id")
)
_INSERT_REQUEST = schema.requests.insert()
_INSERT_EVENT = schema.events.insert()
_HEAD = sa.select(schema.events.c.seq, schema.events.c.hash).order_by(schema.events.c.seq.desc()).limit(1)
_INSERT_OUTBOX = schema.outbox.insert()
_MARK_PUBLISHED = (
    schema.outbox.update()
    .where(schema.outbox.c.published == 0, schema.outbox.c.seq <= sa.bindparam("upto"))
    .values(published=1)
)
_APPEND_LOCK_SQL = sa.select(sa.func.pg_advisory_xact_lock(_APPEND_LOCK))


@dataclass(frozen=True)
class StoredEvent:
    """One event of the log, as replayed by the engine."""

    seq: int
    at: datetime
    type: str
    data: dict[str, Any]
    request_id: str | None
    prev_hash: str
    hash: str


class _Compiled:
    """A Core statement compiled once for one dialect; ``params`` lays values out as the driver wants."""

    def __init__(
        self, statement: sa.ClauseElement, dialect: sa.Dialect, keys: list[str] | None = None
    ) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=keys)
        assert isinstance(compiled, SQLCompiler)
        self.sql = compiled.string
        self._defaults = {k: v for k, v in compiled.params.items() if keys is None or k not in keys}
        self._order = compiled.positiontup if compiled.positional else None

    def params(self, values: Mapping[str, Any]) -> Any:
        merged = {**self._defaults, **values} if self._defaults else values
        return merged if self._order is None else tuple(merged[k] for k in self._order)


class _HotPath:
    """The statements a request runs, executed on the DBAPI cursor of the transaction's connection.

    SQLAlchemy builds and compiles them once; executing them through Core would add some 30 µs of
    bookkeeping per statement, a third of a request's cost on a fast disk.
    """

    def __init__(self, dialect: sa.Dialect) -> None:
        postgres = dialect.name == "postgresql"
        self.response = _Compiled(_RESPONSE, dialect)
        self.head = _Compiled(_HEAD, dialect)
        self.lock = _Compiled(_APPEND_LOCK_SQL, dialect) if postgres else None
        self.insert_event = _Compiled(_INSERT_EVENT, dialect, list(schema.KINDS["events"]))
        self.insert_request = _Compiled(_INSERT_REQUEST, dialect, list(schema.KINDS["requests"]))
        self.insert_outbox = _Compiled(_INSERT_OUTBOX, dialect, list(schema.KINDS["outbox"]))
        self.mark_published = _Compiled(_MARK_PUBLISHED, dialect)
        tables = ((schema.tickets, "id"), (schema.counters, "number"), (schema.ratings, "ticket_id"))
        self.upsert = {
            table.name: _Compiled(
                _upsert_statement(table, key, postgres), dialect, list(schema.KINDS[table.name])
            )
            for table, key in tables
        }
        self.integrity_error: type[Exception] = dialect.loaded_dbapi.IntegrityError


class Tx:
    """The work of one request inside one database transaction (from ``Store.transaction``)."""

    def __init__(self, conn: Connection, hot: _HotPath) -> None:
        self._conn = conn
        self._hot = hot
        driver = conn.connection.driver_connection
        assert driver is not None
        self._cursor = driver.cursor()
        self._head: tuple[int, str] | None = None
        self._savepoints = itertools.count(1)

    def close(self) -> None:
        self._cursor.close()

    def _run(self, statement: _Compiled, values: Mapping[str, Any]) -> Any:
        return self._cursor.execute(statement.sql, statement.params(values))

    def response(self, request_id: str) -> dict[str, Any] | None:
        """The response already given to this request id, if any."""
        answered = self.answered(request_id)
        return None if answered is None else answered[1]

    def answered(self, request_id: str) -> tuple[str, dict[str, Any]] | None:
        """The verb and the response of a request id already answered, if any."""
        row = self._run(self._hot.response, {"id": request_id}).fetchone()
        return None if row is None else (str(row[1]), dict(json.loads(row[0])))

    def save_response(
        self, request_id: str, verb: str, response: Mapping[str, Any], at: datetime | None = None
    ) -> None:
        """Remember the answer to a request id; ``at`` defaults to now."""
        row = {
            "id": request_id,
            "verb": verb,
            "response": json_text(dict(response), f"response to {request_id}"),
            "at": time_text(at or datetime.now(UTC), "requests.at"),
        }
        try:
            self._run(self._hot.insert_request, row)
        except self._hot.integrity_error as err:
            raise StoreConflictError(f"request {request_id!r} was already answered") from err

    def append(self, type: str, data: Mapping[str, Any], at: datetime, request_id: str | None = None) -> int:
        """Append one event to the chain; returns its seq."""
        if not isinstance(type, str) or not type:
            raise StoreError(f"event type must be a non-empty text, got {type!r}")
        if request_id is not None and not isinstance(request_id, str):
            raise StoreError(f"event {type}: request_id must be text, got {request_id!r}")
        at_text = time_text(at, f"event {type}: at")
        # Round-trip through JSON so that the hashed value is exactly what the verifier will read back.
        normal = json.loads(json_text(dict(data), f"event {type}: data"))
        seq, prev = self._chain_head()
        seq += 1
        digest = event_hash(prev, seq=seq, at=at_text, type=type, data=normal, request_id=request_id)
        self._run(
            self._hot.insert_event,
            {
                "seq": seq,
                "at": at_text,
                "type": type,
                "data": canonical_json(normal),
                "request_id": request_id,
                "prev_hash": prev,
                "hash": digest,
            },
        )
        self._head = (seq, digest)
        return seq

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A part of the transaction that an exception undoes alone, e.g. one request of a group commit."""
        head, name = self._head, f"motcua_{next(self._savepoints)}"
        self._cursor.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            self._cursor.execute(f"ROLLBACK TO SAVEPOINT {name}")
            self._cursor.execute(f"RELEASE SAVEPOINT {name}")
            self._head = head
            raise
        self._cursor.execute(f"RELEASE SAVEPOINT {name}")

    def head(self) -> tuple[int, str]:
        """The seq and hash of the last event in this transaction's view (taking the append lock)."""
        return self._chain_head()

    def put_snapshot(self, seq: int, hash_: str, fmt: int, day: str, body: str, *, keep: int) -> None:
        """Store a snapshot of the state after event ``seq``; only the ``keep`` newest are kept."""
        s = schema.snapshots
        row = {"seq": seq, "hash": hash_, "format": fmt, "day": day, "body": body}
        row |= {"digest": hashlib.sha256(body.encode("utf-8")).hexdigest()}
        row |= {"at": datetime.now(UTC).isoformat()}
        self._conn.execute(s.delete().where(s.c.seq == seq))
        self._conn.execute(s.insert().values(**row))
        kept = sa.select(s.c.seq).order_by(s.c.seq.desc()).limit(keep).scalar_subquery()
        self._conn.execute(s.delete().where(s.c.seq.not_in(kept)))

    def add_outbox(self, seq: int, topic: str, payload: str, at: datetime) -> None:
        """Keep a message to publish once this transaction committed (``seq``: the call's seq)."""
        row = {"seq": seq, "topic": topic, "payload": payload, "at": at, "published": 0}
        values = encode_row(schema.outbox, row)
        try:
            self._run(self._hot.insert_outbox, values)
        except self._hot.integrity_error as err:
            raise StoreConflictError(f"outbox: seq {seq} is already kept") from err

    def mark_published(self, upto: int) -> None:
        """Every outbox message up to ``upto`` (inclusive) reached the broker."""
        self._run(self._hot.mark_published, {"upto": upto})

    def put_ticket(self, row: Mapping[str, Any]) -> None:
        self._upsert(schema.tickets, "id", row)

    def put_counter(self, row: Mapping[str, Any]) -> None:
        self._upsert(schema.counters, "number", row)

    def put_rating(self, row: Mapping[str, Any]) -> None:
        self._upsert(schema.ratings, "ticket_id", row)

    def _chain_head(self) -> tuple[int, str]:
        if self._head is None:
            if self._hot.lock is not None:
                self._run(self._hot.lock, {})
            seq, digest = self._run(self._hot.head, {}).fetchone() or (0, GENESIS_HASH)
            self._head = (int(seq), str(digest))
        return self._head

    def _upsert(self, table: sa.Table, key: str, row: Mapping[str, Any]) -> None:
        values = encode_row(table, row)
        try:
            self._run(self._hot.upsert[table.name], values)
        except self._hot.integrity_error as err:
            reason = str(err).strip().splitlines()[0]
            raise StoreConflictError(
                f"{table.name} {values[key]!r} refused by the database: {reason}"
            ) from err


@functools.cache
def _upsert_statement(table: sa.Table, key: str, postgres: bool) -> sa.Insert:
    """INSERT ... ON CONFLICT (key) DO UPDATE of every other column, built once (it is the hot path)."""
    insert = (pg_dialect.insert if postgres else sqlite_dialect.insert)(table)
    update = {c.name: insert.excluded[c.name] for c in table.columns if c.name != key}
    return insert.on_conflict_do_update(index_elements=[key], set_=update)


def _head(conn: Connection) -> tuple[int, str]:
    last = conn.execute(_HEAD).first()
    return (0, GENESIS_HASH) if last is None else (int(last.seq), str(last.hash))


class Store:
    """One database: open it with ``Store.open(url)``, write through ``transaction()``, read directly."""

    def __init__(self, engine: Engine, url: str) -> None:
        self._engine = engine
        self.url = url
        self.postgres = engine.dialect.name == "postgresql"
        self._hot = _HotPath(engine.dialect)

    @classmethod
    def open(cls, url: str, *, create: bool = True, migrate: bool = True) -> Store:
        """Open (and with ``create`` make) the database; ``migrate`` brings its schema to the latest."""
        engine, shown = make_engine(url, create)
        try:
            from queue_server.migrations import bring_to_head

            bring_to_head(engine, shown, upgrade=migrate)
        except StoreError:
            engine.dispose()
            raise
        except SQLAlchemyError as err:
            engine.dispose()
            raise StoreError(f"cannot open database {shown}: {_reason(err)}") from err
        return cls(engine, shown)

    @property
    def engine(self) -> Engine:
        """The engine, for the tables outside the event log (officer accounts, API keys)."""
        return self._engine

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """One write transaction: leaving the block commits, an exception rolls everything back."""
        try:
            with self._engine.connect() as conn:
                conn.execution_options(motcua_write=True)
                with conn.begin():
                    tx = Tx(conn, self._hot)
                    try:
                        yield tx
                    finally:
                        tx.close()
        except StoreError:
            raise
        except SQLAlchemyError as err:
            raise StoreError(f"database {self.url}: {_reason(err)}") from err
        except self._engine.dialect.loaded_dbapi.Error as err:
            raise StoreError(f"database {self.url}: {str(err).strip().splitlines()[0]}") from err

    def head(self) -> tuple[int, str]:
        """The seq and hash of the last event (0 and the genesis hash when the log is empty)."""
        with self._reading() as conn:
            return _head(conn)

    def events(self, after_seq: int = 0) -> Iterator[StoredEvent]:
        """Every event after ``after_seq`` in order, read a page at a time."""
        for page in self._event_pages(after_seq):
            for r in page:
                yield StoredEvent(
                    r.seq, datetime.fromisoformat(r.at), r.type, json.loads(r.data), r.request_id,
                    r.prev_hash, r.hash,
                )  # fmt: skip

    def verify(self, anchor: tuple[int, str] | None = None) -> VerifyReport:
        """Check the whole chain, naming the first altered, missing or rewritten event.

        ``anchor`` (seq, hash) is an event recorded earlier: it must still be there, with that hash.
        """
        verifier = ChainVerifier(anchor)
        for page in self._event_pages(0):
            rows = (ChainRow(r.seq, r.at, r.type, r.data, r.request_id, r.prev_hash, r.hash) for r in page)
            if not verifier.feed(rows):
                break
        return verifier.report()

    def snapshots(self) -> list[Row]:
        """The stored snapshots' headers (seq, hash, format, day, digest, at), newest first."""
        s = schema.snapshots
        query = sa.select(s.c.seq, s.c.hash, s.c.format, s.c.day, s.c.digest, s.c.at)
        with self._reading() as conn:
            return [dict(r._mapping) for r in conn.execute(query.order_by(s.c.seq.desc()))]

    def snapshot_body(self, seq: int) -> str | None:
        s = schema.snapshots
        with self._reading() as conn:
            return conn.execute(sa.select(s.c.body).where(s.c.seq == seq)).scalar()

    def event_hash(self, seq: int) -> str | None:
        """The chain hash of event ``seq``, or None when there is no such event."""
        e = schema.events
        with self._reading() as conn:
            return conn.execute(sa.select(e.c.hash).where(e.c.seq == seq)).scalar()

    def ticket(self, ticket_id: str) -> Row | None:
        return self._one(schema.tickets, schema.tickets.c.id == ticket_id)

    def ticket_by_token(self, token: str) -> Row | None:
        return self._one(schema.tickets, schema.tickets.c.token == token)

    def tickets(self, business_day: str, status: str | None = None) -> list[Row]:
        """The day's tickets in issue order (issue time, then series and number)."""
        t = schema.tickets
        query = sa.select(t).where(t.c.business_day == business_day)
        if status is not None:
            query = query.where(t.c.status == status)
        return self._all(t, query.order_by(t.c.issued_at, t.c.series, t.c.number))

    def counters(self) -> list[Row]:
        t = schema.counters
        return self._all(t, sa.select(t).order_by(t.c.number))

    def ratings(
        self, business_day: str | None = None, counter: int | None = None, officer: str | None = None
    ) -> list[Row]:
        """Ratings, optionally of one business day's tickets, one counter or one officer."""
        t = schema.ratings
        query = sa.select(t)
        if business_day is not None:
            query = query.where(t.c.ticket_id.startswith(f"{business_day}/", autoescape=True))
        if counter is not None:
            query = query.where(t.c.counter == counter)
        if officer is not None:
            query = query.where(t.c.officer == officer)
        return self._all(t, query.order_by(t.c.at, t.c.ticket_id))

    def outbox(self, after_seq: int = 0, limit: int = _PAGE, *, unpublished: bool = False) -> list[Row]:
        """Outbox messages after ``after_seq`` in seq order, at most ``limit`` (only unpublished ones)."""
        t = schema.outbox
        query = sa.select(t).where(t.c.seq > after_seq)
        if unpublished:
            query = query.where(t.c.published == 0)
        return self._all(t, query.order_by(t.c.seq).limit(limit))

    def outbox_last(self) -> int:
        """The seq of the last message kept in the outbox (0 when it is empty)."""
        with self._reading() as conn:
            return int(conn.execute(sa.select(sa.func.max(schema.outbox.c.seq))).scalar() or 0)

    def _event_pages(self, after_seq: int) -> Iterator[list[Any]]:
        e = schema.events
        while True:
            with self._reading() as conn:
                query = sa.select(e).where(e.c.seq > after_seq).order_by(e.c.seq).limit(_PAGE)
                page = list(conn.execute(query))
            if not page:
                return
            yield page
            after_seq = page[-1].seq

    def _one(self, table: sa.Table, where: sa.ColumnElement[bool]) -> Row | None:
        rows = self._all(table, sa.select(table).where(where))
        return rows[0] if rows else None

    def _all(self, table: sa.Table, query: sa.Select[Any]) -> list[Row]:
        with self._reading() as conn:
            return [decode_row(table, r) for r in conn.execute(query)]

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        try:
            with self._engine.connect() as conn:
                yield conn
        except SQLAlchemyError as err:
            raise StoreError(f"database {self.url}: {_reason(err)}") from err


def _reason(err: SQLAlchemyError) -> str:
    orig = getattr(err, "orig", None)
    return str(orig if orig is not None else err).strip().splitlines()[0]
