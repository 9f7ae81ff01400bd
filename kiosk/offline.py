"""The kiosk's offline journal: number blocks reserved in advance and the tickets issued from them.

SQLite file, one per kiosk, written before a ticket is shown or printed, so a ticket issued while the
server is unreachable survives a kiosk restart and reaches the server later. A number is taken from a
block and recorded in one transaction: no number is ever issued twice, even across restarts.

Tables::

    blocks(service, business_day, first, last, next)       PK (service, business_day, first)
    tickets(number PK-with-day, service, business_day, priority, issued_at, token, sent)
"""

from __future__ import annotations

import secrets
import sqlite3
import threading
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from bus import models as m
from kiosk.errors import KioskError, KioskInputError, NumbersExhaustedError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS blocks (
    service TEXT NOT NULL, business_day TEXT NOT NULL, first INTEGER NOT NULL, last INTEGER NOT NULL,
    next INTEGER NOT NULL, PRIMARY KEY (service, business_day, first));
CREATE TABLE IF NOT EXISTS tickets (
    business_day TEXT NOT NULL, number TEXT NOT NULL, service TEXT NOT NULL, priority TEXT,
    issued_at TEXT NOT NULL, token TEXT NOT NULL UNIQUE, sent INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (business_day, number));
"""


class JournalError(KioskError):
    """The offline journal cannot be opened or written."""


@dataclass(frozen=True)
class JournalTicket:
    business_day: date
    ticket: m.OfflineTicket


class OfflineJournal:
    """Reserved blocks and offline tickets of one kiosk, in one SQLite file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        except (OSError, sqlite3.Error) as err:
            raise JournalError(f"cannot open the offline journal {self.path}: {err}") from err
        self._lock = threading.Lock()

    def close(self) -> None:
        self._db.close()

    def add_block(self, block: m.NumberBlock) -> bool:
        """Keep ``block``; return False if it was already known (a repeated answer)."""
        if block.last < block.first:
            raise KioskInputError(f"empty block {block.first}-{block.last} for {block.service}")
        with self._lock:
            cur = self._db.execute(
                "INSERT OR IGNORE INTO blocks VALUES (?, ?, ?, ?, ?)",
                (block.service, block.business_day.isoformat(), block.first, block.last, block.first),
            )
            return cur.rowcount == 1

    def remaining(self, service: str, day: date) -> int:
        """Numbers still free in the blocks of ``service`` for ``day``."""
        with self._lock:
            row = self._db.execute(
                "SELECT COALESCE(SUM(last - next + 1), 0) FROM blocks WHERE service=? AND business_day=?",
                (service, day.isoformat()),
            ).fetchone()
        return int(row[0])

    def issue(
        self, service: str, prefix: str, day: date, at: datetime, priority: str | None
    ) -> m.OfflineTicket:
        """Take the next free number of ``service`` for ``day`` and journal the ticket.

        Raises ``LookupError`` when no reserved number is left.
        """
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                row = self._db.execute(
                    "SELECT first, next FROM blocks WHERE service=? AND business_day=? AND next <= last"
                    " ORDER BY first LIMIT 1",
                    (service, day.isoformat()),
                ).fetchone()
                if row is None:
                    self._db.execute("ROLLBACK")
                    raise NumbersExhaustedError(f"no reserved number left for {service} on {day}")
                first, number = int(row[0]), int(row[1])
                ticket = m.OfflineTicket(
                    number=f"{prefix}{number}",
                    service=service,
                    priority=priority,
                    issued_at=at,
                    token=secrets.token_urlsafe(9),
                )
                self._db.execute(
                    "UPDATE blocks SET next = next + 1 WHERE service=? AND business_day=? AND first=?",
                    (service, day.isoformat(), first),
                )
                self._db.execute(
                    "INSERT INTO tickets (business_day, number, service, priority, issued_at, token)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (day.isoformat(), ticket.number, service, priority, at.isoformat(), ticket.token),
                )
                self._db.execute("COMMIT")
            except sqlite3.Error as err:
                self._db.execute("ROLLBACK")
                raise JournalError(f"cannot journal an offline ticket in {self.path}: {err}") from err
        return ticket

    def unsent(self, limit: int = 1000) -> list[JournalTicket]:
        """Offline tickets the server has not accepted yet, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT business_day, number, service, priority, issued_at, token FROM tickets"
                " WHERE sent = 0 ORDER BY issued_at, number LIMIT ?",
                (limit,),
            ).fetchall()
        return [
            JournalTicket(
                date.fromisoformat(r[0]),
                m.OfflineTicket(
                    number=r[1],
                    service=r[2],
                    priority=r[3],
                    issued_at=datetime.fromisoformat(r[4]),
                    token=r[5],
                ),
            )
            for r in rows
        ]

    def mark_sent(self, day: date, numbers: list[str]) -> int:
        """Mark ``numbers`` of ``day`` as accepted by the server; return how many changed."""
        with self._lock:
            cur = self._db.executemany(
                "UPDATE tickets SET sent = 1 WHERE business_day=? AND number=?",
                [(day.isoformat(), n) for n in numbers],
            )
            return cur.rowcount

    def issued(self, day: date) -> list[str]:
        """Every number issued offline on ``day`` (sent or not)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT number FROM tickets WHERE business_day=? ORDER BY issued_at", (day.isoformat(),)
            ).fetchall()
        return [str(r[0]) for r in rows]
