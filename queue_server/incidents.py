"""Every device's incidents kept in the store, written off the queue worker's path.

The device registry turns each status or availability change into incidents that open (a code that
was not there: ``offline``, ``paper_near_end``, ``paper_out``, ``cutter_error``, ``paper_jam`` ...) and
close (a code that went away). It only puts them on a queue: :class:`DeviceRecorder`'s own thread
writes them to ``device_incidents`` (and the paper of each roll to ``printer_paper``) on its own
connections, then hands each incident to the alerts. The MQTT thread never waits for the database,
and the queue worker never sees any of it. A store that fails is logged and the thread goes on.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict
from sqlalchemy.exc import SQLAlchemyError

from queue_server.db import Store
from queue_server.device_texts import code_vi
from queue_server.schema import device_incidents, printer_paper

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IncidentChange:
    """Incident ``code`` of ``device_id`` opened (or closed) at ``at``."""

    device_id: str
    code: str
    opened: bool
    at: datetime


@dataclass(frozen=True)
class PaperSaved:
    device_id: str
    roll_since: datetime
    used_mm: float
    at: datetime


class IncidentView(BaseModel):
    """One incident of one device, as the dashboard lists them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    device_id: str
    code: str
    text: str
    started_at: datetime
    ended_at: datetime | None = None
    duration_s: float | None = None


class IncidentLog:
    """The ``device_incidents`` and ``printer_paper`` tables."""

    def __init__(self, store: Store) -> None:
        self.engine = store.engine

    def open_rows(self) -> list[tuple[str, str, datetime]]:
        """Incidents still open in the store (the server stopped before they closed): device, code, start."""
        columns = device_incidents.c
        query = sa.select(columns.device_id, columns.code, columns.started_at).where(
            columns.ended_at.is_(None)
        )
        with self.engine.connect() as conn:
            return [(d, code, datetime.fromisoformat(at)) for d, code, at in conn.execute(query)]

    def open_codes(self) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for device_id, code, _ in self.open_rows():
            found.setdefault(device_id, set()).add(code)
        return found

    def record(self, change: IncidentChange) -> None:
        with self.engine.begin() as conn:
            if change.opened:
                conn.execute(
                    device_incidents.insert().values(
                        device_id=change.device_id, code=change.code, started_at=change.at.isoformat()
                    )
                )
                return
            rows = conn.execute(
                sa.select(device_incidents.c.id, device_incidents.c.started_at).where(
                    device_incidents.c.device_id == change.device_id,
                    device_incidents.c.code == change.code,
                    device_incidents.c.ended_at.is_(None),
                )
            ).all()
            for row_id, started in rows:
                duration = max(0.0, (change.at - datetime.fromisoformat(started)).total_seconds())
                conn.execute(
                    device_incidents.update()
                    .where(device_incidents.c.id == row_id)
                    .values(ended_at=change.at.isoformat(), duration_s=round(duration, 1))
                )

    def save_paper(self, paper: PaperSaved) -> None:
        values = {
            "roll_since": paper.roll_since.isoformat(),
            "used_mm": paper.used_mm,
            "updated_at": paper.at.isoformat(),
        }
        with self.engine.begin() as conn:
            updated = conn.execute(
                printer_paper.update().where(printer_paper.c.device_id == paper.device_id).values(**values)
            )
            if updated.rowcount == 0:
                conn.execute(printer_paper.insert().values(device_id=paper.device_id, **values))

    def papers(self) -> dict[str, tuple[datetime, float]]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(printer_paper)).all()
        return {r.device_id: (datetime.fromisoformat(r.roll_since), r.used_mm) for r in rows}

    def recent(self, device_id: str | None = None, limit: int = 200) -> list[IncidentView]:
        """The latest incidents, newest first (of one device when ``device_id`` is given)."""
        query = sa.select(device_incidents).order_by(device_incidents.c.id.desc()).limit(limit)
        if device_id is not None:
            query = query.where(device_incidents.c.device_id == device_id)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            IncidentView(
                device_id=r.device_id,
                code=r.code,
                text=code_vi(r.code),
                started_at=datetime.fromisoformat(r.started_at),
                ended_at=datetime.fromisoformat(r.ended_at) if r.ended_at else None,
                duration_s=r.duration_s,
            )
            for r in rows
        ]


Work = IncidentChange | PaperSaved | Callable[[], None] | None


class DeviceRecorder:
    """The thread that writes incidents and paper to the store, then tells the alerts."""

    def __init__(
        self, log_: IncidentLog, on_incident: Callable[[IncidentChange], None] | None = None
    ) -> None:
        self.log = log_
        self.on_incident = on_incident
        self._queue: queue.Queue[Work] = queue.Queue(maxsize=10_000)
        self._thread = threading.Thread(target=self._run, name="device-recorder", daemon=True)
        self.written = 0

    def start(self) -> DeviceRecorder:
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self.put(None)
        self._thread.join(timeout)

    def put(self, work: Work) -> None:
        try:
            self._queue.put_nowait(work)
        except queue.Full:
            log.error("device recorder is %d changes behind; a change was dropped", self._queue.qsize())

    def barrier(self, timeout: float = 10.0) -> bool:
        """Wait until everything put before this call is written (tests, shutdown)."""
        done = threading.Event()
        self.put(done.set)
        return done.wait(timeout)

    def _run(self) -> None:
        while True:
            work = self._queue.get()
            if work is None:
                return
            try:
                self._do(work)
            except SQLAlchemyError as err:
                log.error("device history not written: %s", type(err).__name__)
            except Exception:
                log.exception("device recorder: a change failed")

    def _do(self, work: IncidentChange | PaperSaved | Callable[[], None]) -> None:
        if isinstance(work, IncidentChange):
            self.log.record(work)
            self.written += 1
            if self.on_incident is not None:
                self.on_incident(work)
        elif isinstance(work, PaperSaved):
            self.log.save_paper(work)
        else:
            work()
