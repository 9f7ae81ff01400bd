"""Reading the event log for a report: its own database connection, one read transaction, one pass.

The reports never touch the queue engine's memory. ``ReportSource`` opens its own SQLAlchemy engine on
the store's URL and reads inside one read transaction, so a report sees one consistent snapshot:

- SQLite (WAL): a reader never blocks the writer and the writer never blocks a reader; the connection
  is ``query_only``, so a report cannot write by mistake.
- PostgreSQL: a ``REPEATABLE READ, READ ONLY`` transaction; no lock the queue worker waits for.

The same queries serve one centre's store and a province hub's: ``EventLog`` names the table and, for
a hub that keeps many centres' events, the column holding the site id (events there are keyed by
(site, seq)). A ``site`` filter picks one centre; without it a hub report covers every centre.

Reading is one pass over the period's slice of the log. The slice is found by a binary search on
``seq`` (the primary key, so about 20 single-row reads): events are appended in time order, so the
first event of a period is the first whose ``at`` reaches the period's start. Every JSON field a report
needs is picked out by the database (``json_extract`` in SQLite, ``jsonb ->>`` in PostgreSQL) and
times come back as epoch seconds, so Python never parses the JSON of 600,000 events.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from queue_server.reports.errors import ReportError

log = logging.getLogger(__name__)

# Event types a report reads; recalls and offline blocks carry nothing a report counts.
TYPES = (
    "ticket_issued", "ticket_called", "ticket_finished", "ticket_no_show", "ticket_reinstated",
    "ticket_transferred", "ticket_parked", "ticket_cancelled", "ticket_rated", "day_closed",
    "counter_opened", "counter_paused", "counter_closed", "dossier_received", "dossier_status",
)  # fmt: skip
# Ratings, late day closes and offline registrations of a period's tickets may come after its end.
AFTER = timedelta(days=1)
BEFORE = timedelta(hours=6)


@dataclass(frozen=True)
class EventLog:
    """Where the events are: ``table`` with columns seq, at, type, data (JSON text), and for a hub that
    stores many centres the ``site_column`` naming each event's centre."""

    table: str = "events"
    site_column: str | None = None
    projection: str | None = "report_rows"  # see ``projection``; None: read the log itself
    tickets: bool = True  # use the per-ticket projection (``tickets``) when the store has it


class Row(NamedTuple):
    """One event as the report reads it; which fields are set depends on ``type`` (see ``_COLUMNS``).

    ``key`` is the ticket id, dossier code or closed day; ``ts`` and ``time`` are epoch seconds rounded to
    the millisecond (SQLite computes them through julianday, PostgreSQL exactly: rounded, both agree).
    """

    site: str
    seq: int
    ts: float
    type: str
    key: str | None
    counter: int | None
    officer: str | None
    text: str | None
    number: float | None
    time: float | None
    extra: str | None
    flag: Any
    priority: str | None
    code: str | None


# Each report column: (name, {event type: JSON key}); "*" is the default for the types not named.
# PostgreSQL's ->> gives text: numbers are cast there (SQLite's json_extract gives them typed already).
_CASTS = {"counter": "int", "number": "float8"}
_COLUMNS: tuple[tuple[str, dict[str, str]], ...] = (
    ("key", {"ticket_*": "ticket_id", "dossier_*": "code", "day_closed": "day"}),
    ("counter", {"ticket_transferred": "from_counter", "ticket_called": "counter",
                 "ticket_finished": "counter", "ticket_no_show": "counter", "ticket_parked": "counter",
                 "ticket_rated": "counter", "counter_*": "counter", "dossier_received": "counter"}),
    ("officer", {"ticket_called": "officer", "ticket_rated": "officer", "counter_opened": "officer"}),
    ("text", {"ticket_issued": "service", "ticket_transferred": "service", "dossier_status": "status",
              "dossier_received": "procedure"}),
    ("number", {"ticket_issued": "estimate_s", "ticket_finished": "service_s", "ticket_rated": "score",
                "dossier_received": "days"}),
    ("time", {"ticket_issued": "issued_at", "dossier_received": "received_at"}),
    ("extra", {"ticket_issued": "rules_version", "dossier_received": "due_at"}),
    ("flag", {"ticket_issued": "offline", "ticket_rated": "scale", "dossier_received": "ticket"}),
    ("priority", {"ticket_issued": "priority"}),
    ("code", {"ticket_issued": "code"}),
)  # fmt: skip


class _Dialect:
    """The few SQL pieces that differ between SQLite and PostgreSQL."""

    def __init__(self, postgres: bool) -> None:
        self.postgres = postgres

    def field(self, key: str, cast: str | None = None) -> str:
        if self.postgres:
            return f"(j ->> '{key}')" + (f"::{cast}" if cast else "")
        return f"json_extract(data, '$.{key}')"

    def epoch(self, text: str) -> str:
        """Epoch seconds rounded to the millisecond (julianday is exact to some 10 µs only)."""
        if self.postgres:
            return f"round(extract(epoch from ({text})::timestamptz), 3)::float8"
        return f"round((julianday({text}) - 2440587.5) * 86400.0, 3)"

    def param(self, name: str) -> str:
        return f"%({name})s" if self.postgres else f":{name}"

    def case(self, name: str, mapping: dict[str, str]) -> str:
        parts = []
        for pattern, key in mapping.items():
            prefix = pattern[:-1]
            test = (
                f"substr(type, 1, {len(prefix)}) = '{prefix}'"
                if pattern.endswith("*")
                else f"type = '{pattern}'"
            )
            field = self.field(key, _CASTS.get(name))
            value = self.epoch(field) if name == "time" else field
            parts.append(f"WHEN {test} THEN {value}")
        return f"CASE {' '.join(parts)} END"


class ReportSource:
    """A read-only view of one store (or a hub's many-site store) for reports; close it after use."""

    def __init__(
        self,
        engine: Engine,
        log_table: EventLog = EventLog(),
        *,
        site: str | None = None,
        writer: Engine | None = None,
    ) -> None:
        self._engine = engine
        self._writer = writer
        self.log = log_table
        self.site = site
        self._sql = _Dialect(engine.dialect.name == "postgresql")
        self.projected = False
        self.tickets_projected = False

    @classmethod
    def open(cls, url: str, log_table: EventLog = EventLog(), *, site: str | None = None) -> ReportSource:
        """Open the database at ``url`` (as ``Store.open`` takes it): reads on a read-only connection,
        the projection's catch-up (``prepare``) on a second one."""
        try:
            parsed = sa.make_url(url)
        except ArgumentError:
            raise ReportError(f"database URL {url!r} is not a URL") from None
        backend = parsed.get_backend_name()
        if backend == "sqlite":
            if not parsed.database or not Path(parsed.database).is_file():
                raise ReportError(f"database {url}: no SQLite file at {parsed.database!r}")
            query = {k: v for k, v in parsed.query.items() if k not in ("synchronous", "busy_timeout")}
            engine = sa.create_engine(parsed.set(query=query))
            sa_event.listen(engine, "connect", _sqlite_reader)
            sa_event.listen(engine, "begin", _sqlite_begin)
            writer = sa.create_engine(parsed.set(query=query))
            sa_event.listen(writer, "connect", _sqlite_writer)
            sa_event.listen(writer, "begin", _sqlite_begin_immediate)
        elif backend == "postgresql":
            engine = sa.create_engine(parsed.set(drivername="postgresql+psycopg"))
            writer = engine
        else:
            raise ReportError(f"database URL {url!r}: use sqlite or postgresql")
        return cls(engine, log_table, site=site, writer=writer)

    @property
    def postgres(self) -> bool:
        return self._sql.postgres

    def close(self) -> None:
        self._engine.dispose()
        if self._writer is not None:
            self._writer.dispose()

    def __enter__(self) -> ReportSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def prepare(self) -> None:
        """Bring the projection up to the log's end (short write transactions of its own); without a
        projection, or when it cannot be written, reports read the log itself."""
        from queue_server.reports import projection, tickets

        self.projected = self.tickets_projected = False
        if self.log.projection is None or self._writer is None:
            return
        try:
            with self.snapshot() as conn:
                sites = self.sites(conn)
            self.projected = projection.catch_up(self, self._writer, sites)
        except (SQLAlchemyError, ReportError) as err:
            log.warning("reports read the log itself: the projection is not usable (%s)", err)
            return
        if not self.projected or not self.log.tickets:
            return
        try:
            self.tickets_projected = tickets.catch_up(self, self._writer, sites)
        except (SQLAlchemyError, ReportError) as err:
            log.warning("reports fold the events: the ticket projection is not usable (%s)", err)

    @contextmanager
    def snapshot(self) -> Iterator[Connection]:
        """One read transaction: every query of a report sees the same state of the log."""
        try:
            with self._engine.connect() as raw:
                conn = raw
                if self._sql.postgres:
                    conn = raw.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
                with conn.begin():
                    yield conn
        except SQLAlchemyError as err:
            reason = str(getattr(err, "orig", None) or err).strip().splitlines()[0]
            raise ReportError(f"cannot read the event log ({self.log.table}): {reason}") from err

    def sites(self, conn: Connection) -> list[str]:
        """The sites whose events the log holds (the filter's one, or one unnamed site for a centre)."""
        if self.log.site_column is None or self.site is not None:
            return [self.site or ""]
        col = self.log.site_column
        return [str(r[0]) for r in conn.exec_driver_sql(f"SELECT DISTINCT {col} FROM {self.log.table}")]

    def read(
        self,
        conn: Connection,
        start: datetime,
        end: datetime,
        types: Sequence[str] = TYPES,
        upto: int | None = None,
    ) -> list[Row]:
        """Every event a report of [start, end) needs, in log order per site, plus the later statuses
        of dossiers received in it (their resolution may come weeks later); only ``types``, and only
        up to seq ``upto`` when given."""
        rows: list[Row] = []
        for site in self.sites(conn):
            first, last = self.slice(conn, site, start, end)
            if upto is not None:
                last = min(last, upto + 1)
            rows += self._rows(conn, site, "seq >= :lo AND seq < :hi", {"lo": first, "hi": last}, types)
            if any(r.type == "dossier_received" for r in rows if r.site == site):
                rows += self._rows(
                    conn, site, "seq >= :hi AND type = 'dossier_status'", {"hi": last}, ("dossier_status",)
                )
        if len({r.site for r in rows}) > 1:
            rows.sort(key=lambda r: r.ts)  # a hub's sites interleave in time
        return rows

    def slice(self, conn: Connection, site: str, start: datetime, end: datetime) -> tuple[int, int]:
        """The seq range [lo, hi) of the events a report of [start, end) reads."""
        first = self.first_seq_at(conn, site, (start - BEFORE).timestamp())
        return first, self.first_seq_at(conn, site, (end + AFTER).timestamp())

    def count(self, conn: Connection, start: datetime, end: datetime) -> int:
        """How many events the slice of [start, end) holds (a bare count, the benchmark's baseline)."""
        total = 0
        table, where, _ = self._scan()
        for site in self.sites(conn):
            first = self.first_seq_at(conn, site, (start - BEFORE).timestamp())
            last = self.first_seq_at(conn, site, (end + AFTER).timestamp())
            sql = f"SELECT count(*) FROM {table} WHERE {where} seq >= :lo AND seq < :hi"
            total += int(conn.execute(sa.text(sql), {"lo": first, "hi": last, "site": site}).scalar_one())
        return total

    def _scan(self) -> tuple[str, str, str]:
        """The table a report scans, its site condition and its time expression (epoch seconds)."""
        if self.projected and self.log.projection is not None:
            return self.log.projection, "site = :site AND", "ts"
        where = "" if self.log.site_column is None else f"{self.log.site_column} = :site AND"
        return self.log.table, where, self._sql.epoch("at")

    def first_seq_at(self, conn: Connection, site: str, ts: float) -> int:
        """The seq of the first event at or after epoch ``ts`` (one past the last if none)."""
        table, where, epoch = self._scan()
        # min() and max() in two statements: SQLite answers each from the key, both at once by a scan.
        only = f"WHERE {where.removesuffix(' AND')}" if where else ""
        lowest, highest = (
            conn.execute(sa.text(f"SELECT {fn}(seq) FROM {table} {only}"), {"site": site}).scalar()
            for fn in ("min", "max")
        )
        if lowest is None or highest is None:
            return 1
        lo, hi = int(lowest), int(highest) + 1
        probe = sa.text(f"SELECT seq, {epoch} FROM {table} WHERE {where} seq >= :s ORDER BY seq LIMIT 1")
        while lo < hi:
            mid = (lo + hi) // 2
            row = conn.execute(probe, {"s": mid, "site": site}).first()
            if row is None or float(row[1]) >= ts:
                hi = mid
            else:
                lo = int(row[0]) + 1
        return lo

    def _rows(
        self, conn: Connection, site: str, where: str, params: dict[str, Any], types: Sequence[str] = TYPES
    ) -> list[Row]:
        """Rows straight from the driver's cursor: plain tuples, no per-row object but the ``Row``."""
        wanted = ", ".join(f"'{t}'" for t in types)
        if self.projected and self.log.projection is not None:
            columns = ", ".join(Row._fields)
            # A few types out of a slice (counters and dossiers beside the ticket projection): SQLite
            # would walk the whole slice by seq to skip a sort; the (site, type, seq) index reads only
            # those rows (a year: 0.1 s instead of 0.2 s). PostgreSQL's planner weighs this itself.
            hint = " INDEXED BY report_rows_type" if self._type_index(types) else ""
            text = (
                f"SELECT {columns} FROM {self.log.projection}{hint} WHERE site = :site AND {where}"
                f" AND type IN ({wanted}) ORDER BY seq"
            )
        else:
            site_test = "" if self.log.site_column is None else f"{self.log.site_column} = :site AND"
            text = self.select_sql(f"{self.log.table} WHERE {site_test} {where} AND type IN ({wanted})")
            text += " ORDER BY seq"
        driver = conn.connection.driver_connection
        # The projections' plain columns come in binary from PostgreSQL (decoded in a third of the time).
        binary = self._sql.postgres and self.projected and self.log.projection is not None
        cursor = driver.cursor(binary=True) if binary else driver.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(self.driver_sql(text), {**params, "site": site})
            return list(map(Row._make, cursor))  # no intermediate list of a million tuples
        finally:
            cursor.close()

    def _type_index(self, types: Sequence[str]) -> bool:
        """Whether to read ``types`` through SQLite's ``report_rows_type`` index (a few of them)."""
        return len(types) < len(TYPES) and not self._sql.postgres and self.log.projection == "report_rows"

    def select_sql(self, source: str) -> str:
        """SELECT of the ``Row`` columns from ``source`` (``events WHERE ...``), the JSON fields picked
        out by the database; parameters are written ``:name`` (see ``driver_sql``)."""
        sql = self._sql
        columns = ", ".join(sql.case(name, mapping) for name, mapping in _COLUMNS)
        if sql.postgres:
            source = f"(SELECT seq, at, type, data::jsonb AS j FROM {source}) AS e"
        return f"SELECT CAST(:site AS TEXT), seq, {sql.epoch('at')}, type, {columns} FROM {source}"

    def driver_sql(self, text: str) -> str:
        """``:name`` parameters as the driver wants them (psycopg: ``%(name)s``)."""
        if not self._sql.postgres:
            return text
        for name in ("lo", "hi", "site", "after", "upto"):
            text = text.replace(f":{name}", f"%({name})s")
        return text


def _sqlite_reader(dbapi_conn: Any, _record: Any) -> None:
    """A reader never writes, waits a little for a checkpoint, and lets SQLAlchemy begin transactions."""
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA busy_timeout = 5000")
    cursor.execute("PRAGMA query_only = ON")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN")


def _sqlite_writer(dbapi_conn: Any, _record: Any) -> None:
    """The projection's writer waits for the queue worker's transactions like any writer."""
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA busy_timeout = 10000")
    cursor.close()


def _sqlite_begin_immediate(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")
