"""The print service's on-disk job spool: one SQLite file per printer, surviving a restart.

Row states and their transitions (one place, see :data:`TRANSITIONS`)::

    queued  --all bytes written-->   sent      --GS r 1 answered-->  printed
    queued  --cannot print by its deadline-->  failed
    sent    --paper ran out (the page was torn off)-->  queued      (printed again after recovery)
    sent    --no confirmation, printer silent-->  failed (code "unconfirmed": never printed twice)

A job id is stored once: a redelivered command finds its row and is answered from it. The command JSON
(which for a receipt holds the applicant's name) is kept only while the job is open and cleared when it
reaches ``printed`` or ``failed``; the row keeps only the id, state, byte count and reason.
"""

from __future__ import annotations

import enum
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from printer.errors import PrinterError

KEEP_FINISHED = 2048


class JobState(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    PRINTED = "printed"
    FAILED = "failed"


TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    JobState.QUEUED: frozenset({JobState.SENT, JobState.FAILED}),
    JobState.SENT: frozenset({JobState.PRINTED, JobState.QUEUED, JobState.FAILED}),
    JobState.PRINTED: frozenset(),
    JobState.FAILED: frozenset(),
}


class SpoolError(PrinterError):
    """A transition the state machine does not allow, or a job id the spool does not hold."""


@dataclass(frozen=True)
class SpooledJob:
    job_id: str
    state: JobState
    command: str | None
    bytes_sent: int
    reason: str | None
    code: str | None

    @property
    def finished(self) -> bool:
        return self.state in (JobState.PRINTED, JobState.FAILED)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL,
    command TEXT,
    bytes_sent INTEGER NOT NULL DEFAULT 0,
    reason TEXT,
    code TEXT,
    updated REAL NOT NULL
)
"""


class JobSpool:
    """Jobs by id, in arrival order; ``path`` may be ``":memory:"`` (no restart survival)."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.path = str(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute(
            "PRAGMA journal_mode=WAL" if self.path != ":memory:" else "PRAGMA journal_mode=MEMORY"
        )
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(_SCHEMA)

    def add(self, job_id: str, command: str) -> SpooledJob | None:
        """Store a new job as ``queued`` and return None; if the id is known, return its row unchanged."""
        with self._lock:
            existing = self._get(job_id)
            if existing is not None:
                return existing
            self._db.execute(
                "INSERT INTO jobs (job_id, state, command, updated) VALUES (?, ?, ?, ?)",
                (job_id, JobState.QUEUED.value, command, time.time()),
            )
            return None

    def get(self, job_id: str) -> SpooledJob | None:
        with self._lock:
            return self._get(job_id)

    def move(
        self,
        job_id: str,
        state: JobState,
        *,
        bytes_sent: int = 0,
        reason: str | None = None,
        code: str | None = None,
    ) -> SpooledJob:
        """Change a job's state (checked against :data:`TRANSITIONS`); finished jobs lose their command."""
        with self._lock:
            job = self._get(job_id)
            if job is None:
                raise SpoolError(f"job {job_id} is not in the spool {self.path}")
            if state not in TRANSITIONS[job.state]:
                raise SpoolError(f"job {job_id} cannot go from {job.state} to {state}")
            finished = state in (JobState.PRINTED, JobState.FAILED)
            self._db.execute(
                "UPDATE jobs SET state = ?, bytes_sent = ?, reason = ?, code = ?, updated = ?,"
                " command = CASE WHEN ? THEN NULL ELSE command END WHERE job_id = ?",
                (state.value, bytes_sent, reason, code, time.time(), finished, job_id),
            )
            if finished:
                self._prune()
            moved = self._get(job_id)
            assert moved is not None
            return moved

    def open_jobs(self) -> list[SpooledJob]:
        """Jobs not yet printed or failed, oldest first (what a restarted service takes up again)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT job_id, state, command, bytes_sent, reason, code FROM jobs"
                " WHERE state IN (?, ?) ORDER BY seq",
                (JobState.QUEUED.value, JobState.SENT.value),
            ).fetchall()
        return [_row(r) for r in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _get(self, job_id: str) -> SpooledJob | None:
        row = self._db.execute(
            "SELECT job_id, state, command, bytes_sent, reason, code FROM jobs WHERE job_id = ?", (job_id,)
        ).fetchone()
        return None if row is None else _row(row)

    def _prune(self) -> None:
        self._db.execute(
            "DELETE FROM jobs WHERE state IN (?, ?) AND seq <= (SELECT MAX(seq) FROM jobs) - ?",
            (JobState.PRINTED.value, JobState.FAILED.value, KEEP_FINISHED),
        )


def _row(row: tuple[str, str, str | None, int, str | None, str | None]) -> SpooledJob:
    return SpooledJob(row[0], JobState(row[1]), row[2], row[3], row[4], row[5])
