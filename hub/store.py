"""The hub's PostgreSQL store: every centre's events, kept-aside events, tickets, retained state, users.

URL: ``postgresql+psycopg://USER@HOST:PORT/DB[?options=-csearch_path%3DSCHEMA]`` (the SQLAlchemy form the
centres use; the hub talks to psycopg 3 directly because its hot path is ``COPY``).

Events are unique by (site, seq). The ingest keeps each centre's verified head in memory and appends
only the events that extend it, so a resent event never reaches the table; the primary key makes a
second hub process on the same database fail loudly rather than duplicate (the ingest also holds an
advisory lock). ``hub_events`` is partitioned by hash of the site when asked (``partitions``), the
layout ``bench/province_hub.py`` measures against a plain table.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
import sqlalchemy as sa
from sqlalchemy.exc import ArgumentError

from hub import HubError
from hub.follow import ShippedEvent
from hub.tickets import COLUMNS, OPEN, TicketFold

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
_INGEST_LOCK = 0x6875625F  # "hub_": with the schema's name, one ingest process per hub schema
EVENT_COLUMNS = ("site", "seq", "at", "type", "data", "request_id", "prev_hash", "hash")

# The reports' projections (as a centre's migrations 0002 and 0006 make them), kept per site by the
# reporting module on its own connection (queue_server/reports/projection.py and tickets.py).
_REPORT_TABLES = """
CREATE TABLE IF NOT EXISTS report_rows (
    site text NOT NULL, seq bigint NOT NULL, ts float8 NOT NULL, type text NOT NULL, key text,
    counter integer, officer text, text text, number float8, time float8, extra text, flag text,
    priority text, code text, PRIMARY KEY (site, seq));
CREATE INDEX IF NOT EXISTS report_rows_type ON report_rows (site, type, seq);
CREATE INDEX IF NOT EXISTS report_rows_key ON report_rows (site, key);
CREATE TABLE IF NOT EXISTS report_tickets (
    site text NOT NULL, id text NOT NULL, day text NOT NULL, issued_seq bigint NOT NULL,
    last_ts float8 NOT NULL, code text NOT NULL, service text NOT NULL, priority text,
    rules_version text NOT NULL, offline integer NOT NULL, issued_ts float8 NOT NULL, estimate_s float8,
    status text NOT NULL, current text NOT NULL, first_call_ts float8, waited_s float8,
    served integer NOT NULL, no_shows integer NOT NULL, transfers integer NOT NULL,
    parks integer NOT NULL, cancelled integer NOT NULL, rating_score integer, rating_scale integer,
    rating_counter integer, rating_officer text, call_counter integer, call_officer text,
    call_service text, call_service_s float8, more_calls text, in_ts float8 NOT NULL, out_seq bigint,
    out_ts float8, more_moves text, PRIMARY KEY (site, id));
CREATE INDEX IF NOT EXISTS report_tickets_issued ON report_tickets (site, issued_seq);
CREATE INDEX IF NOT EXISTS report_tickets_day ON report_tickets (site, day);
CREATE TABLE IF NOT EXISTS report_ticket_marks (
    site text PRIMARY KEY, seq bigint NOT NULL, max_ts float8 NOT NULL, regular integer NOT NULL);
CREATE TABLE IF NOT EXISTS report_time_steps (
    site text NOT NULL, seq bigint NOT NULL, PRIMARY KEY (site, seq));
"""

_TABLES = (
    """
CREATE TABLE IF NOT EXISTS hub_meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS hub_sites (
    site text PRIMARY KEY, name text NOT NULL,
    head_seq bigint NOT NULL DEFAULT 0, head_hash text NOT NULL DEFAULT repeat('0', 64),
    broken_seq bigint, problem text, held integer NOT NULL DEFAULT 0,
    centre_seq bigint NOT NULL DEFAULT 0, centre_ts timestamptz, last_heard timestamptz,
    link text NOT NULL DEFAULT 'unknown', backfill_from bigint, backfill_at timestamptz);
CREATE TABLE IF NOT EXISTS hub_held (
    site text NOT NULL, seq bigint NOT NULL, hash text NOT NULL, problem text NOT NULL,
    event text NOT NULL, received_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (site, seq, hash));
CREATE TABLE IF NOT EXISTS hub_tickets (
    site text NOT NULL, ticket_id text NOT NULL, day text, service text, status text,
    issued_at timestamptz, called_at timestamptz, finished_at timestamptz,
    counter integer, score integer, scale integer, PRIMARY KEY (site, ticket_id));
CREATE INDEX IF NOT EXISTS hub_tickets_day ON hub_tickets (day, site);
CREATE INDEX IF NOT EXISTS hub_tickets_waiting ON hub_tickets (site, issued_at) WHERE status = 'waiting';
CREATE TABLE IF NOT EXISTS hub_state (
    site text NOT NULL, leaf text NOT NULL, payload text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (site, leaf));
CREATE TABLE IF NOT EXISTS hub_users (
    username text PRIMARY KEY, province text NOT NULL, role text NOT NULL, hash text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS hub_sessions (
    token_hash text PRIMARY KEY, username text NOT NULL REFERENCES hub_users ON DELETE CASCADE,
    csrf text NOT NULL, expires_at timestamptz NOT NULL);
"""
    + _REPORT_TABLES
)
_EVENTS = """CREATE TABLE IF NOT EXISTS hub_events (
    site text NOT NULL, seq bigint NOT NULL, at text NOT NULL, type text NOT NULL, data text NOT NULL,
    request_id text, prev_hash text NOT NULL, hash text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (site, seq)){partition}"""

# Ticket rows of a batch go in by COPY to a temporary table, then one upsert keeps what a row lacks.
_TICKETS_IN = "CREATE TEMP TABLE IF NOT EXISTS hub_tickets_in (LIKE hub_tickets) ON COMMIT DELETE ROWS"
_COPY_TICKETS = "COPY hub_tickets_in (site, ticket_id, " + ", ".join(COLUMNS) + ") FROM STDIN"
_UPSERT_TICKETS = (
    "INSERT INTO hub_tickets SELECT * FROM hub_tickets_in ON CONFLICT (site, ticket_id) DO UPDATE SET "
    + ", ".join(f"{c} = COALESCE(EXCLUDED.{c}, hub_tickets.{c})" for c in COLUMNS)
)
_EXPIRE_DAY = "UPDATE hub_tickets SET status = 'expired' WHERE site = %s AND day = %s AND status = ANY(%s)"
_HOLD = (
    "INSERT INTO hub_held (site, seq, hash, problem, event) VALUES (%s, %s, %s, %s, %s) "
    "ON CONFLICT DO NOTHING"
)


class HubStoreError(HubError):
    """The hub database cannot be used as asked; names the database and the problem."""


@dataclass(frozen=True)
class SiteHead:
    """What the hub holds of one centre's chain."""

    site: str
    seq: int
    hash: str
    broken: tuple[int, str] | None


@dataclass
class WriteBatch:
    """One transaction's worth of ingest: accepted events, kept-aside events, the tickets they touch."""

    events: list[tuple[str, ShippedEvent]]
    held: list[tuple[str, ShippedEvent, str]]
    tickets: TicketFold
    heads: dict[str, tuple[int, str, tuple[int, str] | None]]


def conninfo(url: str) -> tuple[str, str]:
    """The psycopg connection string of a SQLAlchemy-style URL, and the URL to show (no password)."""
    try:
        parsed = sa.make_url(url)
    except ArgumentError:
        raise HubStoreError(
            f"database URL {url!r} is not a URL: use postgresql+psycopg://USER@HOST/DB"
        ) from None
    if parsed.get_backend_name() != "postgresql":
        raise HubStoreError(f"database URL {url!r}: the hub needs PostgreSQL (postgresql+psycopg://...)")
    shown = parsed.render_as_string(hide_password=True)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False), shown


class HubStore:
    """Open with ``HubStore.open(url)``; ``create()`` makes the tables (idempotent)."""

    def __init__(self, info: str, shown: str) -> None:
        self._info = info
        self.url = shown

    @classmethod
    def open(cls, url: str) -> HubStore:
        store = cls(*conninfo(url))
        with store.connect():
            pass
        return store

    @contextmanager
    def connect(self, autocommit: bool = False) -> Iterator[psycopg.Connection[Any]]:
        try:
            conn = psycopg.connect(self._info, autocommit=autocommit, connect_timeout=10)
        except psycopg.Error as err:
            raise HubStoreError(f"cannot open the hub database {self.url}: {_first_line(err)}") from err
        try:
            with conn:
                yield conn
        except psycopg.Error as err:
            raise HubStoreError(f"hub database {self.url}: {_first_line(err)}") from err

    def create(self, partitions: int = 0) -> None:
        """Make the tables; ``partitions`` > 0 splits the events by hash of the site into that many."""
        partition = " PARTITION BY HASH (site)" if partitions else ""
        with self.connect() as conn:
            conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(current_schema()))", (_INGEST_LOCK + 1,))
            conn.execute(_TABLES)
            conn.execute(_EVENTS.format(partition=partition))
            for n in range(partitions):
                conn.execute(
                    f"CREATE TABLE IF NOT EXISTS hub_events_p{n} PARTITION OF hub_events "
                    f"FOR VALUES WITH (MODULUS {partitions}, REMAINDER {n})"
                )
            conn.execute(
                "INSERT INTO hub_meta VALUES ('schema', %s) ON CONFLICT (key) DO NOTHING",
                (str(SCHEMA_VERSION),),
            )

    def register(self, centres: Iterable[tuple[str, str]]) -> None:
        """Add the configured centres (site, name); a renamed centre keeps its chain."""
        with self.connect() as conn, conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO hub_sites (site, name) VALUES (%s, %s) "
                "ON CONFLICT (site) DO UPDATE SET name = EXCLUDED.name",
                list(centres),
            )

    def heads(self) -> dict[str, SiteHead]:
        with self.connect() as conn:
            rows = conn.execute(
                "SELECT site, head_seq, head_hash, broken_seq, problem FROM hub_sites"
            ).fetchall()
        return {
            r[0]: SiteHead(r[0], r[1], r[2], None if r[3] is None else (int(r[3]), str(r[4]))) for r in rows
        }

    def write(self, conn: psycopg.Connection[Any], batch: WriteBatch) -> None:
        """Store one batch in the caller's transaction: events by COPY, then tickets and heads."""
        with conn.cursor() as cur:
            if batch.events:
                with cur.copy("COPY hub_events (" + ", ".join(EVENT_COLUMNS) + ") FROM STDIN") as copy:
                    for site, e in batch.events:
                        copy.write_row((site, e.seq, e.at, e.type, e.data, e.request_id, e.prev_hash, e.hash))
            if batch.held:
                cur.executemany(_HOLD, [(s, e.seq, e.hash, p, _event_text(e)) for s, e, p in batch.held])
            if batch.tickets.rows:
                cur.execute(_TICKETS_IN)
                with cur.copy(_COPY_TICKETS) as copy:
                    for (site, ticket), row in batch.tickets.rows.items():
                        copy.write_row((site, ticket, *(row[c] for c in COLUMNS)))
                cur.execute(_UPSERT_TICKETS)
            for site, day in batch.tickets.closed_days:
                cur.execute(_EXPIRE_DAY, (site, day, list(OPEN)))
            self._write_heads(cur, batch)

    def _write_heads(self, cur: psycopg.Cursor[Any], batch: WriteBatch) -> None:
        """Each touched centre's head, break, and how many distinct events it has kept aside."""
        cur.executemany(
            "UPDATE hub_sites SET head_seq = %s, head_hash = %s, broken_seq = %s, problem = %s, "
            "held = (SELECT count(*) FROM hub_held h WHERE h.site = hub_sites.site), last_heard = now() "
            "WHERE site = %s",
            [
                (seq, digest, broken[0] if broken else None, broken[1] if broken else None, site)
                for site, (seq, digest, broken) in batch.heads.items()
            ],
        )

    def stored_hashes(self, conn: psycopg.Connection[Any], site: str, seqs: list[int]) -> dict[int, str]:
        rows = conn.execute(
            "SELECT seq, hash FROM hub_events WHERE site = %s AND seq = ANY(%s)", (site, seqs)
        ).fetchall()
        return {int(r[0]): str(r[1]) for r in rows}

    def lock_ingest(self, conn: psycopg.Connection[Any]) -> bool:
        """Take the session lock that makes this the one ingest of the database."""
        row = conn.execute(
            "SELECT pg_try_advisory_lock(%s, hashtext(current_schema()))", (_INGEST_LOCK,)
        ).fetchone()
        return bool(row and row[0])

    def events(self, site: str, after_seq: int = 0, limit: int = 10_000) -> list[ShippedEvent]:
        with self.connect() as conn:
            rows = conn.execute(
                "SELECT seq, at, type, data, request_id, prev_hash, hash FROM hub_events "
                "WHERE site = %s AND seq > %s ORDER BY seq LIMIT %s",
                (site, after_seq, limit),
            ).fetchall()
        return [ShippedEvent(*r) for r in rows]


def _event_text(event: ShippedEvent) -> str:
    import json

    return json.dumps(event.to_json(), ensure_ascii=False, sort_keys=True)


def _first_line(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]
