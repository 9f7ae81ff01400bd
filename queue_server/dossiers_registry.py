"""Dossiers received at the counters: their codes, appointment dates and status (pure, no I/O).

Like the queue engine, the registry decides (returns events) and applies (changes state); the server
appends the events to the same hash-chained log. Event types:

- ``dossier_received``: code, procedure, days, counter, ticket, received_at, due_at, provisional
- ``dossier_status``: code, status

A dossier code is ``{agency}-{yymmdd}-{sequence}``; when the counter does not bring one (the province's
system is down, or the centre allocates its own), the next sequence of the site's agency for the day
of receipt is allocated here, so two counters can never get the same code. No personal data is kept.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bus import models as m
from queue_server.calendar import CalendarError, WorkingCalendar
from queue_server.engine import Event, Refused

EVENT_TYPES = frozenset({"dossier_received", "dossier_status", "dossier_files_deleted"})
#: ``dossier_files_deleted`` records that the scanned files of a dossier left the store (deletion
#: command or retention, ``queue_server/dossier_cli.py``); the dossier's status is unchanged.

STATUS_VI = {
    m.DossierStatus.RECEIVED: "Đã tiếp nhận",
    m.DossierStatus.PROCESSING: "Đang giải quyết",
    m.DossierStatus.SUPPLEMENT: "Cần bổ sung hồ sơ",
    m.DossierStatus.READY: "Đã có kết quả, mời nhận",
    m.DossierStatus.RETURNED: "Đã trả kết quả",
    m.DossierStatus.REJECTED: "Từ chối giải quyết",
}
FINAL = {m.DossierStatus.RETURNED, m.DossierStatus.REJECTED}


@dataclass
class Dossier:
    code: str
    procedure: str
    status: m.DossierStatus
    received_at: datetime
    due_at: datetime
    provisional: bool

    def info(self) -> m.DossierInfo:
        return m.DossierInfo(
            code=self.code,
            procedure=self.procedure,
            status=self.status,
            received_at=self.received_at,
            due_at=self.due_at,
            provisional=self.provisional,
        )


class DossierRegistry:
    def __init__(self, calendar: WorkingCalendar, agency: str | None) -> None:
        self.calendar = calendar
        self.agency = agency
        self.dossiers: dict[str, Dossier] = {}
        self._last_sequence: dict[str, int] = {}

    def register(self, request: m.RegisterDossier, at: datetime) -> list[Event]:
        local = at.astimezone(self.calendar.tz)
        code = request.code or self._allocate(local)
        if code in self.dossiers:
            raise Refused(
                "bad_request", f"Mã hồ sơ {code} đã được tiếp nhận.", f"dossier {code} is already registered"
            )
        try:
            appointment = self.calendar.due_at(local, request.days, request.procedure)
        except CalendarError as err:
            raise Refused("bad_request", f"Không tính được ngày hẹn trả: {err}", str(err)) from err
        data = {
            "code": code,
            "procedure": request.procedure,
            "days": request.days,
            "counter": request.counter,
            "ticket": request.ticket,
            "received_at": local.isoformat(),
            "due_at": appointment.due.isoformat(),
            "provisional": appointment.provisional,
        }
        return [Event("dossier_received", data, at)]

    def update(self, request: m.UpdateDossier, at: datetime) -> list[Event]:
        dossier = self.dossiers.get(request.code)
        if dossier is None:
            raise Refused("unknown_dossier", f"Không có hồ sơ {request.code}.", f"no dossier {request.code}")
        if dossier.status in FINAL:
            raise Refused(
                "not_allowed",
                f"Hồ sơ {request.code} đã kết thúc ({STATUS_VI[dossier.status]}).",
                f"dossier {request.code} is already {dossier.status}",
            )
        return [Event("dossier_status", {"code": request.code, "status": str(request.status)}, at)]

    def apply(self, event: Event) -> None:
        data = event.data
        code = str(data["code"])
        if event.type == "dossier_received":
            self.dossiers[code] = Dossier(
                code=code,
                procedure=str(data["procedure"]),
                status=m.DossierStatus.RECEIVED,
                received_at=datetime.fromisoformat(str(data["received_at"])),
                due_at=datetime.fromisoformat(str(data["due_at"])),
                provisional=bool(data["provisional"]),
            )
            prefix, _, sequence = code.rpartition("-")
            self._last_sequence[prefix] = max(self._last_sequence.get(prefix, 0), int(sequence))
        elif event.type == "dossier_status":
            self.dossiers[code].status = m.DossierStatus(str(data["status"]))
        elif event.type == "dossier_files_deleted":
            return  # the audit trail of the store's files; nothing to keep in memory
        else:
            raise ValueError(f"not a dossier event: {event.type!r}")

    def _allocate(self, local: datetime) -> str:
        if self.agency is None:
            raise Refused(
                "bad_request",
                "Trung tâm chưa khai báo mã cơ quan (site.agency_code) nên không cấp được mã hồ sơ.",
                "the site has no agency_code, so the server cannot allocate dossier codes; send one",
            )
        prefix = f"{self.agency}-{local:%y%m%d}"
        return f"{prefix}-{self._last_sequence.get(prefix, 0) + 1:04d}"
