"""SQLite persistence of tickets, calls and answered requests.

Every request runs in one transaction that also stores the response it produced, keyed by the
request id: a retried request gets the committed answer again instead of a second ticket, and no
answer is published before its commit. (The hash-chained event log and PostgreSQL support are the
queue-server issue's work; this store is the first slice.)
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS tickets (
    id INTEGER PRIMARY KEY,
    business_day TEXT NOT NULL,
    service TEXT NOT NULL,
    number TEXT NOT NULL,
    seq INTEGER NOT NULL,
    token TEXT NOT NULL UNIQUE,
    issued_at TEXT NOT NULL,
    status TEXT NOT NULL,
    counter INTEGER,
    called_at TEXT,
    UNIQUE (business_day, service, seq)
);
CREATE INDEX IF NOT EXISTS tickets_waiting ON tickets (business_day, status, service, id);
CREATE TABLE IF NOT EXISTS counters (
    number INTEGER PRIMARY KEY,
    status TEXT NOT NULL,
    current_ticket INTEGER REFERENCES tickets (id),
    call_seq INTEGER
);
CREATE TABLE IF NOT EXISTS responses (
    request_id TEXT PRIMARY KEY,
    payload BLOB NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


class StoreError(Exception):
    """The database cannot be used as configured."""


class TicketStatus(StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    DONE = "done"


@dataclass(frozen=True)
class StoredTicket:
    id: int
    business_day: str
    service: str
    number: str
    seq: int
    token: str
    issued_at: datetime
    status: TicketStatus
    counter: int | None


def _ticket(row: sqlite3.Row) -> StoredTicket:
    return StoredTicket(
        id=row["id"],
        business_day=row["business_day"],
        service=row["service"],
        number=row["number"],
        seq=row["seq"],
        token=row["token"],
        issued_at=datetime.fromisoformat(row["issued_at"]),
        status=TicketStatus(row["status"]),
        counter=row["counter"],
    )


class Transaction:
    """Operations inside one SQLite transaction; obtained from ``TicketStore.transaction``."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def response_for(self, request_id: str) -> bytes | None:
        row = self.db.execute("SELECT payload FROM responses WHERE request_id = ?", (request_id,)).fetchone()
        return None if row is None else bytes(row["payload"])

    def save_response(self, request_id: str, payload: bytes, at: datetime) -> None:
        self.db.execute(
            "INSERT INTO responses (request_id, payload, created_at) VALUES (?, ?, ?)",
            (request_id, payload, at.isoformat()),
        )

    def issued_today(self, day: date, service: str) -> int:
        row = self.db.execute(
            "SELECT COUNT(*) AS n FROM tickets WHERE business_day = ? AND service = ?",
            (day.isoformat(), service),
        ).fetchone()
        return int(row["n"])

    def insert_ticket(
        self, day: date, service: str, *, number: str, seq: int, token: str, at: datetime
    ) -> int:
        cur = self.db.execute(
            "INSERT INTO tickets (business_day, service, number, seq, token, issued_at, status)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (day.isoformat(), service, number, seq, token, at.isoformat(), TicketStatus.WAITING),
        )
        assert cur.lastrowid is not None
        return cur.lastrowid

    def waiting(self, day: date, services: list[str]) -> list[StoredTicket]:
        marks = ",".join("?" * len(services))
        rows = self.db.execute(
            "SELECT * FROM tickets WHERE business_day = ? AND status = ?"
            f" AND service IN ({marks}) ORDER BY id",
            (day.isoformat(), TicketStatus.WAITING, *services),
        ).fetchall()
        return [_ticket(r) for r in rows]

    def ticket(self, ticket_id: int) -> StoredTicket:
        return _ticket(self.db.execute("SELECT * FROM tickets WHERE id = ?", (ticket_id,)).fetchone())

    def last_issued(self, day: date, service: str) -> StoredTicket | None:
        row = self.db.execute(
            "SELECT * FROM tickets WHERE business_day = ? AND service = ? ORDER BY id DESC LIMIT 1",
            (day.isoformat(), service),
        ).fetchone()
        return None if row is None else _ticket(row)

    def last_called(self, day: date, service: str) -> StoredTicket | None:
        row = self.db.execute(
            "SELECT * FROM tickets WHERE business_day = ? AND service = ? AND called_at IS NOT NULL"
            " ORDER BY called_at DESC, id DESC LIMIT 1",
            (day.isoformat(), service),
        ).fetchone()
        return None if row is None else _ticket(row)

    def mark_called(self, ticket_id: int, counter: int, at: datetime) -> None:
        self.db.execute(
            "UPDATE tickets SET status = ?, counter = ?, called_at = ? WHERE id = ?",
            (TicketStatus.CALLED, counter, at.isoformat(), ticket_id),
        )

    def mark_done(self, ticket_id: int) -> None:
        self.db.execute("UPDATE tickets SET status = ? WHERE id = ?", (TicketStatus.DONE, ticket_id))

    def counter(self, number: int) -> tuple[str, int | None, int | None]:
        row = self.db.execute("SELECT * FROM counters WHERE number = ?", (number,)).fetchone()
        if row is None:
            return ("open", None, None)
        return (row["status"], row["current_ticket"], row["call_seq"])

    def set_counter(self, number: int, status: str, current: int | None, call_seq: int | None) -> None:
        self.db.execute(
            "INSERT INTO counters (number, status, current_ticket, call_seq) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (number) DO UPDATE SET status = excluded.status,"
            " current_ticket = excluded.current_ticket, call_seq = excluded.call_seq",
            (number, status, current, call_seq),
        )

    def next_call_seq(self) -> int:
        row = self.db.execute("SELECT value FROM meta WHERE key = 'call_seq'").fetchone()
        seq = 1 if row is None else int(row["value"]) + 1
        self.db.execute(
            "INSERT INTO meta (key, value) VALUES ('call_seq', ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (seq,),
        )
        return seq


class TicketStore:
    """One SQLite database in WAL mode, used from the server's message thread."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = FULL")
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, base: Path | None = None) -> TicketStore:
        """Open ``sqlite:///relative/path.db`` (relative to ``base``) or ``sqlite:////absolute.db``."""
        if not url.startswith("sqlite:///"):
            raise StoreError(f"database URL {url!r}: only sqlite:/// is supported by this store so far")
        path = Path(url.removeprefix("sqlite:///"))
        return cls(path if path.is_absolute() or base is None else base / path)

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield Transaction(self._db)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def close(self) -> None:
        self._db.close()
